"""`eventssl compare --config FILE`: train every method for several seeds, evaluate, report.

Rows are methods (`<configs>/<method>.yaml`) or named variants of them. The contrastive teacher
is trained first and reused by MLEM: the teacher of the same seed (`teacher: per_seed`, default)
or the first seed's for every seed (`teacher: shared`, the paper's practice). Each run is scored
on the checkpoint `checkpoint` selects (the paper's per method by default) and may stop early
when `val/loss` stops improving (`patience`). Every run goes through `eventssl fit` with the
method's own config plus the comparison's overrides, so a comparison is exactly reproducible
from its config.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from eventssl.callbacks.evaluation import read_results
from eventssl.compare.fitting import evaluation_settings, fit, fit_arguments
from eventssl.compare.history import run_details
from eventssl.compare.plots import (
    embedding_scatter,
    metric_bars,
    ranking_bars,
    robustness_curves,
    training_curves,
)
from eventssl.compare.report import aggregate, write_report
from eventssl.compare.rescore import evaluation_path, rescore_run, score_missing
from eventssl.compare.resume import resumable, resume_arguments, set_aside, teacher_replaced
from eventssl.compare.rows import MLEM, Row, comparison_rows
from eventssl.compare.settings import check_settings, parser
from eventssl.compare.stale import stale_runs
from eventssl.runs import find_run


def main(argv: list[str] | None = None) -> None:
    arguments = parser(__doc__).parse_args(argv)
    command = "eventssl compare " + shlex.join(argv if argv is not None else sys.argv[1:])
    check_settings(arguments)
    output = Path(arguments.output)
    rows = comparison_rows(
        arguments.methods, arguments.variants, Path(arguments.configs), arguments.method_overrides
    )
    by_name = {row.name: row for row in rows}
    total = len(rows) * len(arguments.seeds)
    runs: dict[str, dict[int, dict[str, float]]] = {row.name: {} for row in rows}
    folders: dict[str, dict[int, Path]] = {row.name: {} for row in rows}
    retrain, stale_note = check_finished(arguments, rows, by_name, output)
    done = 0
    for seed in arguments.seeds:
        for row in rows:
            done += 1
            started = time.perf_counter()
            print(f"[{done}/{total}] {row.name}, seed {seed}", flush=True)
            folder = find_run(output, row.run_name(seed))
            source = None
            finished = folder is not None and (folder / "evaluation.json").is_file()
            if row.method == MLEM:
                try:
                    source = teacher(arguments, by_name[row.teacher], seed, output)
                except RuntimeError:  # a committed comparison keeps no weights: read it as is
                    if not finished or arguments.rerun:
                        raise
            if finished and source is not None and teacher_replaced(folder, source):
                print(f"{folder.name}: its teacher {source} was replaced; training it again")
                finished = False
            if row.run_name(seed) in retrain:
                print(f"{folder.name}: trained with other settings; training it again")
                finished = False
            if finished and arguments.rescore and not arguments.rerun:
                rescore_run(folder, evaluation_settings(arguments), arguments.also_score)
            if finished and not arguments.rerun:
                score_missing(folder, evaluation_settings(arguments), arguments.also_score)
            if arguments.rerun or not finished:
                extra = [*row.overrides]
                if source is not None:
                    extra.append(f"--model.init_args.teacher_ckpt={source}")
                name = row.run_name(seed)
                today = fit_arguments(arguments, row.method, seed, output, extra, name)
                resume = None if arguments.rerun else resumable(folder, today, source)
                if resume is None:
                    set_aside(folder)
                fit(arguments, row.method, seed, output, [*extra, *resume_arguments(resume)], name)
                folder = find_run(output, name)
            if folder is None or not (folder / "evaluation.json").is_file():
                raise RuntimeError(
                    f"{row.name} seed {seed} wrote no evaluation.json under {output}"
                )
            runs[row.name][seed] = read_results(folder / "evaluation.json")
            folders[row.name][seed] = folder
            for choice in arguments.also_score:
                label = f"{row.name} ({choice})"
                path = evaluation_path(folder, choice)
                if path.is_file():
                    runs.setdefault(label, {})[seed] = read_results(path)
            print(
                f"[{done}/{total}] {row.name}, seed {seed}: done in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        for budget in arguments.finetune_budgets:
            chosen = arguments.finetune_methods
            sources = [r for r in rows if r.method != "supervised"]
            sources = [r for r in sources if chosen is None or r.name in chosen]
            for source in [*sources, None]:
                label = finetune_label(source and source.name, budget)
                print(f"fine-tuning: {label}, seed {seed}", flush=True)
                runs.setdefault(label, {})[seed] = finetune(arguments, source, budget, seed, output)
    report(output, runs, folders, command, arguments, stale_note)
    if arguments.wandb:
        log_comparison(output, Path(arguments.configs).name)


def check_finished(
    arguments, rows: list[Row], by_name: dict[str, Row], output: Path
) -> tuple[set[str], str]:
    """Before anything trains: the finished runs whose saved config differs from what the
    comparison asks for today (`compare.stale`); returns those to retrain and a report note."""
    if arguments.rerun:
        return set(), ""
    planned = {row.run_name(seed): (row, seed) for seed in arguments.seeds for row in rows}
    finished = []
    for name in planned:
        folder = find_run(output, name)
        if folder is not None and (folder / "evaluation.json").is_file():
            finished.append((name, folder))

    def arguments_of(name: str) -> list[str] | None:
        row, seed = planned[name]
        extra = []
        if row.method == MLEM:
            try:
                source = teacher(arguments, by_name[row.teacher], seed, output)
            except RuntimeError:  # no teacher yet: the run is trained again anyway
                return None
            extra = [f"--model.init_args.teacher_ckpt={source}"]
        return fit_arguments(arguments, row.method, seed, output, [*row.overrides, *extra], name)

    return stale_runs(finished, arguments_of, arguments.stale)


def teacher(arguments, row: Row, seed: int, output: Path) -> Path:
    """The last checkpoint of the contrastive run an MLEM run of `seed` aligns to."""
    teacher_seed = arguments.seeds[0] if arguments.teacher == "shared" else seed
    folder = find_run(output, row.run_name(teacher_seed))
    checkpoint = folder / "checkpoints" / "last.ckpt" if folder else None
    if checkpoint is None or not checkpoint.is_file():
        raise RuntimeError(f"no contrastive teacher {row.run_name(teacher_seed)} under {output}")
    return checkpoint


def finetune_label(source: str | None, budget: int | None) -> str:
    labels = "all labels" if budget is None else f"{budget} labels"
    return f"{source or 'scratch'} → supervised, {labels}"


def finetune(
    arguments, source: Row | None, budget: int | None, seed: int, output: Path
) -> dict[str, float]:
    """Supervised from the scored checkpoint of `source` (or from scratch) on the first
    `budget` labels."""
    version = f"finetune-{source.name if source else 'scratch'}-{budget or 'all'}-seed{seed}"
    folder = find_run(output, version)
    if arguments.rerun or folder is None or not (folder / "evaluation.json").is_file():
        set_aside(folder)
        extra = [
            *arguments.method_overrides.get("supervised", []),
            *arguments.finetune_overrides,
        ]
        if budget is not None:
            extra.append(f"--data.labelled_limit={budget}")
        if source is not None:
            extra.append(
                f"--model.init_args.pretrained_ckpt={scored_checkpoint(output, source, seed)}"
            )
        # only the fine-tuned head's own score is read: no geometry, robustness, next events
        evaluation = {"geometry": False, "robustness": False, "next_events": 0}
        fit(arguments, "supervised", seed, output, extra, version, evaluation)
        folder = find_run(output, version)
    results = read_results(folder / "evaluation.json")
    return {k: v for k, v in results.items() if k.startswith("supervised/")}


def scored_checkpoint(output: Path, row: Row, seed: int) -> Path:
    """The checkpoint the evaluation of a finished run scored (its last one if not recorded)."""
    folder = find_run(output, row.run_name(seed))
    record = json.loads((folder / "evaluation.json").read_text())
    scored = (record.get("checkpoint") or {}).get("file")
    return Path(scored) if scored else folder / "checkpoints" / "last.ckpt"


def report(
    output: Path,
    runs: dict,
    folders: dict[str, dict[int, Path]],
    command: str,
    arguments,
    stale_note: str = "",
) -> None:
    details = run_details(folders)
    shared = f"the seed-{arguments.seeds[0]} teacher, shared by every seed"
    teachers = (
        f"MLEM teachers: {'one per seed' if arguments.teacher == 'per_seed' else shared} "
        "(the contrastive run's last checkpoint)."
    )
    watched = (
        "selection metric (val/loss where a method has none)"
        if arguments.stop_on == "selection"
        else "val/loss"
    )
    stopping = (
        f"Early stopping: after {arguments.patience} validations without a better {watched}."
        if arguments.patience is not None
        else "No early stopping: every run trains trainer.max_epochs."
    )
    split = arguments.evaluation.get("split", "test")
    notes = (
        f"Scored checkpoint: {arguments.checkpoint}. Probes scored on the {split} split. "
        f"{stopping} {teachers}"
    )
    if arguments.finetune_budgets:
        budgets = ", ".join("all" if b is None else str(b) for b in arguments.finetune_budgets)
        chosen = ", ".join(arguments.finetune_methods or ["every self-supervised row"])
        extra = " ".join(arguments.finetune_overrides) or "none"
        notes += (
            f" Fine-tuning: Supervised from the scored checkpoint of {chosen} (and from "
            f"scratch) on {budgets} labels; extra arguments: {extra}."
        )
    paths = write_report(output, runs, command, arguments.seeds, notes + stale_note, details)
    rows = aggregate(runs)
    names = list(runs)
    metric_bars(rows, names, output / "probes.png")
    robustness_curves(rows, names, output / "robustness.png")
    ranking_bars(rows, names, output / "recommendation.png")
    for number, metric in enumerate(arguments.curves):
        name = "curves.png" if number == 0 else f"curves_{metric.replace('/', '_')}.png"
        training_curves(folders, output / name, metric)
    scatter = {}
    target = "target"
    split = evaluation_settings(arguments).get("split", "test")
    for name, by_seed in folders.items():
        folder = by_seed.get(arguments.seeds[0])
        saved = folder / f"embeddings_{split}.npz" if folder else None
        if saved and saved.is_file():
            data = np.load(saved)
            scatter[name] = (data["embeddings"], data["target"])
            target = json.loads((folder / "evaluation.json").read_text())["target"]
    if scatter:
        embedding_scatter(scatter, target, split, output / "embeddings.png")
    print(f"Wrote {paths['md']}, {paths['csv']}, {paths['json']} and plots in {output}")
    print(paths["md"].read_text())


def log_comparison(output: Path, dataset: str) -> None:
    """One W&B run (job type "compare") with the results table and the plots."""
    import wandb

    rows = json.loads((output / "results.json").read_text())["results"]
    wandb.finish()
    run = wandb.init(
        project="eventssl", group=dataset, name="comparison", job_type="compare", dir=str(output)
    )
    table = wandb.Table(columns=["method", "metric", "mean", "std", "n"])
    for row in rows:
        table.add_data(row["method"], row["metric"], row["mean"], row["std"], row["n"])
    images = {p.stem: wandb.Image(str(p)) for p in sorted(output.glob("*.png"))}
    run.log({"results": table, **images})
    run.finish()
