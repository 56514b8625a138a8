"""The settings of `eventssl compare` (a YAML file or flags) and their checks."""

from __future__ import annotations

from jsonargparse import ActionConfigFile, ArgumentParser

from eventssl.callbacks.selection import CHOICES
from eventssl.compare.stale import POLICIES


def parser(description: str = "") -> ArgumentParser:
    parser = ArgumentParser(
        prog="eventssl compare",
        description=description,
    )
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
    parser.add_argument(
        "--variants",
        type=dict[str, dict],
        default={},
        help="named rows: {name: {method: <config>, overrides: [...], teacher: <row>}}; list "
        "the names in --methods",
    )
    parser.add_argument("--evaluation", type=dict, default={}, help="Evaluation callback args")
    parser.add_argument(
        "--checkpoint",
        type=str,
        default="paper",
        help="checkpoint scored: paper (MLEM §4 per method), best (min val/loss) or last",
    )
    parser.add_argument(
        "--also_score",
        type=list[str],
        default=[],
        help="further checkpoints scored from the same runs (e.g. [last]); each is reported as "
        "the row '<row> (<choice>)' and written to evaluation-<choice>.json",
    )
    parser.add_argument(
        "--curves",
        type=list[str],
        default=["val/loss"],
        help="logged metrics plotted per epoch: curves.png for the first, "
        "curves_<metric>.png for the others",
    )
    parser.add_argument(
        "--patience",
        type=int | None,
        default=None,
        help="stop a run after this many validations without a lower val/loss (null = train "
        "trainer.max_epochs)",
    )
    parser.add_argument(
        "--stop_on",
        type=str,
        default="val_loss",
        help="what --patience watches: val_loss, or selection (each method's own checkpoint "
        "criterion, e.g. val/ndcg@10 for NextItem and MCLRec as MCLRec's code does; val/loss "
        "for methods without one)",
    )
    parser.add_argument(
        "--teacher",
        type=str,
        default="per_seed",
        help="MLEM teachers: per_seed (one contrastive teacher per seed) or shared (the first "
        "seed's teacher for every seed, as the paper did)",
    )
    parser.add_argument(
        "--finetune_budgets",
        type=list[int | None],
        default=[],
        help="label budgets (null = all labels): fine-tune every SSL encoder with Supervised "
        "on the first N labelled sequences, next to Supervised from scratch (MLEM §5.3)",
    )
    parser.add_argument(
        "--finetune_methods",
        type=list[str] | None,
        default=None,
        help="rows whose encoders are fine-tuned (null = every self-supervised row)",
    )
    parser.add_argument(
        "--finetune_overrides",
        type=list[str],
        default=[],
        help="extra eventssl fit arguments of the fine-tuning runs, e.g. a shorter budget",
    )
    parser.add_argument("--rerun", type=bool, default=False, help="retrain finished runs")
    parser.add_argument(
        "--stale",
        type=str,
        default="error",
        help="finished runs whose saved config differs from what this comparison asks for "
        "today: error (stop before training, naming them and the settings), retrain, or keep "
        "(report them as they are, noted in results.md)",
    )
    parser.add_argument(
        "--rescore",
        type=bool,
        default=False,
        help="evaluate finished runs again (their scored checkpoints, current evaluation code) "
        "instead of reading their evaluation.json, and every evaluation-<choice>.json they "
        "hold; nothing is trained again",
    )
    parser.add_argument(
        "--wandb",
        type=bool,
        default=False,
        help="also log every run to Weights & Biases (offline unless configured), grouped by "
        "dataset, named <method>-seed<seed>, job type = method; plots logged at the end",
    )
    return parser


def check_settings(arguments) -> None:
    """Refuse bad settings before anything trains."""
    for choice in [arguments.checkpoint, *arguments.also_score]:
        if choice not in CHOICES:
            raise ValueError(
                f"--checkpoint and --also_score take {', '.join(CHOICES)}; got {choice!r}"
            )
    if arguments.teacher not in ("per_seed", "shared"):
        raise ValueError(f"--teacher must be per_seed or shared; got {arguments.teacher!r}")
    if arguments.stale not in POLICIES:
        raise ValueError(f"--stale must be one of {', '.join(POLICIES)}; got {arguments.stale!r}")
    if arguments.stop_on not in ("val_loss", "selection"):
        raise ValueError(f"--stop_on must be val_loss or selection; got {arguments.stop_on!r}")
    if arguments.patience is not None and arguments.patience < 1:
        raise ValueError(
            f"--patience must be a positive number of validations; got {arguments.patience}"
        )
    unknown = set(arguments.finetune_methods or []) - set(arguments.methods)
    if unknown and arguments.finetune_budgets:  # without a budget nothing is fine-tuned
        raise ValueError(
            f"--finetune_methods names rows not in --methods: {', '.join(sorted(unknown))}"
        )
    if not arguments.seeds:
        raise ValueError("--seeds is empty")
