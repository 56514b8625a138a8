"""Training throughput per method on Pendulum, the data share of a step, and generation time.

    python benchmarks/throughput.py                      # paper-sized GRU 512, CPU
    python benchmarks/throughput.py --device cuda --steps 50 --packed

Prints one table row per method: events/s and sequences/s of whole training steps (loading +
collate + forward + backward + optimizer), and the share of the step spent loading and
collating. Then times the full 100k-sequence Pendulum generation (skip with --no-generation).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from eventssl.data import EventBatch, EventDataModule
from eventssl.data.pendulum import generate_pendulum
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.methods import Contrastive, Generative, SSLModule, Supervised
from eventssl.nn import GRUEncoder

# data settings of experiments/pendulum/*.yaml (MLEM §2.6)
METHODS = {
    "contrastive": (
        Contrastive,
        False,
        {"num_views": 5, "min_view_length": 50, "max_view_length": 150, "max_length": 130},
    ),
    "generative": (Generative, True, {"max_length": 100}),
    "supervised": (Supervised, True, {"max_length": 100}),
}


def cycle(loader: DataLoader) -> Iterator[EventBatch]:
    """Batches forever, a new epoch (new shuffle) whenever one ends."""
    while True:
        yield from loader


def measure(name: str, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    method, layer_norm, data_settings = METHODS[name]
    data = EventDataModule(str(folder), batch_size=args.batch_size, **data_settings)
    data.setup("fit")
    torch.manual_seed(0)
    encoder = GRUEncoder(
        numerical=data.numerical,
        hidden_size=args.hidden_size,
        layer_norm=layer_norm,
        packed=args.packed,
    )
    module: SSLModule = method(encoder)
    if isinstance(module, Supervised):
        module.hparams.update(target="length", task="regression", num_outputs=1)
        module.head = torch.nn.Linear(args.hidden_size, 1)
    module.to(args.device).train()
    optimizer = module.configure_optimizers()
    loader = cycle(data.train_dataloader())
    load_times, step_times, events, rows = [], [], [], []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        batch = next(loader).to(args.device, non_blocking=True)
        loaded = time.perf_counter()
        loss = module.compute_losses(batch)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        done = time.perf_counter()
        if step >= args.warmup:
            load_times.append(loaded - start)
            step_times.append(done - start)
            events.append(int(batch.lengths.sum()))
            rows.append(len(batch) // data.num_views)
    total = sum(step_times)
    return {
        "events/s": sum(events) / total,
        "sequences/s": sum(rows) / total,
        "step ms (median)": 1e3 * statistics.median(step_times),
        "load+collate %": 100 * sum(load_times) / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--sequences", type=int, default=4000, help="Pendulum size for the runs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--packed", action="store_true", help="run the GRU on packed sequences")
    parser.add_argument("--no-generation", action="store_true")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
        f"GRU {args.hidden_size}, batch {args.batch_size}, {args.steps} steps after "
        f"{args.warmup} warm-up, packed={args.packed}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pendulum"
        write_pendulum(folder, num_sequences=args.sequences, num_test=100)
        columns = ["method", "events/s", "sequences/s", "step ms (median)", "load+collate %"]
        header = "| " + " | ".join(columns) + " |"
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        for name in args.methods:
            row = measure(name, folder, args)
            cells = [name, f"{row['events/s']:.0f}", f"{row['sequences/s']:.1f}"]
            cells += [f"{row['step ms (median)']:.0f}", f"{row['load+collate %']:.2f}"]
            print("| " + " | ".join(cells) + " |")
    if not args.no_generation:
        start = time.perf_counter()
        data = generate_pendulum(100_000)
        print(
            f"Pendulum 100k generation: {time.perf_counter() - start:.1f} s "
            f"({len(data.time)} events)"
        )


if __name__ == "__main__":
    main()
