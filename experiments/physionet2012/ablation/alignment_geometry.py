"""Why un-normalised SigLIP does not pair students with teachers: norms, logits and the
teacher's common direction on the validation split.

For each MLEM run given, embeds the validation sequences with its student and its stored
teacher, then prints the embedding norms, the SigLIP logits t·⟨s, c⟩ + b of matched and of
unmatched pairs (as the loss sees them: raw or L2-normalised), the share of the teachers' energy
along their mean direction, and the students' cosine to that direction.

    python experiments/physionet2012/ablation/alignment_geometry.py RUN_FOLDER [RUN_FOLDER ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from eventssl.data import EventDataModule
from eventssl.evaluation.embeddings import embed_by_length
from eventssl.evaluation.loaders import evaluation_loader
from eventssl.methods import load_method


def describe(run: Path) -> None:
    config = yaml.safe_load((run / "config.yaml").read_text())
    data = EventDataModule(**config["data"])
    data.setup("fit")
    module = load_method(run / "checkpoints" / "best.ckpt").eval()
    val = data.datasets["val"]
    student, _ = embed_by_length(module, data, val)
    teacher_module = module.teacher
    with torch.inference_mode():
        teacher = np.concatenate(
            [teacher_module(batch).numpy() for batch in evaluation_loader(data, val)]
        )
    s, c = torch.from_numpy(student).double(), torch.from_numpy(teacher).double()
    if module.alignment.normalize:
        s, c = F.normalize(s, dim=-1), F.normalize(c, dim=-1)
    logits = module.alignment.log_temperature.exp().item() * s @ c.T + module.alignment.bias.item()
    eye = torch.eye(len(logits), dtype=torch.bool)
    mean = F.normalize(torch.from_numpy(teacher).double().mean(0), dim=0)
    along = (torch.from_numpy(teacher).double() @ mean) ** 2
    share = along.sum() / torch.from_numpy(teacher).double().pow(2).sum()
    cosine_to_mean = F.normalize(torch.from_numpy(student).double(), dim=-1) @ mean
    print(
        f"{run.name}: normalize={module.alignment.normalize}, |student| "
        f"{np.linalg.norm(student, axis=1).mean():.1f}, |teacher| "
        f"{np.linalg.norm(teacher, axis=1).mean():.2f}; logits matched "
        f"{logits[eye].mean():.1f} ± {logits[eye].std():.1f}, unmatched "
        f"{logits[~eye].mean():.1f} ± {logits[~eye].std():.1f}; teacher energy along its mean "
        f"direction {share:.2f}; student cosine to it {cosine_to_mean.mean():.2f} ± "
        f"{cosine_to_mean.std():.2f}"
    )


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        describe(Path(folder))
