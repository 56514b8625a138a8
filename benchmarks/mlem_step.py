"""One MLEM training step on Pendulum, phase by phase, against the GEMM bound (issue #17, point 3).

    python benchmarks/mlem_step.py --steps 3 --warmup 1     # paper size: GRU 512, batch 128
    python benchmarks/mlem_step.py --tiny                   # seconds, for the tests

The step (`MLEM.compute_losses`, backward, Adam) runs as phases: loading, zero_grad, the
student's embedder and GRU, the decoder, the reconstruction loss, the frozen teacher, SigLIP
(with the logged cosines), the backward of the losses, decoder, GRU and embedder, and Adam. The
autograd graph is cut between phases by detached leaves, so each backward is timed on its own
with the same gradients (tests/test_mlem_step_benchmark.py). Each round times a phased step
(perf_counter, no profiler) and a whole step as throughput.py times it, records the phased
step's matrix products per phase in an untimed pass (`gemm_record.py`: multiply-adds as
executed, padding included), replays them as bare matmuls of the same shapes and strides, and
times the bare GRU (`throughput.bare_gru_rate`) at the batch's shape: rounds interleave, so a
loaded machine slows all of a round's figures alike. Per phase (median of --steps rounds after
--warmup): ms, GEMM GFLOP and GFLOP/s, ms at the bare GRU's rate, bare replay ms, the rest;
from one profiled step with Python stacks, the non-GEMM ops with the most self time and the
eventssl function behind them (`op_sources.py`); the step's gap to its bound, split in four
(`mlem_step_report.py`). --length-buckets overrides the CPU default of 4 parts.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import throughput
import torch
import torch.nn.functional as F
from flops import step_macs
from gemm_record import GemmRecorder, replay
from mlem_step_report import Round, report, summarize
from op_sources import attribute
from torch import Tensor
from torch.profiler import ProfilerActivity, profile, record_function

from eventssl.data import EventBatch
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.losses.distributed import gather
from eventssl.losses.reconstruction import reconstruction_loss
from eventssl.methods import MLEM
from eventssl.nn.decoder import Reconstruction

Phase = Callable[[str], AbstractContextManager[Any]]
PEERS = Path(__file__).resolve().parent / "peers"  # results/ (committed), .cache/ (ignored)


def cut(tensor: Tensor) -> Tensor:
    """A leaf with `tensor`'s values: the graph stops here and the gradient collects in .grad."""
    return tensor.detach().requires_grad_()


def tensors(prediction: Reconstruction) -> list[Tensor]:
    """The decoder's outputs in a fixed order."""
    return [*prediction.categorical.values(), *prediction.numerical.values(), prediction.delta]


def phased_step(
    module: MLEM, optimizer: torch.optim.Optimizer, batch: EventBatch, phase: Phase
) -> Tensor:
    """`compute_losses` + backward + `optimizer.step()` on one batch, each phase in `phase(name)`;
    the same losses, random draws and gradients as the uncut step. Returns the loss."""
    encoder, reconstructor, embedder = module.encoder, module.reconstructor, module.encoder.embedder
    with phase("zero_grad"):
        optimizer.zero_grad(set_to_none=True)
    with phase("student embedder"):
        events = embedder(batch)  # (B, L, E)
    gru_events, decoder_events = cut(events), cut(events)
    with phase("student GRU"):
        embedding = encoder.encode(gru_events, batch.lengths)  # (B, H)
    student = cut(embedding)
    with phase("decoder"):
        prediction = reconstructor.decoder(student, decoder_events, batch.lengths)
    cut_prediction = Reconstruction(
        {name: cut(value) for name, value in prediction.categorical.items()},
        {name: cut(value) for name, value in prediction.numerical.items()},
        cut(prediction.delta),
    )
    with phase("reconstruction loss"):
        standardized = embedder.standardize(batch) if embedder.numerical_names else None
        losses = reconstruction_loss(
            cut_prediction,
            batch,
            standardized,
            student,
            reconstructor.time_weight,
            reconstructor.l1_weight,
        )
    with phase("teacher (no_grad)"), torch.no_grad():
        teacher = module.teacher(batch)  # (B, H)
    with phase("SigLIP + logged cosines"):  # as MLEM.compute_losses
        alignment = module.alignment(gather(student), gather(teacher, differentiable=False))
        loss = losses["loss"] + module.hparams.alignment_weight * alignment
        with torch.no_grad():
            cosine = F.normalize(student, dim=-1) @ F.normalize(teacher, dim=-1).T  # (B, B)
            matched, count = cosine.diagonal(), max(len(cosine) ** 2 - len(cosine), 1)
            logged = [matched.mean(), (cosine.sum() - matched.sum()) / count]
            logged.append(module.alignment.log_temperature.exp().detach())
    with phase("backward: losses"):
        loss.backward()
    with phase("backward: decoder"):
        pairs = zip(tensors(prediction), tensors(cut_prediction), strict=True)
        used = [(output, leaf.grad) for output, leaf in pairs if leaf.grad is not None]
        torch.autograd.backward([output for output, _ in used], [grad for _, grad in used])
    with phase("backward: student GRU"):
        embedding.backward(student.grad)
    with phase("backward: student embedder"):
        events.backward(gru_events.grad + decoder_events.grad)
    with phase("Adam step"):
        optimizer.step()
    return loss.detach()


def set_length_buckets(module: MLEM, buckets: int) -> None:
    """Run the student, the teacher and the decoder in `buckets` length-sorted parts."""
    for part in (module.encoder, module.teacher, module.reconstructor.decoder):
        part.length_buckets = buckets


class Stopwatch:
    """Wall-clock seconds per phase: `with watch(name): ...` adds to `watch.seconds[name]`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] += time.perf_counter() - start


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Rounds of: a timed phased step, a whole step timed as throughput.py does, the phased
    step's GEMMs counted (untimed) and replayed, the bare GRU rate at that batch's shape; then
    one profiled step. Interleaved, so every figure of a round sees the same machine load."""
    spec, cpu = throughput.DATASETS["pendulum"], torch.device("cpu")
    data = throughput.load_data(folder, spec, False, args.batch_size)
    torch.manual_seed(0)
    options = argparse.Namespace(encoder="gru", hidden_size=args.hidden_size, packed=False)
    module = throughput.build_method("mlem", data, spec, options).train()
    if args.length_buckets:
        set_length_buckets(module, args.length_buckets)
    optimizer = module.configure_optimizers()
    batches, rounds = throughput.cycle(data.train_dataloader()), []
    operands: dict[tuple, Tensor] = {}
    for index in range(args.warmup + args.steps):
        watch, recorder = Stopwatch(), GemmRecorder()
        with watch("load + collate"):
            batch = next(batches)
        phased_step(module, optimizer, batch, watch)
        whole = throughput.run_steps(module, optimizer, batches, 1, cpu)[0]
        if index < args.warmup:
            continue
        phased_step(module, optimizer, batch, recorder)
        replayed = {name: replay(recorder.products[name], operands) for name in watch.seconds}
        shape = (len(batch), batch.max_length)
        width = module.encoder.embedder.output_size
        rate = throughput.bare_gru_rate(width, args.hidden_size, *shape, cpu, steps=1)
        real, whole_real = (
            2e-9 * sum(step_macs(module, b.lengths).values()) for b in (batch, whole)
        )
        rounds.append(Round(watch.seconds, whole.step_s, whole_real, recorder.products, replayed,
                            rate, real, shape))  # fmt: skip
    phased_step(module, optimizer, next(batches), Stopwatch())  # warm again after the replays
    with profile(activities=[ProfilerActivity.CPU], with_stack=True) as profiler:
        with record_function("## load + collate"):
            batch = next(batches)
        phased_step(module, optimizer, batch, lambda name: record_function(f"## {name}"))
    return summarize(rounds, attribute(profiler.events(), args.top))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sequences", type=int, default=2000, help="Pendulum size generated")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--length-buckets", type=int, help="student, teacher, decoder parts")
    parser.add_argument("--top", type=int, default=6, help="non-GEMM op groups per phase")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--tiny", action="store_true", help="GRU 16, batch 8, 200 sequences")
    parser.add_argument("--output", type=Path, help="JSON file (default under benchmarks/peers)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.hidden_size, args.batch_size, args.sequences = 16, 8, 200
    if args.threads:
        torch.set_num_threads(args.threads)
    default = PEERS / ".cache" / "results-quick" if args.tiny else PEERS / "results"
    output = args.output or default / "mlem-step-pendulum.json"
    with tempfile.TemporaryDirectory() as scratch:
        write_pendulum(Path(scratch) / "pendulum", args.sequences, num_test=args.sequences // 10)
        result = measure(args, Path(scratch) / "pendulum")
    result["settings"] = {
        **vars(args),
        "output": str(output),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load average": os.getloadavg(),
    }
    print(report(result))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
