"""What each run of a comparison logged at its scored epoch, beside its first epoch.

The numbers docs/results.md quotes from the runs' logs (the embedding's L1 norm, the
reconstruction loss, MLEM's matched and unmatched cosine), read from the committed
`metrics*.csv` and `evaluation.json` of every finished run:

    python experiments/scored_epochs.py experiments/physionet2012/ablation/plateau
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eventssl.compare.history import validation_curve

METRICS = (
    "val/loss",
    "val/loss_reconstruction",
    "val/loss_l1",
    "val/cosine_matched",
    "val/cosine_unmatched",
    "val/anisotropy",
)


def main(output: Path) -> None:
    for run in sorted((output / "runs").glob("*/*-seed*")):
        record_path = run / "evaluation.json"
        if not record_path.is_file() or ".replaced-" in run.name:
            continue
        record = json.loads(record_path.read_text())
        scored = (record.get("checkpoint") or {}).get("epoch")
        print(f"{run.name}: trained {record.get('epochs_trained')} epochs, scored epoch {scored}")
        for metric in METRICS:
            curve = dict(validation_curve(run, metric))
            if curve and scored in curve:
                first = min(curve)
                values = f"epoch {first}: {curve[first]:9.3f}   scored: {curve[scored]:9.3f}"
                print(f"  {metric:26} {values}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
