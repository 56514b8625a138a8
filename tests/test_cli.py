"""The shipped configs parse, train a step, write a checkpoint that loads back; links hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from eventssl.cli import main
from eventssl.data import EventCollator, EventDataset
from eventssl.methods import load_method

CONFIGS = [
    path
    for path in sorted((Path(__file__).parents[1] / "experiments" / "pendulum").glob("*.yaml"))
    # dataset.yaml is the part the method configs load; MLEM is tested with its teacher
    if "model:" in path.read_text() and "methods.MLEM" not in path.read_text()
]
SMALL = [
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=2",
    "--trainer.limit_val_batches=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.log_every_n_steps=1",
    "--model.init_args.encoder.init_args.hidden_size=16",
    "--data.batch_size=16",
    "--data.generate_pendulum=null",
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_config_fits_and_checkpoint_loads(
    config: Path, pendulum_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(config), f"--data.path={pendulum_dataset}", *SMALL])
    checkpoints = list(tmp_path.glob("runs/**/checkpoints/last.ckpt"))
    assert len(checkpoints) == 1, checkpoints
    module = load_method(checkpoints[0])
    expected = "contrastive" if config.stem == "quickstart" else config.stem.replace("_", "")
    assert type(module).__name__.lower() == expected
    assert module.encoder.hidden_size == 16
    assert module.encoder.embedder.numerical_names == ["x", "y"]  # linked from the schema
    batch = EventCollator(EventDataset.from_folder(pendulum_dataset, "test"), 100)([0, 1, 2])
    module.eval()
    with torch.no_grad():
        assert module.embed(batch).shape == (3, 16)


def test_not_a_cli_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "plain.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {}}, path)
    with pytest.raises(ValueError, match=r"plain.ckpt records no method class"):
        load_method(path)
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        load_method(tmp_path / "missing.ckpt")


def test_print_config_omits_linked_schema(capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(__file__).parents[1] / "experiments" / "pendulum" / "contrastive.yaml"
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(config), "--print_config"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "class_path: eventssl.methods.Contrastive" in printed
    assert "num_views: 5" in printed
    assert "numerical:" not in printed  # linked from the data, never written in YAML


def test_wrong_views_from_the_command_line(
    pendulum_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = Path(__file__).parents[1] / "experiments" / "pendulum" / "generative.yaml"
    args = ["fit", "--config", str(config), f"--data.path={pendulum_dataset}", *SMALL]
    with pytest.raises(ValueError, match=r"Generative needs exactly 1 view.*data.num_views=3"):
        main([*args, "--data.num_views=3"])


def tensorboard_tags(folder: Path) -> set[str]:
    """Scalar tags in a folder's TensorBoard event files (TFRecord framing of `Event` protos)."""
    from tensorboardX.proto.event_pb2 import Event

    tags = set()
    for path in folder.glob("events.out.tfevents.*"):
        data, position = path.read_bytes(), 0
        while position < len(data):
            length = int.from_bytes(data[position : position + 8], "little")
            record = data[position + 12 : position + 12 + length]  # after length + its CRC
            tags |= {value.tag for value in Event.FromString(record).summary.value}
            position += 12 + length + 4  # record + its CRC
    return tags


def test_tensorboard_logger_is_named_and_filled_like_csv(
    pendulum_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = Path(__file__).parents[1] / "experiments" / "pendulum" / "generative.yaml"
    logger = (
        '{"class_path": "lightning.pytorch.loggers.TensorBoardLogger",'
        ' "init_args": {"save_dir": "runs", "name": "pendulum"}}'
    )
    main(
        [
            "fit",
            "--config",
            str(config),
            f"--data.path={pendulum_dataset}",
            *SMALL,
            f"--trainer.logger={logger}",
        ]
    )
    run = tmp_path / "runs" / "pendulum" / "generative-seed0"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "evaluation.json").is_file()
    tags = tensorboard_tags(run)
    assert {"train/loss", "val/loss"} <= tags
    assert any(tag.startswith("probe/") for tag in tags), tags
    assert any(tag.startswith("geometry/") for tag in tags), tags
