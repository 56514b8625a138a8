"""benchmarks/recbole: RecBole's predictions scored with eventssl's metric code, the throughput
summary and table, and the eventssl throughput trial's count of training examples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.test_recbole_split import load, next_item_folder

report = load("report")
throughput = load("throughput")


def write_run(folder: Path, scores: list[list[float]], targets: list[int], reported: dict) -> Path:
    folder.mkdir(parents=True)
    np.savez(folder / "predictions.npz", scores=np.array(scores, np.float32), targets=targets)
    result = {"recbole_test": reported, "best_epoch": 3, "epochs_run": 14, "seed": 0}
    (folder / "result.json").write_text(json.dumps(result | {"parameters": 10}))
    return folder


def test_predictions_are_ranked_with_eventssl_metrics(tmp_path: Path) -> None:
    # codes 0 and 1 (padding, missing) are never ranked, whatever their score
    scores = [[9.0, 9.0, 0.3, 0.2, 0.1, 0.0], [9.0, 9.0, 0.4, 0.3, 0.2, 0.1]]
    reported = {f"hit@{k}": 1.0 for k in (5, 10, 20)} | {"ndcg@5": 0.7, "ndcg@10": 0.75}
    reported["ndcg@20"] = 0.75
    folder = write_run(tmp_path / "run", scores, [2, 4], reported)  # ranks 1 and 3
    quality = report.score_predictions(folder)
    assert quality["eventssl_metric"]["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 2)
    assert quality["eventssl_metric"]["hr@5"] == 1.0
    assert quality["recbole_metric"]["hr@10"] == 1.0  # RecBole's "hit" is eventssl's "hr"
    assert quality["largest_difference"] == pytest.approx(0.05)
    assert quality["best_epoch"] == 3 and quality["users"] == 2


def write_trial(folder: Path, name: str, system: str, seconds: list[float], examples: int) -> None:
    trial = {"system": system, "threads": 1, "parameters": 100, "examples_per_epoch": examples}
    trial |= {"batches_per_epoch": 4, "epoch_seconds": seconds}
    (folder / f"{name}.json").write_text(json.dumps(trial))


def test_throughput_is_the_median_over_trials_of_median_epochs(tmp_path: Path) -> None:
    trials = tmp_path / "trials"
    trials.mkdir()
    write_trial(trials, "0-eventssl", "eventssl_nextitem", [9.0, 2.0, 3.0], 600)  # median 3
    write_trial(trials, "1-eventssl", "eventssl_nextitem", [4.0, 5.0], 600)  # median 4.5
    write_trial(trials, "2-eventssl", "eventssl_nextitem", [2.0], 600)  # median 2
    write_trial(trials, "0-recbole", "recbole_sasrec", [100.0, 140.0], 1000)  # median 120
    built = report.build_report(None, trials, None)
    assert built["throughput"]["eventssl_nextitem"]["seconds_per_epoch"] == 3.0
    assert built["throughput"]["eventssl_nextitem"]["examples_per_second"] == 200.0
    assert built["throughput"]["recbole_sasrec"]["trials"] == 1
    assert built["speedup"] == pytest.approx(200.0 / (1000.0 / 120.0))
    assert "(≥ 1.5×: met)" in report.markdown(built)
    with pytest.raises(FileNotFoundError, match="no trial result"):
        report.summarise_trials(tmp_path)


def test_eventssl_ndcg_is_compared_with_sasrec(tmp_path: Path) -> None:
    scores = [[0.0, 0.0, 0.3, 0.2], [0.0, 0.0, 0.4, 0.3]]
    reported = {f"{name}@{k}": 1.0 for name in ("hit", "ndcg") for k in (5, 10, 20)}
    folder = write_run(tmp_path / "run", scores, [2, 2], reported)  # NDCG 1
    evaluation = tmp_path / "evaluation.json"
    results = {f"recommendation/{m}": 0.96 for m in report.METRICS}
    evaluation.write_text(json.dumps({"results": results}))
    built = report.build_report(folder, None, evaluation)
    assert built["ndcg10_ratio"] == pytest.approx(0.96)
    assert "(±5 %: met)" in report.markdown(built)
    del results["recommendation/hr@20"]
    evaluation.write_text(json.dumps({"results": results}))
    with pytest.raises(ValueError, match="no recommendation/hr@20"):
        report.eventssl_test(evaluation)


def test_eventssl_trial_counts_the_pairs_it_trains(tmp_path: Path) -> None:
    """nextitem.yaml keeps the last 50 events: a 60-event user's 58 training events give 49
    (prefix, next item) pairs, not 57; a 5-event user's 3 give 2."""
    rows = [(1, item, item) for item in range(10, 70)] + [(2, item, item) for item in range(5)]
    folder = next_item_folder(tmp_path / "data", rows)
    result = throughput.measure(throughput.CONFIG, folder, epochs=2, seed=0)
    assert result["examples_per_epoch"] == 49 + 2
    assert len(result["epoch_seconds"]) == 2 and min(result["epoch_seconds"]) > 0
    assert result["batches_per_epoch"] == 1
