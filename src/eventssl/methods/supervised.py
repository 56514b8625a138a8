"""`Supervised`: the encoder trained on the downstream target (MLEM §3.7)."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torchmetrics import MeanSquaredError, Metric
from torchmetrics.classification import MulticlassAccuracy, MulticlassAUROC

from eventssl.data.batch import EventBatch
from eventssl.methods.base import SSLModule
from eventssl.nn.sequence_encoder import SequenceEncoder


class Supervised(SSLModule):
    """Cross-entropy (binary / multiclass) or MSE (regression) on one target; unlabelled rows
    are ignored. The target, its task and output size come from the dataset schema at `setup`
    unless given, and are stored in the checkpoint.

    Args:
        target: target column (default: the schema's default target).
        task: "binary", "multiclass" or "regression".
        num_outputs: classes for classification, 1 for regression.
        pretrained_ckpt: start from the encoder of any eventssl checkpoint (fine-tuning,
            MLEM §5.3); loaded when fitting starts.
    """

    def __init__(
        self,
        encoder: SequenceEncoder,
        target: str | None = None,
        task: Literal["binary", "multiclass", "regression"] | None = None,
        num_outputs: int | None = None,
        pretrained_ckpt: str | None = None,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.head: nn.Module | None = None
        self.validation_metric: Metric | None = None
        if task is not None and num_outputs is not None:
            self.head = nn.Linear(encoder.hidden_size, num_outputs)

    def setup(self, stage: str) -> None:
        if self.head is None:
            self._build_head()
        if self.validation_metric is None:
            self.validation_metric = self._build_metric()
        if stage == "fit" and self.hparams.pretrained_ckpt:
            self._load_pretrained(self.hparams.pretrained_ckpt)

    def _load_pretrained(self, path: str) -> None:
        from eventssl.methods.checkpoint import load_method

        source = load_method(path, map_location="cpu").encoder
        try:  # non-strict like MLEM §5.3: a LayerNorm the source lacks starts fresh
            result = self.encoder.load_state_dict(source.state_dict(), strict=False)
        except RuntimeError as error:
            raise ValueError(
                f"pretrained checkpoint {path}: encoder shapes differ ({error})"
            ) from None
        mismatched = [
            key
            for key in [*result.missing_keys, *result.unexpected_keys]
            if not key.startswith("norm.")
        ]
        if mismatched:
            raise ValueError(f"pretrained checkpoint {path}: encoder keys differ: {mismatched}")

    def _build_head(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        schema = getattr(datamodule, "schema", None)
        target = self.hparams.target or (schema.default_target if schema else None)
        if schema is None or target not in schema.targets:
            raise ValueError(
                "Supervised needs model.init_args.target (or a default target in the dataset "
                f"schema) and task/num_outputs; got target={target!r}"
            )
        spec = schema.targets[target]
        self.hparams.update(
            target=target,
            task=self.hparams.task or spec.task,
            num_outputs=self.hparams.num_outputs or (spec.num_classes or 1),
        )
        self.head = nn.Linear(self.encoder.hidden_size, self.hparams.num_outputs)

    def _metric_name(self) -> str:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        schema = getattr(datamodule, "schema", None)
        if schema is not None and self.hparams.target in schema.targets:
            return schema.targets[self.hparams.target].metric
        return "mse" if self.hparams.task == "regression" else "roc_auc"

    def _build_metric(self) -> Metric:
        """The schema's metric of the target on the validation split, logged as `val/<metric>`."""
        name = self._metric_name()
        if name == "mse":
            return MeanSquaredError()
        classes = max(int(self.hparams.num_outputs), 2)
        if name == "accuracy":
            return MulticlassAccuracy(num_classes=classes, average="micro")
        return MulticlassAUROC(num_classes=classes, average="macro")

    def selection_metric(self) -> tuple[str, str]:
        """The paper evaluates the supervised model's best validation metric (MLEM §3.7)."""
        name = self._metric_name()
        return (f"val/{name}", "min" if name == "mse" else "max")

    def validation_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        loss = super().validation_step(batch, batch_index)
        target = batch.targets[self.hparams.target]  # (B,) NaN = unlabelled
        labelled = ~target.isnan()
        if labelled.any():
            predicted = self.predict_target(batch)[labelled]
            if self.hparams.task == "regression":
                self.validation_metric.update(predicted, target[labelled])
            else:
                self.validation_metric.update(predicted, target[labelled].long())
            name = self.selection_metric()[0]
            self.log(name, self.validation_metric, on_epoch=True, batch_size=int(labelled.sum()))
        return loss

    def predict_target(self, batch: EventBatch) -> Tensor:
        """Predicted values (B,) for regression, class probabilities (B, C) otherwise."""
        output = self.head(self.encoder(batch))
        return output.squeeze(-1) if self.hparams.task == "regression" else output.softmax(-1)

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        if self.head is None:
            raise RuntimeError("Supervised head is not built: call trainer.fit with a datamodule")
        output = self.head(self.encoder(batch))  # (B, C)
        target = batch.targets[self.hparams.target]  # (B,) NaN = unlabelled
        labelled = ~target.isnan()
        if not labelled.any():
            return {"loss": output.sum() * 0.0}
        if self.hparams.task == "regression":
            loss = F.mse_loss(output.squeeze(-1)[labelled], target[labelled])
        else:
            loss = F.cross_entropy(output[labelled], target[labelled].long())
        return {"loss": loss}
