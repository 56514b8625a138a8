"""Is MLEM's test margin over its teacher, the generative model and the naive hybrid larger than
the test split's sampling error? A paired bootstrap over the test sequences (issue #13).

For each seed, every row's scored checkpoint of `experiments/physionet2012/plateau` is loaded,
the train and test sequences are embedded, and the comparison's linear probe is fitted again
(its AUC must equal the one in the run's evaluation.json). The test rows are then resampled
with replacement, the same draw for every row, and MLEM's AUC minus each other row's is
recorded per draw:

    python experiments/physionet2012/paired_auc.py > experiments/physionet2012/paired_auc.txt

It needs the runs' checkpoints, which are not committed: run it where the comparison ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from eventssl.data.datamodule import EventDataModule
from eventssl.evaluation.embeddings import embed_by_length
from eventssl.evaluation.loaders import probe_datasets
from eventssl.evaluation.probes import DEFAULT_PROBES, build_estimator
from eventssl.methods.checkpoint import load_method

RUNS = Path("experiments/physionet2012/plateau/runs/physionet2012")
ROWS = ("mlem-l2-lambda10", "contrastive", "generative", "naivehybrid")
TARGET = "In-hospital_death"
DRAWS = 2000


def test_scores(run: Path, datamodule: EventDataModule) -> tuple[np.ndarray, np.ndarray, float]:
    """The linear probe's test probabilities (N,), the labels (N,) and the recorded AUC."""
    record = json.loads((run / "evaluation.json").read_text())
    checkpoint = run / "checkpoints" / Path(record["checkpoint"]["file"]).name
    module = load_method(checkpoint, map_location="cpu")
    datasets = probe_datasets(datamodule, TARGET, "test")
    train = embed_by_length(module, datamodule, datasets["train"], TARGET)
    test = embed_by_length(module, datamodule, datasets["test"], TARGET)
    probe = build_estimator(DEFAULT_PROBES["linear"]["classification"])
    probe.fit(train[0], train[1].astype(np.int64))
    return (
        probe.predict_proba(test[0])[:, 1],
        test[1].astype(np.int64),
        record["results"]["probe/linear_roc_auc"],
    )


def main() -> None:
    torch.set_num_threads(1)
    datamodule = EventDataModule("data/physionet2012", max_length=200)
    for seed in (0, 1, 2):
        scores, truth = {}, None
        for row in ROWS:
            scores[row], truth, recorded = test_scores(RUNS / f"{row}-seed{seed}", datamodule)
            auc = roc_auc_score(truth, scores[row])
            print(f"seed {seed} {row}: AUC {auc:.4f} (evaluation.json {recorded:.4f})")
        generator = np.random.default_rng(seed)
        draws = generator.integers(0, len(truth), size=(DRAWS, len(truth)))  # (draws, N)
        for other in ROWS[1:]:
            differences = np.array(
                [
                    roc_auc_score(truth[rows], scores[ROWS[0]][rows])
                    - roc_auc_score(truth[rows], scores[other][rows])
                    for rows in draws
                ]
            )
            low, high = np.percentile(differences, [2.5, 97.5])
            observed = roc_auc_score(truth, scores[ROWS[0]]) - roc_auc_score(truth, scores[other])
            above = float(np.mean(differences > 0))
            print(
                f"seed {seed} MLEM - {other}: {observed:+.4f}, 95 % interval "
                f"[{low:+.4f}, {high:+.4f}], share of draws above 0: {above:.3f}"
            )


if __name__ == "__main__":
    main()
