"""`MLEM`: generative training aligned to a frozen contrastive teacher (arXiv 2401.15935, §3.6)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable, instantiate_class
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.evaluation.geometry import anisotropy
from eventssl.losses.distributed import gather
from eventssl.losses.siglip import SigmoidAlignment
from eventssl.methods.base import SSLModule
from eventssl.methods.checkpoint import load_method, read_checkpoint
from eventssl.methods.contrastive import Contrastive
from eventssl.methods.reconstructor import ReconstructionSettings, Reconstructor
from eventssl.nn.encoder import freeze
from eventssl.nn.sequence_encoder import SequenceEncoder


class MLEM(SSLModule):
    """L = reconstruction + λ · SigLIP(student z, frozen teacher z) on whole sequences.

    The teacher is the encoder of a `Contrastive` checkpoint (stage 1). It is frozen, never in
    the optimizer, computed under no-grad and kept in eval mode through `train()` calls. The
    downstream embedding is the student's. `teacher_ckpt` is read when a fit starts from
    scratch (or by `attach_teacher()`); an MLEM checkpoint carries its teacher (weights, the
    config that rebuilds it and the source file's SHA-256), so predicting, evaluating and
    resuming do not need the teacher's file. Defaults are the paper's: λ = 10 (1000 on
    PhysioNet), t = 10, β = −10, L2-normalised embeddings, Adam lr 3e-3, wd 1e-3 (not applied
    to t and β; see docs/decisions.md).

    Args:
        encoder: the student encoder.
        teacher_ckpt: checkpoint of a `Contrastive` run on the same dataset schema.
        alignment_weight: λ.
        normalize: L2-normalise student and teacher embeddings in the alignment.
    """

    def __init__(
        self,
        encoder: SequenceEncoder,
        teacher_ckpt: str | None = None,
        alignment_weight: float = 10.0,
        normalize: bool = True,
        temperature: float = 10.0,
        bias: float = -10.0,
        reconstruction: ReconstructionSettings = ReconstructionSettings(),
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-3,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.teacher: SequenceEncoder | None = None
        self.teacher_record: dict[str, Any] = {}  # the teacher's encoder config and source
        self.reconstructor = Reconstructor(encoder, reconstruction)
        self.alignment = SigmoidAlignment(temperature, bias, normalize)
        self.validation_embeddings: list[Tensor] | None = None

    def train(self, mode: bool = True) -> MLEM:
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()  # BatchNorm/dropout of the teacher never switch to training
        return self

    def attach_teacher(self) -> None:
        """Load the frozen teacher from `teacher_ckpt` (once).

        Raises:
            FileNotFoundError: no file at `teacher_ckpt`.
            ValueError: no `teacher_ckpt`, or it is not a contrastive model of this schema.
        """
        if self.teacher is not None:
            return
        path = self.hparams.teacher_ckpt
        if not path:
            raise ValueError(
                "MLEM needs model.init_args.teacher_ckpt: the last.ckpt of a Contrastive run"
            )
        self.teacher, config = load_teacher(path, self.encoder)
        self.teacher_record = {"config": config, "source": str(path), "sha256": file_hash(path)}

    def setup(self, stage: str) -> None:
        resuming = self._trainer is not None and self.trainer.ckpt_path
        if stage in ("fit", "validate") and not resuming:
            self.attach_teacher()  # a resumed or validated checkpoint brings its own

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint[TEACHER_KEY] = self.teacher_record

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        record = checkpoint.get(TEACHER_KEY) or {}
        if self.teacher is None and record.get("config"):
            self.teacher = freeze(instantiate_class((), record["config"]))
            self.teacher_record = record
        elif self.teacher is None:  # a checkpoint written before teachers were stored
            self.attach_teacher()

    def parameter_groups(self) -> list[dict]:
        alignment = list(self.alignment.parameters())
        chosen = {id(p) for p in alignment}
        rest = [p for p in self.parameters() if p.requires_grad and id(p) not in chosen]
        return [{"params": rest}, {"params": alignment, "weight_decay": 0.0}]

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        if self.teacher is None:
            raise RuntimeError("MLEM has no teacher: call attach_teacher() or fit with a trainer")
        student, losses = self.reconstructor(self.encoder, batch)  # (B, H)
        with torch.no_grad():
            teacher = self.teacher(batch)  # (B, H)
        losses["loss_reconstruction"] = losses.pop("loss")
        # every rank aligns the global batch: negatives from every device
        losses["loss_alignment"] = self.alignment(
            gather(student), gather(teacher, differentiable=False)
        )
        losses["loss"] = (
            losses["loss_reconstruction"] + self.hparams.alignment_weight * losses["loss_alignment"]
        )
        with torch.no_grad():
            cosine = F.normalize(student, dim=-1) @ F.normalize(teacher, dim=-1).T  # (B, B)
            matched = cosine.diagonal()
            losses["cosine_matched"] = matched.mean()
            if len(cosine) > 1:
                unmatched = (cosine.sum() - matched.sum()) / (len(cosine) ** 2 - len(cosine))
                losses["cosine_unmatched"] = unmatched
            losses["temperature"] = self.alignment.log_temperature.exp().detach()
            losses["bias"] = self.alignment.bias.detach()
        if self.validation_embeddings is not None:
            self.validation_embeddings.append(student.detach().cpu())
        return losses

    def on_validation_epoch_start(self) -> None:
        self.validation_embeddings = []

    def on_validation_epoch_end(self) -> None:
        """Logs `val/anisotropy` of the student's validation embeddings (MLEM §5.6)."""
        embeddings, self.validation_embeddings = self.validation_embeddings, None
        if embeddings:
            value = anisotropy(torch.cat(embeddings).double().numpy())
            self.log("val/anisotropy", value, sync_dist=True)


TEACHER_KEY = "mlem_teacher"


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file: tells whether a teacher's checkpoint was replaced."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_teacher(
    path: str | Path, student: SequenceEncoder
) -> tuple[SequenceEncoder, dict[str, Any]]:
    """The frozen encoder of a `Contrastive` checkpoint whose schema matches the student's,
    and the config (`class_path`, `init_args`) that rebuilds it.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the checkpoint is not a contrastive model, or its schema differs.
    """
    method = load_method(path, map_location="cpu")
    if not isinstance(method, Contrastive):
        raise ValueError(
            f"MLEM teacher checkpoint {path} holds a {type(method).__name__} model; train the "
            "teacher with eventssl.methods.Contrastive first"
        )
    teacher: SequenceEncoder = method.encoder
    if teacher.hidden_size != student.hidden_size:
        raise ValueError(
            f"MLEM teacher checkpoint {path} embeds in {teacher.hidden_size} dimensions but the "
            f"student encoder in {student.hidden_size}; SigLIP aligns equal widths"
        )
    differences = schema_differences(teacher, student)
    if differences:
        raise ValueError(
            f"MLEM teacher checkpoint {path} was trained on another dataset schema: "
            + "; ".join(differences)
        )
    config = read_checkpoint(path).get("hyper_parameters", {}).get("encoder")
    if not (isinstance(config, dict) and "class_path" in config):
        raise ValueError(
            f"MLEM teacher checkpoint {path} records no encoder config; train the teacher with "
            "`eventssl fit` so an MLEM checkpoint can rebuild it"
        )
    return freeze(teacher), dict(config)


def schema_differences(teacher: SequenceEncoder, student: SequenceEncoder) -> list[str]:
    """What differs between the schemas two encoders were built for."""
    a, b = teacher.embedder, student.embedder
    found = []
    if a.cardinalities != b.cardinalities:
        found.append(f"categorical {a.cardinalities} (teacher) vs {b.cardinalities} (data)")
    if a.numerical_names != b.numerical_names:
        found.append(f"numerical {a.numerical_names} (teacher) vs {b.numerical_names} (data)")
    elif not (
        torch.allclose(a.numerical_mean, b.numerical_mean)
        and torch.allclose(a.numerical_std, b.numerical_std)
    ):
        found.append("numeric normalisation statistics differ")
    if a.time_features != b.time_features:
        found.append(f"time features {a.time_features} (teacher) vs {b.time_features} (data)")
    return found
