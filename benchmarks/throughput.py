"""Training throughput per method on Pendulum, its FLOP rate against a bare GRU, generation time.

    python benchmarks/throughput.py                      # paper-sized GRU 512, CPU
    python benchmarks/throughput.py --device cuda --steps 50 --packed
    python benchmarks/throughput.py --encoder transformer     # pre-LN Transformer, same width

Prints one table row per method: events/s and sequences/s of whole training steps (loading +
collate + forward + backward + optimizer), the share of the step spent loading and collating,
the achieved GFLOP/s (multiply-adds of the step counted from the model's shapes, see
`flops.py`) and that rate as a share of a bare `nn.GRU` forward + backward + Adam on a dense
batch of the method's shape (rows × median padded length), timed in the same run. Then times
the full 100k-sequence Pendulum generation (skip with --no-generation). The helpers here
(`load_data`, `build_method`, `run_steps`, `summarize`, `bare_gru_rate`) are shared with
`benchmarks/gpu.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from flops import gru_step_macs, step_macs
from torch import Tensor, nn

from eventssl.data import EventBatch, EventDataModule
from eventssl.data.pendulum import generate_pendulum
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.methods import MLEM, Contrastive, Generative, NaiveHybrid, SSLModule, Supervised
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder, SequenceEncoder, TransformerEncoder
from eventssl.nn.encoder import freeze

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))  # the shared dataset settings
from settings import DATASETS, DatasetSpec  # noqa: E402

METHODS = ("contrastive", "generative", "naive_hybrid", "mlem", "supervised")
VIEW_METHODS = ("contrastive", "naive_hybrid")  # trained on K views per sequence (CoLES batches)


def load_data(folder: Path, spec: DatasetSpec, views: bool, batch_size: int) -> EventDataModule:
    """The dataset's train loader settings of its paper configs (experiments/<dataset>/)."""
    if views:
        settings = {
            "num_views": spec.num_views,
            "min_view_length": spec.min_view_length,
            "max_view_length": spec.max_view_length,
            "max_length": spec.coles_max_length,
        }
    else:
        settings = {"max_length": spec.mlem_max_length}
    data = EventDataModule(str(folder), batch_size=batch_size, **settings)
    data.setup("fit")
    return data


def build_encoder(
    args: argparse.Namespace, data: EventDataModule, layer_norm: bool
) -> SequenceEncoder:
    """The benchmarked encoder at the requested width, for the dataset's schema."""
    schema = {"categorical": data.categorical, "numerical": data.numerical}
    if args.encoder == "transformer":
        return TransformerEncoder(**schema, hidden_size=args.hidden_size)
    return GRUEncoder(
        **schema, hidden_size=args.hidden_size, layer_norm=layer_norm, packed=args.packed
    )


def build_method(
    name: str, data: EventDataModule, spec: DatasetSpec, args: argparse.Namespace
) -> SSLModule:
    """A method as its paper config builds it (LayerNorm on all but CoLES); MLEM gets an
    untrained frozen CoLES-shaped teacher, which costs the same as a trained one."""
    encoder = build_encoder(args, data, layer_norm=name != "contrastive")
    if name == "contrastive":
        return Contrastive(encoder)
    if name == "generative":
        return Generative(encoder)
    if name == "naive_hybrid":
        return NaiveHybrid(encoder)
    if name == "mlem":
        module = MLEM(
            encoder,
            alignment_weight=spec.alignment_weight,
            normalize=spec.normalize,
            reconstruction=ReconstructionSettings(time_weight=spec.time_weight),
        )
        module.teacher = freeze(build_encoder(args, data, layer_norm=False))
        return module
    if name == "supervised":
        schema = data.schema
        target = spec.target if spec.target in schema.targets else schema.default_target
        task = schema.targets[target]
        return Supervised(encoder, target, task.task, task.num_classes or 1)
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")


def cycle(loader: Iterable[EventBatch]) -> Iterator[EventBatch]:
    """Batches forever, a new epoch (new shuffle) whenever one ends."""
    while True:
        yield from loader


@dataclass(frozen=True)
class StepRecord:
    """One timed training step: loading + collate seconds, whole-step seconds, its batch."""

    load_s: float
    step_s: float
    lengths: Tensor  # (rows,) valid events per row fed to the encoder
    padded_length: int


def run_steps(
    module: SSLModule,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[EventBatch],
    count: int,
    device: torch.device,
    bf16: bool = False,
    losses: Callable[[EventBatch], dict[str, Tensor]] | None = None,
) -> list[StepRecord]:
    """`count` training steps, each timed from `next(batches)` to the end of `optimizer.step()`.

    Args:
        losses: the step's loss function (e.g. a `torch.compile`d `module.compute_losses`).
    """
    losses = losses or module.compute_losses
    records = []
    for _ in range(count):
        start = time.perf_counter()
        batch = next(batches)
        moved = batch.to(device, non_blocking=True)
        loaded = time.perf_counter()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = losses(moved)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        done = time.perf_counter()
        records.append(StepRecord(loaded - start, done - start, batch.lengths, batch.max_length))
    return records


def summarize(
    records: list[StepRecord], num_views: int, module: SSLModule | None = None
) -> dict[str, float]:
    """Rates of timed steps; with `module`, its GFLOP/s from the counted multiply-adds."""
    total = sum(record.step_s for record in records)
    events = sum(int(record.lengths.sum()) for record in records)
    rows = sum(len(record.lengths) for record in records)
    result = {
        "events/s": events / total,
        "sequences/s": rows / num_views / total,
        "step ms (median)": 1e3 * statistics.median(record.step_s for record in records),
        "load+collate %": 100 * sum(record.load_s for record in records) / total,
        "padded length (median)": statistics.median(r.padded_length for r in records),
        "rows per step": rows / len(records),
    }
    if module is not None and isinstance(module.encoder, GRUEncoder):
        macs = sum(sum(step_macs(module, record.lengths).values()) for record in records)
        result["GFLOP/s"] = 2 * macs / total / 1e9
    return result


def bare_gru_rate(
    input_size: int,
    hidden_size: int,
    rows: int,
    length: int,
    device: torch.device,
    steps: int = 3,
    warmup: int = 1,
) -> float:
    """GFLOP/s of a bare `nn.GRU` forward + backward + Adam on a dense (rows, length, E) batch
    of noise, the input requiring a gradient as an embedder's output does: the compute bound
    of a method whose encoder reads that shape."""
    gru = nn.GRU(input_size, hidden_size, batch_first=True).to(device)
    optimizer = torch.optim.Adam(gru.parameters(), lr=1e-3)
    inputs = torch.randn(rows, length, input_size, device=device, requires_grad=True)
    seconds = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        states, _ = gru(inputs)  # (rows, length, H)
        states[:, -1].pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        inputs.grad = None
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= warmup:
            seconds.append(time.perf_counter() - start)
    macs = gru_step_macs(input_size, hidden_size, 1, rows, rows * length)
    return 2 * macs / statistics.median(seconds) / 1e9


def measure(name: str, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    """Warm-up and timed steps of one method on Pendulum, with its rate against a bare GRU."""
    device = torch.device(args.device)
    data = load_data(folder, DATASETS["pendulum"], name in VIEW_METHODS, args.batch_size)
    torch.manual_seed(0)
    module = build_method(name, data, DATASETS["pendulum"], args).to(device).train()
    optimizer = module.configure_optimizers()
    batches = cycle(data.train_dataloader())
    run_steps(module, optimizer, batches, args.warmup, device, args.bf16)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    records = run_steps(module, optimizer, batches, args.steps, device, args.bf16)
    row = summarize(records, data.num_views, module)
    row["peak GPU MiB"] = (
        torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    )
    if "GFLOP/s" in row:
        width = module.encoder.embedder.output_size
        shape = (round(row["rows per step"]), round(row["padded length (median)"]))
        bound = bare_gru_rate(width, args.hidden_size, *shape, device, min(args.steps, 5))
        row["% of bare-GRU rate"] = 100 * row["GFLOP/s"] / bound
    return row


COLUMNS = {
    "events/s": "{:.0f}",
    "sequences/s": "{:.1f}",
    "step ms (median)": "{:.0f}",
    "load+collate %": "{:.2f}",
    "GFLOP/s": "{:.2f}",
    "% of bare-GRU rate": "{:.0f}",
    "peak GPU MiB": "{:.0f}",
}


def cell(row: dict[str, float], column: str) -> str:
    """A formatted table cell; "n/a" for a value not measured here (NaN or absent)."""
    value = row.get(column, float("nan"))
    return COLUMNS[column].format(value) if value == value else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--encoder", choices=["gru", "transformer"], default="gru")
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
        header = "| method | " + " | ".join(COLUMNS) + " |"
        print(header)
        print("|" + "|".join("---" for _ in range(len(COLUMNS) + 1)) + "|")
        for name in args.methods:
            row = measure(name, folder, args)
            cells = [name] + [
                form.format(row[column])
                if row.get(column, float("nan")) == row.get(column)
                else "n/a"
                for column, form in COLUMNS.items()
            ]
            print("| " + " | ".join(cells) + " |", flush=True)
    if not args.no_generation:
        start = time.perf_counter()
        data = generate_pendulum(100_000)
        print(
            f"Pendulum 100k generation: {time.perf_counter() - start:.1f} s "
            f"({len(data.time)} events)"
        )


if __name__ == "__main__":
    main()
