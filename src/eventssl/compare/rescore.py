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
    """Evaluate `folder`'s scored checkpoint again into `evaluation.json` (and each
    `evaluation-<choice>.json` of `also_score`) with the comparison's evaluation settings."""
    config = folder / "config.yaml"
    if not config.is_file():
        raise FileNotFoundError(f"{config}: cannot re-score {folder.name} without its config")
    for choice in (None, *also_score):
        filename = "evaluation.json" if choice is None else f"evaluation-{choice}.json"
        path = folder / filename
        if not path.is_file():
            continue
        checkpoint = (json.loads(path.read_text()).get("checkpoint") or {}).get("file")
        if not checkpoint or not Path(checkpoint).is_file():
            raise FileNotFoundError(f"{path}: the scored checkpoint {checkpoint!r} is missing")
        settings = {**evaluation, "filename": filename}
        if choice is not None:
            settings["checkpoint"] = choice
        args = ["evaluate", "--config", str(config), f"--ckpt_path={checkpoint}"]
        run_lightning([*args, "--trainer.callbacks=[]"], callbacks=[Evaluation(**settings)])
