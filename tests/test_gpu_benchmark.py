"""benchmarks/gpu.py end to end at its tiny size on CPU: tables, rows, rates, the budget."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gpu  # noqa: E402
import gpu_schedule  # noqa: E402

METHODS = {"contrastive", "generative", "naive_hybrid", "mlem", "supervised"}


def run(tmp_path: Path, tiny_dataset: Path, *options: str) -> tuple[dict, str]:
    output = tmp_path / "results"
    missing_python = tmp_path / "no-peer-venv" / "python"
    arguments = ["--tiny", "--physionet", str(tiny_dataset), "--output", str(output)]
    gpu.main([*arguments, "--peer-python", str(missing_python), *options])
    return json.loads((output / "gpu.json").read_text()), (output / "gpu.md").read_text()


def table_rows(markdown: str, title: str) -> list[list[str]]:
    """Data rows of the markdown table under a `## title` heading."""
    section = markdown.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_tiny_run_writes_one_row_per_method(
    tmp_path: Path, tiny_dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the tests' tiny dataset (categorical, numeric with missing values, binary target)
    # stands in for PhysioNet; Pendulum is generated small
    payload, markdown = run(tmp_path, tiny_dataset)
    printed = capsys.readouterr().out
    assert "peers skipped: no peer interpreter at" in printed
    assert set(payload["summary"]) == {"pendulum", "physionet"}
    for dataset, systems in payload["summary"].items():
        assert set(systems) == METHODS, dataset
        for method, variants in systems.items():
            fp32 = variants["fp32"]
            for column in ("events/s", "sequences/s", "GFLOP/s"):
                assert math.isfinite(fp32[column]) and fp32[column] > 0, (dataset, method, column)
            assert fp32["steps"] >= 2 and variants["best"] == {"variant": "fp32"}
            for name in ("bf16", "fp32 compiled", "bf16 compiled"):
                assert variants[name] == {"status": "n/a (cpu)"}
    rows = table_rows(markdown, "Training events/s")
    assert len(rows) == 10  # 2 datasets × 5 methods, no peer rows
    for row in rows:
        assert row[3:5] == ["n/a (cpu)"] * 2  # bf16 and compiled columns
        assert row[9] == "n/a (cpu)"  # peak GPU memory
        assert float(row[2].replace(",", "")) > 0
    epochs = table_rows(markdown, "One full epoch")
    assert sorted((row[0], row[1]) for row in epochs) == sorted((row[0], row[1]) for row in rows)
    for epoch in payload["epochs"]:
        assert epoch["steps"] >= 1 and epoch["wall s"] > 0 and epoch["variant"] == "fp32"
    assert payload["environment"]["command"].startswith("python benchmarks/gpu.py --tiny")


def test_spent_budget_skips_and_says_so(tmp_path: Path, tiny_dataset: Path) -> None:
    payload, markdown = run(tmp_path, tiny_dataset, "--budget-seconds", "0")
    statuses = {trial["status"] for trial in payload["trials"] if trial["variant"] == "fp32"}
    assert statuses == {"skipped (budget)"}
    assert all(epoch["status"].startswith("not run") for epoch in payload["epochs"])
    assert "not run, the budget was spent" in markdown
    assert len(table_rows(markdown, "Training events/s")) == 10


def test_a_folder_without_a_dataset_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        gpu.main(["--physionet", str(tmp_path), "--output", str(tmp_path / "out")])
    assert (
        f"--physionet {tmp_path}: no dataset there (schema.json missing)" in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_gpu_schedule_alternates_and_compiles_the_faster_precision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU-only logic with the trials faked: eager variants and the peer alternate, the
    order rotating per repeat; compile runs in the faster eager precision next to it."""
    rates = {"fp32": 100.0, "bf16": 300.0, "bf16 compiled": 450.0}
    names: list[str] = []  # trials in the order they ran

    def fake_variant(subject: object, variant: object, seconds: float, args: object) -> dict:
        names.append(variant.name)
        return {"events/s": rates[variant.name], "sequences/s": 1.0, "step ms (median)": 10.0}

    def fake_peer(system: str, dataset: str, folder: Path, precision: str, *rest: object) -> dict:
        names.append(f"{system} {precision}")
        return {"events/s": 50.0 if precision == "fp32" else 80.0, "peak GPU MiB": 200.0}

    monkeypatch.setattr(gpu_schedule, "Subject", lambda *arguments: object())
    monkeypatch.setattr(gpu_schedule, "time_variant", fake_variant)
    monkeypatch.setattr(gpu_schedule, "time_peer", fake_peer)
    args = argparse.Namespace(
        device=torch.device("cuda"), no_compile=False, no_epochs=True, repeats=2,
        budget_seconds=1000.0, min_steps=3, max_steps=10, output=tmp_path,
    )  # fmt: skip
    payload = {
        "environment": {"command": "test", "gpu": "a GPU", "torch": "t", "cuda": "c",
                        "cudnn": 1, "date_utc": "now", "cpu": "cpu", "cores": 1},
        "plan": "plan", "peers": "peers", "trials": [], "epochs": [], "notes": [],
    }  # fmt: skip
    schedule = gpu_schedule.Schedule(
        args, payload, time.perf_counter(), {("pendulum", True): None},
        Path("python"), {"pendulum": tmp_path},
    )  # fmt: skip
    schedule.run_eager("core", [("pendulum", "contrastive")])
    schedule.run_compile([("pendulum", "contrastive")])
    first = ["fp32", "bf16", "ptls_coles fp32", "ptls_coles bf16"]
    assert names[:4] == first
    assert names[4:8] == first[1:] + first[:1]  # rotated by one in the second repeat
    assert names[8:] == ["bf16", "bf16 compiled", "bf16 compiled", "bf16"]
    statuses = {t["variant"]: t.get("status") for t in payload["trials"] if "status" in t}
    assert statuses == {"fp32 compiled": "not run: bf16 was faster eager"}
    markdown = (tmp_path / "gpu.md").read_text()
    row = table_rows(markdown, "Training events/s")[0]
    assert row[2:6] == ["100", "300", "450 (bf16)", "bf16 compiled"]
    ratio = table_rows(markdown, "eventssl / peer")[0]
    assert ratio[2] == "**5.62×**"  # 450 / 80, each side's best
