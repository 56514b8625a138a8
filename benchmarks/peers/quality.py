"""Quality at equal budget: train every system the same epochs, score with eventssl's probes.

Each system trains in its own venv and writes the embeddings of the whole train and test splits
(`<system>.npz`: seq ids + vectors). Scoring happens here, in eventssl's venv, with the probes
eventssl itself uses (`eventssl.evaluation.fit_probes` with `DEFAULT_PROBES`: fit on the labelled
train embeddings, score on test), against the targets of the contract folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from report import LABELS, markdown_table
from settings import DatasetSpec, Sizes
from systems import QUALITY_ORDER, run_trial

from eventssl.data.contract import read_split
from eventssl.data.schema import DatasetSchema
from eventssl.evaluation import fit_probes


def labelled(
    contract: Path, split: str, target: str, seq_ids: np.ndarray, embeddings: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of the labelled sequences of a split and their targets, joined on seq_id."""
    schema = DatasetSchema.load(contract)
    columns = read_split(contract, split, schema)
    values = dict(zip(np.asarray(columns.seq_ids).tolist(), columns.targets[target], strict=True))
    truth = np.array([values[seq_id] for seq_id in seq_ids.tolist()])
    keep = ~np.isnan(truth)
    return embeddings[keep], truth[keep]


def score(contract: Path, spec: DatasetSpec, path: Path) -> dict[str, float]:
    """eventssl's default probes on one system's embeddings."""
    schema = DatasetSchema.load(contract)
    arrays = np.load(path)
    splits = {
        split: labelled(
            contract, split, spec.target, arrays[f"{split}_seq_ids"], arrays[f"{split}_embeddings"]
        )
        for split in ("train", "test")
    }
    return fit_probes(schema.targets[spec.target], splits["train"], splits["test"])


def run_quality(
    spec: DatasetSpec,
    folder: Path,
    sizes: Sizes,
    work: Path,
    systems: list[str] | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Train (subprocesses, in QUALITY_ORDER) and score every system on one dataset."""
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in [name for name in QUALITY_ORDER if systems is None or name in systems]:
        print(f"[quality] {spec.name}: training {name} for {sizes.epochs} epoch(s)", flush=True)
        trial = run_trial(name, "quality", spec.name, folder, sizes, work=work, threads=threads)
        if "error" not in trial:
            trial["probes"] = score(folder / "contract", spec, work / f"{name}.npz")
        results.append(trial)
    return results


PROBES = ("constant", "linear", "boosting")


def quality_table(results: list[dict[str, Any]]) -> str:
    """Markdown: per dataset and system, training time and each probe's test metric."""
    rows = []
    for trial in results:
        probes = trial.get("probes", {})
        metric = next(iter(probes), "_–").split("_", 1)[1]
        scores = [f"{probes[f'{name}_{metric}']:.4f}" if probes else "–" for name in PROBES]
        trained = [f"{trial['train_s']:.0f}", trial["train_steps"]] if "train_s" in trial else []
        rows.append(
            [trial["dataset"], LABELS.get(trial["system"], trial["system"]), metric]
            + (trained or ["failed", "–"])
            + scores
        )
    headers = ["dataset", "system", "test metric", "train s", "steps", *PROBES]
    return markdown_table(headers, rows)
