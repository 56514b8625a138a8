"""Training throughput per method on Pendulum, the data share of a step, and generation time.

    python benchmarks/throughput.py                      # paper-sized GRU 512, CPU
    python benchmarks/throughput.py --device cuda --steps 50 --packed
    python benchmarks/throughput.py --encoder transformer     # pre-LN Transformer, same width

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

from eventssl.cli import main as cli
from eventssl.data import EventBatch, EventDataModule
from eventssl.data.pendulum import generate_pendulum
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.methods import MLEM, Contrastive, Generative, NaiveHybrid, SSLModule, Supervised
from eventssl.nn import GRUEncoder, SequenceEncoder, TransformerEncoder

ENCODERS = {"gru": "eventssl.nn.GRUEncoder", "transformer": "eventssl.nn.TransformerEncoder"}

# data settings of experiments/pendulum/*.yaml (MLEM §2.6)
VIEWS = {"num_views": 5, "min_view_length": 50, "max_view_length": 150, "max_length": 130}
WHOLE = {"max_length": 100}
METHODS = {
    "contrastive": (lambda encoder, teacher: Contrastive(encoder), False, VIEWS),
    "generative": (lambda encoder, teacher: Generative(encoder), True, WHOLE),
    "naive_hybrid": (lambda encoder, teacher: NaiveHybrid(encoder), True, VIEWS),
    "mlem": (lambda encoder, teacher: with_teacher(MLEM(encoder, str(teacher))), True, WHOLE),
    "supervised": (
        lambda encoder, teacher: Supervised(encoder, "length", "regression", 1),
        True,
        WHOLE,
    ),
}


def with_teacher(module: MLEM) -> MLEM:
    module.attach_teacher()  # a fit does this in setup
    return module


def build_encoder(args: argparse.Namespace, numerical: dict, layer_norm: bool) -> SequenceEncoder:
    """The benchmarked encoder at the requested width."""
    if args.encoder == "transformer":
        return TransformerEncoder(numerical=numerical, hidden_size=args.hidden_size)
    return GRUEncoder(
        numerical=numerical, hidden_size=args.hidden_size, layer_norm=layer_norm, packed=args.packed
    )


def train_teacher(folder: Path, hidden_size: int, scratch: Path, encoder: str) -> Path:
    """A one-step CoLES checkpoint written through the CLI, as MLEM's stage 1 would."""
    config = Path(__file__).parents[1] / "experiments" / "pendulum" / "contrastive.yaml"
    cli(
        [
            "fit",
            "--config",
            str(config),
            f"--data.path={folder}",
            "--data.generate_pendulum=null",
            "--trainer.max_steps=1",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            "--trainer.callbacks=[]",
            "--trainer.accelerator=cpu",
            f"--model.init_args.encoder.class_path={ENCODERS[encoder]}",
            f"--model.init_args.encoder.init_args.hidden_size={hidden_size}",
            f"--trainer.logger.init_args.save_dir={scratch}",
        ]
    )
    return next(scratch.glob("**/checkpoints/*.ckpt"))


def cycle(loader: DataLoader) -> Iterator[EventBatch]:
    """Batches forever, a new epoch (new shuffle) whenever one ends."""
    while True:
        yield from loader


def measure(
    name: str, folder: Path, teacher: Path | None, args: argparse.Namespace
) -> dict[str, float]:
    build, layer_norm, data_settings = METHODS[name]
    data = EventDataModule(str(folder), batch_size=args.batch_size, **data_settings)
    data.setup("fit")
    torch.manual_seed(0)
    encoder = build_encoder(args, data.numerical, layer_norm)
    module: SSLModule = build(encoder, teacher)
    module.to(args.device).train()
    optimizer = module.configure_optimizers()
    loader = cycle(data.train_dataloader())
    load_times, step_times, events, rows = [], [], [], []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        batch = next(loader).to(args.device, non_blocking=True)
        loaded = time.perf_counter()
        with torch.autocast(
            device_type=args.device.split(":")[0], dtype=torch.bfloat16, enabled=args.bf16
        ):
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
    memory = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else 0.0
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    return {
        "peak GPU MiB": memory,
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
    parser.add_argument("--encoder", choices=list(ENCODERS), default="gru")
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--sequences", type=int, default=4000, help="Pendulum size for the runs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--packed", action="store_true", help="run the GRU on packed sequences")
    parser.add_argument("--no-generation", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast of the forward pass")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
        f"{args.encoder} {args.hidden_size}, batch {args.batch_size}, {args.steps} steps after "
        f"{args.warmup} warm-up, packed={args.packed}, bf16 autocast={args.bf16}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pendulum"
        write_pendulum(folder, num_sequences=args.sequences, num_test=100)
        teacher = None
        if "mlem" in args.methods:
            scratch_teacher = Path(scratch) / "teacher"
            teacher = train_teacher(folder, args.hidden_size, scratch_teacher, args.encoder)
        columns = ["method", "events/s", "sequences/s", "step ms (median)", "load+collate %"]
        columns.append("peak GPU MiB")
        header = "| " + " | ".join(columns) + " |"
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        for name in args.methods:
            row = measure(name, folder, teacher, args)
            cells = [name, f"{row['events/s']:.0f}", f"{row['sequences/s']:.1f}"]
            cells += [f"{row['step ms (median)']:.0f}", f"{row['load+collate %']:.2f}"]
            cells.append(f"{row['peak GPU MiB']:.0f}")
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
