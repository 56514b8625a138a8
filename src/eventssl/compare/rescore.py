"""Re-scoring a finished comparison run with the current evaluation code, without training:
`eventssl evaluate` of the run's own `config.yaml` on the checkpoint its evaluation scored,
which keeps the record of why that checkpoint was chosen (`earlier_record`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from eventssl.callbacks.evaluation import Evaluation
from eventssl.lightning_cli import run_lightning


def rescore_run(folder: Path, evaluation: Mapping, also_score: Sequence[str] = ()) -> None:
    """Evaluate `folder`'s scored checkpoint again into `evaluation.json`, and each
    `evaluation-<choice>.json` it holds or `also_score` names, with the comparison's evaluation
    settings: a copied run keeps no scores of the split it was trained against."""
    held = [path.stem.removeprefix("evaluation-") for path in folder.glob("evaluation-*.json")]
    for choice in (None, *dict.fromkeys([*also_score, *sorted(held)])):
        path = evaluation_path(folder, choice)
        if not path.is_file():
            continue
        recorded = (json.loads(path.read_text()).get("checkpoint") or {}).get("file")
        # this folder's own copy: a moved or copied run records where it was trained, and
        # scoring that file would write beside it, into the other folder
        checkpoint = folder / "checkpoints" / Path(recorded).name if recorded else None
        if checkpoint is None or not checkpoint.is_file():
            raise FileNotFoundError(
                f"{path}: the scored checkpoint {recorded!r} is not in {folder / 'checkpoints'}"
            )
        evaluate_checkpoint(folder, evaluation, choice, checkpoint)


def score_missing(folder: Path, evaluation: Mapping, also_score: Sequence[str]) -> None:
    """Score each `also_score` choice that a finished run has no `evaluation-<choice>.json` for
    (asked for after it trained). Training keeps only the last checkpoint and the one its own
    evaluation scored, so only `last` can be scored afterwards; other choices are refused."""
    for choice in also_score:
        if evaluation_path(folder, choice).is_file():
            continue
        checkpoint = folder / "checkpoints" / "last.ckpt"
        if choice != "last" or not checkpoint.is_file():
            raise RuntimeError(
                f"{folder}: --also_score {choice} was not scored when this run trained and its "
                "checkpoint was not kept; train it again (--rerun true) or leave it out"
            )
        print(f"{folder.name}: scoring its last checkpoint (--also_score last)", flush=True)
        evaluate_checkpoint(folder, evaluation, choice, checkpoint)


def evaluate_checkpoint(
    folder: Path, evaluation: Mapping, choice: str | None, checkpoint: Path
) -> None:
    """`eventssl evaluate` of `folder`'s config on `checkpoint` into `evaluation.json`, or into
    `evaluation-<choice>.json` for an `also_score` choice."""
    config = folder / "config.yaml"
    if not config.is_file():
        raise FileNotFoundError(f"{config}: cannot score {folder.name} without its config")
    settings = {**evaluation, "filename": evaluation_path(folder, choice).name}
    if choice is not None:
        settings["checkpoint"] = choice
    args = ["evaluate", "--config", str(config), f"--ckpt_path={checkpoint}"]
    run_lightning([*args, "--trainer.callbacks=[]"], callbacks=[Evaluation(**settings)])


def evaluation_path(folder: Path, choice: str | None) -> Path:
    """Where a run's evaluation of its scored checkpoint (None) or of an `also_score` choice is."""
    return folder / ("evaluation.json" if choice is None else f"evaluation-{choice}.json")
