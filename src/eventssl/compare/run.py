"""`eventssl compare --config FILE`: train every method for several seeds, evaluate, report.

The contrastive teacher of each seed is trained first and reused by MLEM of the same seed.
Every run goes through `eventssl fit` with the method's own config plus the comparison's
overrides, so a comparison is exactly reproducible from its config.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from jsonargparse import ActionConfigFile, ArgumentParser

from eventssl.callbacks.evaluation import read_results
from eventssl.compare.plots import embedding_scatter, metric_bars, robustness_curves
from eventssl.compare.report import aggregate, write_report

TEACHER = "contrastive"


def parser() -> ArgumentParser:
    parser = ArgumentParser(prog="eventssl compare", description=__doc__)
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_argument("--configs", type=str, required=True, help="folder of <method>.yaml")
    parser.add_argument(
        "--methods",
        type=list[str],
        default=["contrastive", "generative", "naive_hybrid", "mlem", "supervised"],
    )
    parser.add_argument("--seeds", type=list[int], default=[0, 1, 2])
    parser.add_argument("--output", type=str, required=True, help="folder for runs and results")
    parser.add_argument("--overrides", type=list[str], default=[], help="eventssl fit arguments")
    parser.add_argument(
        "--method_overrides",
        type=dict[str, list[str]],
        default={},
        help="extra eventssl fit arguments per method, e.g. decoder sizes",
    )
    parser.add_argument("--evaluation", type=dict, default={}, help="Evaluation callback args")
    parser.add_argument(
        "--finetune_budgets",
        type=list[int | None],
        default=[],
        help="label budgets (null = all labels): fine-tune every SSL encoder with Supervised "
        "on the first N labelled sequences, next to Supervised from scratch (MLEM §5.3)",
    )
    parser.add_argument("--rerun", type=bool, default=False, help="retrain finished runs")
    parser.add_argument(
        "--wandb",
        type=bool,
        default=False,
        help="also log every run to Weights & Biases (offline unless configured), grouped by "
        "dataset, named <method>-seed<seed>, job type = method; plots logged at the end",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    arguments = parser().parse_args(argv)
    command = "eventssl compare " + shlex.join(argv if argv is not None else sys.argv[1:])
    output = Path(arguments.output)
    methods = list(arguments.methods)
    if "mlem" in methods and TEACHER not in methods:
        methods.insert(0, TEACHER)
    order = sorted(methods, key=lambda name: name != TEACHER)  # the teacher first
    total = len(order) * len(arguments.seeds)
    runs: dict[str, dict[int, dict[str, float]]] = {method: {} for method in methods}
    done = 0
    for seed in arguments.seeds:
        for method in order:
            done += 1
            started = time.perf_counter()
            print(f"[{done}/{total}] {method}, seed {seed}", flush=True)
            folder = run_folder(output, method, seed)
            if arguments.rerun or folder is None or not (folder / "evaluation.json").is_file():
                fit(arguments, method, seed, output)
                folder = run_folder(output, method, seed)
            if folder is None or not (folder / "evaluation.json").is_file():
                raise RuntimeError(f"{method} seed {seed} wrote no evaluation.json under {output}")
            runs[method][seed] = read_results(folder / "evaluation.json")
            print(
                f"[{done}/{total}] {method}, seed {seed}: done in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        for budget in arguments.finetune_budgets:
            for source in [m for m in order if m != "supervised"] + [None]:
                label = finetune_label(source, budget)
                print(f"fine-tuning: {label}, seed {seed}", flush=True)
                runs.setdefault(label, {})[seed] = finetune(arguments, source, budget, seed, output)
    report(output, runs, list(runs), command, arguments.seeds)
    if arguments.wandb:
        log_comparison(output, Path(arguments.configs).name)


def finetune_label(source: str | None, budget: int | None) -> str:
    labels = "all labels" if budget is None else f"{budget} labels"
    return f"{source or 'scratch'} → supervised, {labels}"


def finetune(
    arguments, source: str | None, budget: int | None, seed: int, output: Path
) -> dict[str, float]:
    """Supervised from `source`'s encoder (or from scratch) on the first `budget` labels."""
    version = f"finetune-{source or 'scratch'}-{budget or 'all'}-seed{seed}"
    found = sorted((output / "runs").glob(f"*/{version}/evaluation.json"))
    if arguments.rerun or not found:
        extra = []
        if budget is not None:
            extra.append(f"--data.labelled_limit={budget}")
        if source is not None:
            checkpoint = run_folder(output, source, seed) / "checkpoints" / "last.ckpt"
            extra.append(f"--model.init_args.pretrained_ckpt={checkpoint}")
        fit(arguments, "supervised", seed, output, extra, version)
        found = sorted((output / "runs").glob(f"*/{version}/evaluation.json"))
    results = read_results(found[0])
    return {k: v for k, v in results.items() if k.startswith("supervised/")}


def run_folder(output: Path, method: str, seed: int) -> Path | None:
    """runs/<dataset>/<method>-seed<seed>, named by `eventssl.cli.run_name`."""
    found = sorted((output / "runs").glob(f"*/{method.replace('_', '')}-seed{seed}"))
    return found[0] if found else None


def fit(
    arguments,
    method: str,
    seed: int,
    output: Path,
    extra: list[str] | None = None,
    version: str | None = None,
) -> None:
    """One `eventssl fit` of `method`: CSV logs in output/runs/<dataset>/<run> (+ W&B)."""
    from eventssl.cli import main as eventssl

    evaluation = {"save_embeddings": True, **arguments.evaluation}
    callbacks = [
        {
            "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
            "init_args": {"save_last": True},
        },
        {"class_path": "eventssl.callbacks.Evaluation", "init_args": evaluation},
    ]
    dataset = Path(arguments.configs).name
    loggers = [
        {
            "class_path": "lightning.pytorch.loggers.CSVLogger",
            "init_args": {"save_dir": str(output / "runs"), "name": dataset, "version": version},
        }
    ]
    if arguments.wandb:
        loggers.append(
            {
                "class_path": "lightning.pytorch.loggers.WandbLogger",
                "init_args": {
                    "save_dir": str(output),
                    "project": "eventssl",
                    "group": dataset,
                    "name": version,
                },
            }
        )
    args = [
        "fit",
        "--config",
        str(Path(arguments.configs) / f"{method}.yaml"),
        *arguments.overrides,
        *arguments.method_overrides.get(method, []),
        f"--seed_everything={seed}",
        f"--trainer.logger={json.dumps(loggers)}",
        f"--trainer.callbacks={json.dumps(callbacks)}",
    ]
    if method == "mlem":
        teacher = run_folder(output, TEACHER, seed)
        if teacher is None:
            raise RuntimeError(f"no contrastive teacher for seed {seed} under {output}")
        args.append(f"--model.init_args.teacher_ckpt={teacher / 'checkpoints' / 'last.ckpt'}")
    eventssl([*args, *(extra or [])])
    if arguments.wandb:
        import wandb

        wandb.finish()  # close this run before the next one starts in the same process


def report(output: Path, runs: dict, methods: list[str], command: str, seeds: list[int]) -> None:
    paths = write_report(output, runs, command, seeds)
    rows = aggregate(runs)
    metric_bars(rows, methods, output / "probes.png")
    robustness_curves(rows, methods, output / "robustness.png")
    scatter = {}
    target = "target"
    for method in methods:
        folder = run_folder(output, method, seeds[0])
        saved = folder / "embeddings_test.npz" if folder else None
        if saved and saved.is_file():
            data = np.load(saved)
            scatter[method] = (data["embeddings"], data["target"])
            target = json.loads((folder / "evaluation.json").read_text())["target"]
    if scatter:
        embedding_scatter(scatter, target, output / "embeddings.png")
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
