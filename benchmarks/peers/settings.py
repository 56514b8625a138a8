"""What every system is run with: shared by the orchestrator and the trial scripts of both venvs.

Standard library only, so the peer venv (which has no eventssl) imports it too. Values follow the
paper configs experiments/<dataset>/{contrastive,mlem}.yaml; event dropout is off everywhere,
since neither peer has it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = HERE / ".cache"  # git-ignored: data, converted data, teachers, trained models
RESULTS = HERE / "results"
RESULT_PREFIX = "RESULT "  # a trial's one JSON line on stdout
MIN_LENGTH = 5  # eventssl's data.min_length: shorter train sequences are not trained on


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's view and length settings, from its eventssl paper configs.

    Args:
        name: folder name under the cache.
        config_dir: experiments/<config_dir>/ holds its contrastive.yaml and mlem.yaml.
        num_views, min_view_length, max_view_length: CoLES views.
        coles_max_length: keep the last N events (contrastive.yaml `data.max_length`).
        mlem_max_length: keep the last N events of whole sequences (mlem.yaml).
        alignment_weight: MLEM's λ (EBES: contrastive_weight).
        normalize: MLEM L2-normalises the aligned embeddings (EBES: normalize_z).
        time_weight: weight of the Δt reconstruction term (eventssl only; EBES has none).
        target: the downstream target scored by the probes.
    """

    name: str
    config_dir: str
    num_views: int
    min_view_length: int
    max_view_length: int
    coles_max_length: int
    mlem_max_length: int
    alignment_weight: float
    normalize: bool
    time_weight: float
    target: str


DATASETS = {
    "pendulum": DatasetSpec(
        "pendulum", "pendulum", 5, 50, 150, 130, 100, 10.0, True, 10.0, "length"
    ),
    "physionet": DatasetSpec(
        "physionet", "physionet2012", 5, 15, 150, 200, 200, 1000.0, False, 1.0, "In-hospital_death"
    ),
}


@dataclass(frozen=True)
class Sizes:
    """Model and run sizes shared by every system.

    Args:
        hidden_size: GRU width (one layer).
        field_dim: embedding / projection width per categorical and per numeric field.
        batch_size: sequences per batch (CoLES batches hold batch_size * num_views views).
        warmup, steps: untimed and timed training steps of a throughput trial.
        epochs: training epochs of the quality runs.
        pendulum_sequences: Pendulum size (10 % test, at most 1000).
        subsample: keep only this many train sequences (test: a quarter) of every dataset.
        device: where a throughput trial trains ("cpu", "cuda"); quality runs stay on CPU.
        precision: "fp32", or "bf16" for bf16 autocast of the forward pass and the loss.
    """

    hidden_size: int = 512
    field_dim: int = 4
    batch_size: int = 128
    warmup: int = 2
    steps: int = 10
    epochs: int = 2
    pendulum_sequences: int = 4000
    subsample: int | None = None
    device: str = "cpu"
    precision: str = "fp32"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Sizes:
        return cls(**json.loads(text))


QUICK = Sizes(
    hidden_size=32,
    batch_size=16,
    warmup=1,
    steps=2,
    epochs=1,
    pendulum_sequences=400,
    subsample=200,
)


def dataset_folder(dataset: str, quick: bool) -> Path:
    """Cache folder of one dataset: contract/, ptls/, ebes/ inside."""
    return CACHE / "data" / (f"{dataset}-quick" if quick else dataset)


def eventssl_teacher(folder: Path, hidden_size: int) -> Path:
    """A one-step `Contrastive` checkpoint written by `eventssl fit` (MLEM needs a CLI one)."""
    return folder / f"eventssl-teacher-h{hidden_size}.ckpt"
