"""The comparison report's next-item section and plot, from aggregated rows."""

from __future__ import annotations

from pathlib import Path

from eventssl.compare.plots import metric_bars, ranking_bars
from eventssl.compare.report import aggregate, by_cutoff, write_report

RUNS = {
    "nextitem": {
        0: {"recommendation/ndcg@10": 0.04, "recommendation/ndcg@5": 0.03},
        1: {"recommendation/ndcg@10": 0.06, "recommendation/ndcg@5": 0.05},
    },
    "contrastive": {0: {"next_item_probe/ndcg@10": 0.01}, 1: {"next_item_probe/ndcg@10": 0.03}},
}


def test_cutoffs_sort_numerically() -> None:
    names = ["ndcg@20", "hr@10", "ndcg@5", "ndcg@10", "loss"]
    assert sorted(names, key=by_cutoff) == ["hr@10", "loss", "ndcg@5", "ndcg@10", "ndcg@20"]


def test_the_report_has_a_ranking_table(tmp_path: Path) -> None:
    paths = write_report(tmp_path, RUNS, "eventssl compare", [0, 1])
    text = paths["md"].read_text()
    header = next(line for line in text.splitlines() if "recommendation/ndcg@5" in line)
    assert header.index("recommendation/ndcg@5") < header.index("recommendation/ndcg@10")
    assert "| nextitem | – | 0.0400 ± 0.0100 | 0.0500 ± 0.0100 |" in text
    assert "| contrastive | 0.0200 ± 0.0100 | – | – |" in text


def test_ranking_bars(tmp_path: Path) -> None:
    rows = aggregate(RUNS)
    assert ranking_bars(rows, list(RUNS), tmp_path / "r.png").stat().st_size > 1000
    probes_only = [row for row in rows if row["metric"].startswith("probe/")]
    assert ranking_bars(probes_only, list(RUNS), tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    assert metric_bars(rows, list(RUNS), tmp_path / "probes.png") is None  # no probe/ metric
    assert not (tmp_path / "probes.png").exists()
