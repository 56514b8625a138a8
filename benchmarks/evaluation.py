"""Probes + geometry on 50k × 512 embeddings: time and peak memory (target ≤ 60 s on 2 cores).

    python benchmarks/evaluation.py [--rows 50000] [--width 512]

Synthetic embeddings with a binary and a regression target that depend on a few directions,
split 80/20 into train/test like the probe protocol (MLEM §5.2, §5.6–5.7).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from eventssl.data.schema import TargetSpec
from eventssl.evaluation.geometry import geometry
from eventssl.evaluation.probes import fit_probes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--width", type=int, default=512)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    embeddings = (rng.normal(size=(args.rows, 32)) @ rng.normal(size=(32, args.width))).astype(
        np.float32
    )
    signal = embeddings[:, :4].sum(axis=1)
    targets = {
        "binary": (TargetSpec("binary", 2, "roc_auc"), (signal > 0).astype(np.float64)),
        "regression": (TargetSpec("regression", metric="mse"), signal + rng.normal(size=args.rows)),
    }
    split = int(0.8 * args.rows)
    print(f"{args.rows} x {args.width} embeddings, train {split} / test {args.rows - split}")
    print("| step | seconds | result |")
    print("|---|---|---|")
    total = 0.0
    for name, (spec, values) in targets.items():
        start = time.perf_counter()
        results = fit_probes(
            spec, (embeddings[:split], values[:split]), (embeddings[split:], values[split:])
        )
        elapsed = time.perf_counter() - start
        total += elapsed
        shown = ", ".join(f"{k} {v:.3f}" for k, v in results.items())
        print(f"| probes ({name}) | {elapsed:.1f} | {shown} |")
    start = time.perf_counter()
    shape = geometry(embeddings)
    elapsed = time.perf_counter() - start
    total += elapsed
    print(
        f"| geometry | {elapsed:.1f} | "
        + ", ".join(f"{k} {v:.3f}" for k, v in shape.items())
        + " |"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total {total:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
