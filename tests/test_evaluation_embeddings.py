"""`Evaluation(save_embeddings=True)` writes the embeddings of the split it scores: a validation
ablation must not write (or plot) test embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from eventssl.cli import main
from tests.test_evaluate_cli import PENDULUM, small_run


@pytest.mark.parametrize("split", ["val", "test"])
def test_saved_embeddings_are_the_scored_split(
    pendulum_dataset: Path, tmp_path: Path, split: str
) -> None:
    config = str(PENDULUM / "contrastive.yaml")
    evaluation = {"geometry": False, "split": split, "save_embeddings": True}
    common = small_run(pendulum_dataset, tmp_path, evaluation)
    main(["fit", "--config", config, *common])
    (run,) = tmp_path.glob("*/contrastive-seed0")
    assert json.loads((run / "evaluation.json").read_text())["split"] == split
    assert sorted(path.name for path in run.glob("embeddings_*.npz")) == [f"embeddings_{split}.npz"]
    saved = np.load(run / f"embeddings_{split}.npz")

    # the same rows as `predict` writes for that split (EmbeddingWriter), up to their order
    main(["predict", "--config", config, *common, f"--ckpt_path={run / 'checkpoints/last.ckpt'}"])
    table = pq.read_table(run / f"embeddings_{split}.parquet")
    expected = np.stack(table.column("embedding").to_pylist())
    truth = table.column("length").to_numpy()
    assert saved["embeddings"].shape == expected.shape
    order, reference = np.argsort(saved["target"]), np.argsort(truth)
    np.testing.assert_allclose(saved["target"][order], truth[reference])
    np.testing.assert_allclose(saved["embeddings"][order], expected[reference], atol=1e-5)
