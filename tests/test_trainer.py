"""`eventssl evaluate` (`EventTrainer.evaluate`): each split embedded once, no test loop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from eventssl.callbacks import Evaluation
from eventssl.cli import main
from eventssl.data import EventDataModule, write_dataset
from eventssl.data.contract import columns_to_table
from eventssl.evaluation.loaders import probe_datasets
from eventssl.methods import Contrastive
from eventssl.nn import GRUEncoder
from eventssl.trainer import EventTrainer
from tests.conftest import TINY_SCHEMA, tiny_columns


def test_evaluate_embeds_each_split_once(tmp_path: Path) -> None:
    train, test = tiny_columns(40, seed=0), tiny_columns(24, seed=1, first_id=1000)
    write_dataset(
        tmp_path / "data",
        {"train": columns_to_table(train), "test": columns_to_table(test)},
        TINY_SCHEMA,
    )
    data = EventDataModule(str(tmp_path / "data"), batch_size=8, min_length=1)
    encoder = GRUEncoder(TINY_SCHEMA.categorical, {"amount": {"mean": 1, "std": 2}}, hidden_size=8)
    module = Contrastive(encoder)
    checkpoint = tmp_path / "run" / "checkpoints" / "weights.ckpt"
    checkpoint.parent.mkdir(parents=True)
    saved = {name: torch.randn_like(value) for name, value in module.state_dict().items()}
    torch.save({"state_dict": saved, "epoch": 4}, checkpoint)

    seen = []
    encoder.register_forward_hook(lambda _, inputs, output: seen.append(output.shape[0]))
    tested = []
    data.test_dataloader = lambda: tested.append(1)  # a test loop would call it
    trainer = EventTrainer(logger=False, callbacks=[Evaluation(geometry=False)])
    (results,) = trainer.evaluate(module, data, ckpt_path=str(checkpoint))

    probe = probe_datasets(data)
    assert not tested
    assert sum(seen) == len(probe["train"]) + len(probe["test"])  # one pass per split
    for name, value in module.state_dict().items():
        assert torch.equal(value, saved[name]), name  # the checkpoint's weights were scored
    record = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert record["checkpoint"]["file"] == str(checkpoint) and record["epochs_trained"] == 5
    assert record["results"] == pytest.approx(results) and np.isfinite(
        results["probe/linear_roc_auc"]
    )


def test_test_subcommand_points_to_evaluate(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["test", "--help"])
    assert "evaluate" in capsys.readouterr().err
