"""Evaluation cost: probes + geometry on synthetic embeddings, and the embedding passes and
the whole post-fit evaluation of a GRU on Pendulum.

    python benchmarks/evaluation.py [--rows 50000] [--width 512]
    python benchmarks/evaluation.py --pendulum 100000 --width 512   # the embedding passes too

Part 1: synthetic embeddings with a binary and a regression target that depend on a few
directions, split 80/20 like the probe protocol (MLEM §5.2, §5.6–5.7); target ≤ 60 s on 2 cores.
Part 2 (`--pendulum N`): an (untrained) GRU of `--width` embeds N Pendulum sequences in the old
way (training batches in dataset order, no_grad) and the new way (length-sorted batches of 1024,
inference mode), prints embeddings/s of both, then times the whole post-fit evaluation with its
progress lines.
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
    parser.add_argument(
        "--pendulum", type=int, default=0, help="also time embedding passes on N sequences"
    )
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
    if args.pendulum:
        embedding_passes(args.pendulum, args.width)


def embedding_passes(count: int, width: int) -> None:
    """Embeddings/s of the old and the new pass, then the whole evaluation, on Pendulum."""
    import tempfile
    from pathlib import Path

    import torch

    from eventssl.data import EventDataModule
    from eventssl.data.pendulum_dataset import write_pendulum
    from eventssl.evaluation.embeddings import embed_by_length, embed_loader
    from eventssl.evaluation.loaders import evaluation_loader, probe_datasets
    from eventssl.evaluation.protocol import evaluate
    from eventssl.methods import Contrastive
    from eventssl.nn import GRUEncoder

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pendulum"
        write_pendulum(folder, num_sequences=count, num_test=min(1000, count // 10))
        data = EventDataModule(str(folder), batch_size=128, max_length=100)
        train = probe_datasets(data)["train"]
        torch.manual_seed(0)
        module = Contrastive(GRUEncoder(numerical=data.numerical, hidden_size=width)).eval()
        print(f"\nPendulum {count:,} sequences, GRU {width}, {torch.get_num_threads()} threads")
        print("| pass | sequences | seconds | embeddings/s |")
        print("|---|---|---|---|")
        rates = {}
        for name in ("old: batches of 128 in order, no_grad", "new: length-sorted 1024, inference"):
            start = time.perf_counter()
            if name.startswith("old"):
                with torch.no_grad():
                    embed_loader(module, evaluation_loader(data, train))
            else:
                embed_by_length(module, data, train)
            seconds = time.perf_counter() - start
            rates[name] = len(train) / seconds
            print(f"| {name} | {len(train):,} | {seconds:.1f} | {rates[name]:,.0f} |")
        old, new = rates.values()
        print(f"embedding speed-up: {new / old:.2f}x")
        start = time.perf_counter()
        evaluate(module, data, progress=print)
        print(f"whole post-fit evaluation (probes + geometry): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
