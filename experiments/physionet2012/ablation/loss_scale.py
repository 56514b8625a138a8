"""How much larger the original MLEM's PhysioNet reconstruction loss is than eventssl's.

The original code reconstructs PhysioNet's numeric fields on their raw scale; eventssl on the
standardised scale (docs/decisions.md, row 5). Both sum squared errors over events. The loss of
a decoder that predicts each field's mean is the sum of squared deviations: this script prints
it on both scales, per sequence of the train split, and their ratio, i.e. by how much λ must
shrink for the alignment term to weigh what it weighed in the original.

    python experiments/physionet2012/ablation/loss_scale.py [data/physionet2012]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def main(folder: Path) -> None:
    schema = json.loads((folder / "schema.json").read_text())
    table = pq.read_table(folder / "train.parquet")
    raw = np.zeros(table.num_rows)
    standardised = np.zeros(table.num_rows)
    for name in schema["numerical"]:
        column = table.column(name).combine_chunks()
        offsets = column.offsets.to_numpy()
        values = column.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
        mean, std = np.nanmean(values), np.nanstd(values)
        squared = np.where(np.isnan(values), 0.0, (values - mean) ** 2)  # (E,)
        per_sequence = np.add.reduceat(squared, offsets[:-1]) * (np.diff(offsets) > 0)  # (N,)
        raw += per_sequence
        standardised += per_sequence / std**2
    print(f"{table.num_rows} train sequences; mean-predictor numeric loss per sequence")
    print(f"  raw scale (original MLEM)   {raw.mean():>14,.0f}")
    print(f"  standardised (eventssl)     {standardised.mean():>14,.1f}")
    print(f"  ratio                       {raw.mean() / standardised.mean():>14,.0f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/physionet2012"))
