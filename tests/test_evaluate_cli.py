"""Evaluation after fit, `eventssl evaluate` and `predict` on a checkpoint, `eventssl compare`."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import wandb
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from eventssl.callbacks import Evaluation, read_results
from eventssl.cli import main
from eventssl.data import EventDataModule, write_dataset
from eventssl.data.contract import columns_to_table
from eventssl.methods import Contrastive
from eventssl.nn import GRUEncoder
from tests.conftest import TINY_SCHEMA, tiny_columns

PENDULUM = Path(__file__).parents[1] / "experiments" / "pendulum"
EVALUATION = {"robustness": True, "drop_probabilities": [0.5], "next_events": 1}
SMALL = [
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=2",
    "--trainer.enable_progress_bar=false",
    "--trainer.log_every_n_steps=1",
    "--model.init_args.encoder.init_args.hidden_size=16",
    "--data.batch_size=32",
    "--data.generate_pendulum=null",
]


def callbacks(evaluation: dict) -> str:
    return json.dumps(
        [
            {
                "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                "init_args": {"save_last": True},
            },
            {"class_path": "eventssl.callbacks.Evaluation", "init_args": evaluation},
            {"class_path": "eventssl.callbacks.EmbeddingWriter"},
        ]
    )


def small_run(dataset: Path, save_dir: Path, evaluation: dict) -> list[str]:
    """Arguments of a small `fit`/`evaluate`/`predict` on `dataset`, runs under `save_dir`."""
    return [
        f"--data.path={dataset}",
        *SMALL,
        f"--trainer.logger.init_args.save_dir={save_dir}",
        f"--trainer.callbacks={callbacks(evaluation)}",
    ]


def test_fit_evaluate_and_predict(pendulum_dataset: Path, tmp_path: Path) -> None:
    config = str(PENDULUM / "contrastive.yaml")
    common = small_run(pendulum_dataset, tmp_path, EVALUATION)
    main(["fit", "--config", config, *common])
    (run,) = tmp_path.glob("*/contrastive-seed0")
    after_fit = read_results(run / "evaluation.json")
    for key in (
        "probe/linear_mse",
        "probe/boosting_mse",
        "probe/constant_mse",
        "geometry/anisotropy",
        "geometry/intrinsic_dimension_twonn",
        "robustness/drop_0.5/linear_mse",
        "robustness/shuffle/linear_mse",
        "next_event/next1_delta/linear_mse",
    ):
        assert key in after_fit and np.isfinite(after_fit[key]), key

    # re-scoring the fit's scored checkpoint recomputes the results and keeps its record
    written = json.loads((run / "evaluation.json").read_text())
    (run / "evaluation.json").write_text(json.dumps(written | {"results": {}}))
    checkpoint = run / "checkpoints" / "last.ckpt"
    main(["evaluate", "--config", config, *common, f"--ckpt_path={checkpoint}"])
    rescored = json.loads((run / "evaluation.json").read_text())
    assert rescored["results"] == pytest.approx(after_fit)
    assert rescored["checkpoint"] == written["checkpoint"]
    assert written["checkpoint"]["criterion"] == "last" and rescored["epochs_trained"] == 1
    (run / "evaluation.json").unlink()  # without an earlier record: the given checkpoint
    # the run's own saved fit config works for evaluate
    main(["evaluate", "--config", str(run / "config.yaml"), f"--ckpt_path={checkpoint}"])
    assert read_results(run / "evaluation.json") == pytest.approx(after_fit)
    assert json.loads((run / "evaluation.json").read_text())["checkpoint"]["criterion"] == "given"

    main(["predict", "--config", config, *common, f"--ckpt_path={checkpoint}"])
    test = pq.read_table(run / "embeddings_test.parquet")
    assert test.num_rows == 100 and test.column_names == ["seq_id", "embedding", "length"]
    assert len(test.column("embedding")[0]) == 16
    train = pq.read_table(run / "embeddings_train.parquet")
    val = pq.read_table(run / "embeddings_val.parquet")
    assert train.num_rows + val.num_rows == 300
    ids = set(train.column("seq_id").to_pylist()) | set(val.column("seq_id").to_pylist())
    assert ids.isdisjoint(test.column("seq_id").to_pylist())

    # the probes' numbers against a naive reference on the embeddings `predict` wrote
    def features(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(table.column("embedding").to_pylist()), table.column("length").to_numpy()

    (x_train, y_train), (x_test, y_test) = features(train), features(test)
    reference = make_pipeline(MaxAbsScaler(), LinearRegression()).fit(x_train, y_train)
    linear = np.mean((reference.predict(x_test) - y_test) ** 2)
    assert after_fit["probe/linear_mse"] == pytest.approx(linear, rel=1e-4)
    constant = np.mean((y_test - y_train.mean()) ** 2)
    assert after_fit["probe/constant_mse"] == pytest.approx(constant, rel=1e-6)


def test_evaluation_skips_without_labels(tmp_path: Path) -> None:
    unlabelled = tiny_columns(40, seed=0)
    unlabelled.targets["flag"][:] = np.nan
    test = tiny_columns(40, seed=1, first_id=1000)  # other sequences: splits never share ids
    test.targets["flag"][:] = np.nan
    write_dataset(
        tmp_path / "data",
        {"train": columns_to_table(unlabelled), "test": columns_to_table(test)},
        TINY_SCHEMA,
    )
    encoder = GRUEncoder(TINY_SCHEMA.categorical, {"amount": {"mean": 1, "std": 2}}, hidden_size=8)
    evaluation = Evaluation()
    trainer = L.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        callbacks=[evaluation],
        default_root_dir=tmp_path,
    )
    data = EventDataModule(
        str(tmp_path / "data"), batch_size=8, num_views=2, min_view_length=1, min_length=1
    )
    with pytest.warns(UserWarning, match="Evaluation skipped"):
        trainer.fit(Contrastive(encoder), data)
    assert evaluation.results == {} and not (tmp_path / "evaluation.json").exists()


def test_results_json_round_trips(tmp_path: Path) -> None:
    evaluation = Evaluation()
    evaluation.results = {"probe/linear_mse": 0.25, "geometry/anisotropy": float("nan")}

    datamodule = type("D", (), {"schema": TINY_SCHEMA})()
    module = Contrastive(GRUEncoder(hidden_size=4))
    path = evaluation.write(tmp_path, module, datamodule, step=30, epochs_trained=3)
    assert read_results(path) == {"probe/linear_mse": 0.25, "geometry/anisotropy": None}
    assert json.loads(path.read_text())["target"] == "flag"


def test_compare_end_to_end(pendulum_dataset: Path, tmp_path: Path) -> None:
    overrides = [f"--data.path={pendulum_dataset}", *SMALL, "--trainer.enable_model_summary=false"]
    command = [
        "compare",
        f"--configs={PENDULUM}",
        "--methods=[mlem, supervised]",
        "--seeds=[0, 1]",
        f"--output={tmp_path}",
        f"--overrides={json.dumps(overrides)}",
        '--evaluation={"geometry": false}',
        "--finetune_budgets=[60]",
    ]
    main(command)
    report = json.loads((tmp_path / "results.json").read_text())
    methods = {row["method"] for row in report["results"]}
    finetuned = {f"{m} → supervised, 60 labels" for m in ("contrastive", "mlem", "scratch")}
    assert methods == {"contrastive", "mlem", "supervised"} | finetuned  # the teacher joins MLEM
    scores = [r for r in report["results"] if r["method"] in finetuned]
    assert {r["metric"] for r in scores} == {"supervised/mse"} and all(r["n"] == 2 for r in scores)
    linear = [r for r in report["results"] if r["metric"] == "probe/linear_mse"]
    assert all(r["n"] == 2 and r["mean"] == pytest.approx(np.mean(r["values"])) for r in linear)
    assert all(r["std"] == pytest.approx(np.std(r["values"])) for r in linear)
    text = (tmp_path / "results.md").read_text()
    assert "| mlem |" in text and "eventssl compare" in text
    for plot in ("probes.png", "embeddings.png"):
        assert (tmp_path / plot).stat().st_size > 1000

    # --rescore evaluates the finished runs again from their scored checkpoints, training none
    run = tmp_path / "runs" / "pendulum" / "mlem-seed1"
    written = json.loads((run / "evaluation.json").read_text())
    (run / "evaluation.json").write_text(json.dumps(written | {"results": {}}))
    # a score of the last checkpoint on another split, as a run copied from a validation study
    # holds: rescored on today's split too, though this comparison does not ask for it
    last = {"choice": "last", "criterion": "last", "file": str(run / "checkpoints" / "last.ckpt")}
    last |= {"epoch": written["epochs_trained"], "value": None}
    stale = written | {"results": {}, "split": "val", "checkpoint": last}
    (run / "evaluation-last.json").write_text(json.dumps(stale))
    trained = {path: path.stat().st_mtime_ns for path in run.glob("checkpoints/*.ckpt")}
    main([*command, "--rescore=true"])
    rescored = json.loads((run / "evaluation.json").read_text())
    assert rescored["results"] == pytest.approx(written["results"])
    assert rescored["checkpoint"] == written["checkpoint"]
    last_scored = json.loads((run / "evaluation-last.json").read_text())
    assert last_scored["split"] == written["split"] == "test"
    assert last_scored["checkpoint"]["choice"] == "last"
    assert last_scored["results"].keys() == written["results"].keys()
    assert trained == {path: path.stat().st_mtime_ns for path in run.glob("checkpoints/*.ckpt")}


def test_compare_logs_to_wandb_offline(
    pendulum_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    overrides = [f"--data.path={pendulum_dataset}", *SMALL, "--trainer.enable_model_summary=false"]
    main(
        [
            "compare",
            f"--configs={PENDULUM}",
            "--methods=[supervised]",
            "--seeds=[3]",
            f"--output={tmp_path}",
            f"--overrides={json.dumps(overrides)}",
            '--evaluation={"geometry": false}',
            "--wandb=true",
        ]
    )
    wandb.teardown()  # the W&B service writes its files asynchronously: wait until they are
    runs = sorted((tmp_path / "wandb").glob("offline-run-*"))
    records = [next(run.glob("*.wandb")).read_bytes() for run in runs]
    assert len(records) == 2  # the supervised run and the comparison
    method_run = next(r for r in records if b"supervised-seed3" in r)
    assert b"pendulum" in method_run and b"probe/linear_mse" in method_run  # group, summary
    comparison = next(r for r in records if b"comparison" in r)
    assert b"probes" in comparison  # the plots went with it
    assert (tmp_path / "runs" / "pendulum" / "supervised-seed3" / "evaluation.json").is_file()
