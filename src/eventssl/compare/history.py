"""What a finished run trained: its validation-loss curve, epochs and scored checkpoint."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path


def validation_curve(folder: Path, metric: str = "val/loss") -> list[tuple[int, float]]:
    """(epoch, value) pairs, 1-based epochs, from the run's CSV log(s) (`metrics.csv` and the
    `metrics.<n>.csv` a resume kept), in epoch order."""
    points: dict[int, float] = {}
    for path in sorted(folder.glob("metrics*.csv")):
        with path.open(newline="") as handle:
            for record in csv.DictReader(handle):
                value, epoch = record.get(metric), record.get("epoch")
                if value not in (None, "") and epoch not in (None, ""):
                    number = float(value)
                    if math.isfinite(number):
                        points[int(float(epoch)) + 1] = number
    return sorted(points.items())


def run_details(folders: Mapping[str, Mapping[int, Path]]) -> list[dict]:
    """One record per run: row, seed, epochs trained, the scored checkpoint (criterion, file,
    epoch) and the epoch of the lowest validation loss."""
    details = []
    for name, by_seed in folders.items():
        for seed, folder in by_seed.items():
            record = json.loads((folder / "evaluation.json").read_text())
            checkpoint = record.get("checkpoint") or {}
            curve = validation_curve(folder)
            lowest = min(curve, key=lambda point: point[1])[0] if curve else None
            file = checkpoint.get("file")
            details.append(
                {
                    "method": name,
                    "seed": seed,
                    "epochs_trained": record.get("epochs_trained", record.get("epoch")),
                    "checkpoint": checkpoint.get("criterion"),
                    "checkpoint_epoch": checkpoint.get("epoch"),
                    "checkpoint_file": Path(file).name if file else None,
                    "lowest_val_loss_epoch": lowest,
                }
            )
    return details
