"""The budgeted schedule of `benchmarks/gpu.py`, in phases of falling priority.

1. "core": Contrastive and MLEM per dataset, fp32 and bf16, alternating with their peers;
2. "other": Generative, NaiveHybrid and Supervised, fp32 and bf16;
3. "compile": each method `torch.compile`d in its faster eager precision, alternating with
   that eager variant (so both are measured side by side), peer-compared methods first;
4. "epochs": one full epoch per method, PhysioNet's short ones first.

Each phase gets its weight's share of the budget still left when it starts (what a phase does
not use, or overruns, moves the later ones), split equally among its method blocks. Inside a
block the entries alternate within every repeat, the order rotating by one per repeat, and
each trial's timed steps fill its share (see `gpu_trials.time_variant`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from gpu_report import write
from gpu_trials import (
    PEERS,
    Subject,
    Variant,
    median_step_s,
    time_epoch,
    time_peer,
    time_variant,
)
from settings import DATASETS  # benchmarks/peers, on sys.path once gpu_report is imported
from throughput import VIEW_METHODS

from eventssl.data import EventDataModule

PHASES = {"core": 0.40, "other": 0.15, "compile": 0.25, "epochs": 0.20}
PEER_PROCESS_S = 15.0  # assumed: a peer process's start, imports and data, before its steps
COMPILE_S = 45.0  # assumed: compiling a method's step (with a recompile for dynamic shapes)
TRIAL_OVERHEAD_S = 1.0  # assumed: optimizer, warm-up steps and memory reset of a trial
Entry = tuple[str, "Variant | str"]  # (system, eventssl variant or peer precision)


class Schedule:
    """Runs the phases within `args.budget_seconds` counted from `start`, recording every
    trial (or why it did not run) in `payload` and rewriting the result files after each
    block."""

    def __init__(
        self,
        args: argparse.Namespace,
        payload: dict[str, Any],
        start: float,
        data: dict[tuple[str, bool], EventDataModule],
        peer_python: Path | None,
        peer_data: dict[str, Path],
    ) -> None:
        self.args, self.payload, self.start, self.data = args, payload, start, data
        self.peer_python, self.peer_data = peer_python, peer_data
        self.cuda = args.device.type == "cuda"
        self.precisions = ["fp32", "bf16"] if self.cuda else ["fp32"]
        self.phases_left = dict(PHASES)
        if not self.cuda or args.no_compile:
            del self.phases_left["compile"]
        if args.no_epochs:
            del self.phases_left["epochs"]

    def left(self) -> float:
        return self.args.budget_seconds - (time.perf_counter() - self.start)

    def phase_seconds(self, phase: str) -> float:
        """This phase's share of the budget left, by weight among the phases still to run."""
        weight = self.phases_left.pop(phase, 0.0)
        return self.left() * weight / (weight + sum(self.phases_left.values()) or 1.0)

    def record(self, dataset: str, system: str, variant: str, row: dict, repeat: int = -1) -> None:
        self.payload["trials"].append(
            {"dataset": dataset, "system": system, "variant": variant, "repeat": repeat} | row
        )

    def measured(self, dataset: str, system: str, variants: tuple[str, ...]) -> list[dict]:
        return [
            trial
            for trial in self.payload["trials"]
            if (trial["dataset"], trial["system"]) == (dataset, system)
            and trial["variant"] in variants
            and "events/s" in trial
        ]

    def faster_eager(self, dataset: str, method: str) -> str | None:
        """The eager precision with the higher median events/s, or None if none ran."""
        rates: dict[str, list[float]] = {}
        for row in self.measured(dataset, method, ("fp32", "bf16")):
            rates.setdefault(row["variant"], []).append(row["events/s"])
        return max(rates, key=lambda name: statistics.median(rates[name])) if rates else None

    def save(self) -> None:
        write(self.args.output, self.payload, cpu=not self.cuda)

    def note(self, text: str) -> None:
        self.payload["notes"].append(text)
        print(text, flush=True)

    def run_eager(self, phase: str, blocks: list[tuple[str, str]]) -> None:
        """fp32 and bf16 of every method, each alternating with its peer's two precisions."""
        end = time.perf_counter() + self.phase_seconds(phase)
        for index, (dataset, method) in enumerate(blocks):
            if not self.cuda:
                self.record(dataset, method, "bf16", {"status": "n/a (cpu)"})
            peer = PEERS.get(method) if self.peer_python is not None else None
            entries: list[Entry] = [(method, Variant(p)) for p in self.precisions]
            entries += [(peer, precision) for precision in self.precisions if peer]
            share = (end - time.perf_counter()) / (len(blocks) - index)
            overhead = PEER_PROCESS_S * self.args.repeats * (len(self.precisions) if peer else 0)
            self.run_block(dataset, method, entries, share, overhead)

    def run_compile(self, blocks: list[tuple[str, str]]) -> None:
        """Each method compiled in its faster eager precision, alternating with that eager
        variant; skipped where the phase's share cannot pay an assumed compile."""
        seconds = self.phase_seconds("compile")
        end = time.perf_counter() + seconds
        for index, (dataset, method) in enumerate(blocks):
            reason = "n/a (cpu)" if not self.cuda else None
            if self.cuda and self.args.no_compile:
                reason = "off (--no-compile)"
            best = self.faster_eager(dataset, method)
            share = (end - time.perf_counter()) / (len(blocks) - index)
            if reason is None and best is None:
                reason = "not run: no eager trial was measured"
            elif reason is None and share < COMPILE_S:
                reason = "skipped (budget)"
                self.note(f"{dataset}/{method}: compile skipped, {share:.0f} s left for it")
            for precision in ("fp32", "bf16"):
                if reason or precision != best:
                    status = reason or f"not run: {best} was faster eager"
                    self.record(dataset, method, f"{precision} compiled", {"status": status})
            if reason is None:
                entries: list[Entry] = [(method, Variant(best)), (method, Variant(best, True))]
                self.run_block(dataset, method, entries, share, COMPILE_S)

    def run_block(
        self, dataset: str, method: str, entries: list[Entry], share: float, overhead: float
    ) -> None:
        """The entries of one method on one dataset, alternating within each repeat."""
        args = self.args
        if share <= 0:
            for system, what in entries:
                name = what.name if isinstance(what, Variant) else what
                self.record(dataset, system, name, {"status": "skipped (budget)"})
            self.note(f"{dataset}/{method}: not run, the budget was spent")
            return
        seconds = max(0.0, (share - overhead) / (args.repeats * len(entries)) - TRIAL_OVERHEAD_S)
        data = self.data[(dataset, method in VIEW_METHODS)]
        subject = Subject(method, data, DATASETS[dataset], args)
        for repeat in range(args.repeats):
            shift = repeat % len(entries)
            for system, what in entries[shift:] + entries[:shift]:
                if self.left() <= 0:  # no trial starts once the budget is spent
                    name, row = str(getattr(what, "name", what)), {"status": "skipped (budget)"}
                elif isinstance(what, Variant):
                    name, row = what.name, time_variant(subject, what, seconds, args)
                else:
                    name, row = what, self.time_peer(dataset, method, system, what, seconds)
                self.record(dataset, system, name, row, repeat)
                shown = next(row[k] for k in ("events/s", "error", "status") if k in row)
                shown = f"{shown:,.0f} events/s" if "events/s" in row else shown
                elapsed = time.perf_counter() - self.start
                print(f"[{elapsed:4.0f} s] {dataset} {system} {name} #{repeat + 1}: {shown}")
        del subject
        if self.cuda:
            torch.cuda.empty_cache()
        self.save()

    def time_peer(
        self, dataset: str, method: str, system: str, precision: str, seconds: float
    ) -> dict[str, Any]:
        """A peer trial with as many steps as eventssl's step time fits in `seconds`."""
        args = self.args
        step_s = median_step_s(self.measured(dataset, method, (precision,))) or 1.0
        steps = max(args.min_steps, min(args.max_steps, round(seconds / step_s)))
        folder = self.peer_data[dataset]
        return time_peer(system, dataset, folder, precision, steps, args, self.peer_python)

    def run_epochs(self, blocks: list[tuple[str, str]]) -> None:
        """One full epoch per method in its faster eager precision, PhysioNet's first; an epoch
        whose estimate (its steps × the trials' step time) exceeds the budget left is not run."""
        for dataset, method in sorted(blocks, key=lambda block: block[0] != "physionet"):
            best = self.faster_eager(dataset, method)
            entry: dict[str, Any] = {"dataset": dataset, "method": method, "variant": best or "–"}
            if best is None:
                entry["status"] = "not run: no eager trial was measured"
            else:
                data = self.data[(dataset, method in VIEW_METHODS)]
                step_s = median_step_s(self.measured(dataset, method, (best,))) or 0.0
                estimate, left = len(data.train_dataloader()) * step_s, self.left()
                if estimate > left:
                    entry["status"] = f"not run: ≈ {estimate:.0f} s, {max(left, 0):.0f} s left"
                else:
                    entry |= time_epoch(method, data, DATASETS[dataset], Variant(best), self.args)
            self.payload["epochs"].append(entry)
            shown = entry.get("error") or entry.get("status") or f"{entry['wall s']:.1f} s"
            print(f"[{time.perf_counter() - self.start:4.0f} s] epoch {dataset} {method}: {shown}")
            self.save()
