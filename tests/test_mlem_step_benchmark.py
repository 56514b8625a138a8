"""benchmarks/mlem_step.py: the phased MLEM step is the real step, its GEMMs are the counted
ones, and the tiny run writes a table, per-phase figures and op sources."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import torch

from eventssl.data import EventBatch
from eventssl.methods import MLEM
from eventssl.nn import GRUEncoder
from eventssl.nn.encoder import freeze

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mlem_step  # noqa: E402
from flops import step_macs  # noqa: E402
from gemm_record import GemmRecorder, replay  # noqa: E402

PHASES = ["load + collate", "zero_grad", "student embedder", "student GRU", "decoder",
          "reconstruction loss", "teacher (no_grad)", "SigLIP + logged cosines",
          "backward: losses", "backward: decoder", "backward: student GRU",
          "backward: student embedder", "Adam step"]  # fmt: skip


def encoder(dropout: float = 0.0) -> GRUEncoder:
    return GRUEncoder(
        categorical={"kind": 6},
        numerical={"x": {"mean": 0.5, "std": 2.0}},
        hidden_size=16,
        layer_norm=True,
        dropout=dropout,
    )


def mlem() -> MLEM:
    torch.manual_seed(0)
    module = MLEM(encoder(dropout=0.3))  # student and decoder dropout on: random draws count
    module.teacher = freeze(encoder())
    return module.train()


def batch(lengths: list[int]) -> EventBatch:
    generator = torch.Generator().manual_seed(1)
    rows, width = len(lengths), max(lengths)
    valid = torch.arange(width) < torch.tensor(lengths)[:, None]  # (B, L)
    return EventBatch(
        time=torch.rand(rows, width, generator=generator).cumsum(1) * valid,
        categorical={"kind": torch.randint(2, 6, (rows, width), generator=generator) * valid},
        numerical={"x": torch.randn(rows, width, generator=generator) * valid},
        lengths=torch.tensor(lengths),
        seq_ids=torch.arange(rows),
    )


def test_phased_step_has_the_losses_and_gradients_of_the_uncut_step() -> None:
    module, data = mlem(), batch([7, 3, 5, 1, 6])
    torch.manual_seed(5)
    losses = module.compute_losses(data)
    losses["loss"].backward()
    expected = {name: p.grad.clone() for name, p in module.named_parameters() if p.requires_grad}
    frozen = torch.optim.SGD(module.parameters(), lr=0.0)  # step() leaves the weights as they are
    watch = mlem_step.Stopwatch()
    torch.manual_seed(5)  # the same dropout masks if the draws come in the same order
    loss = mlem_step.phased_step(module, frozen, data, watch)
    torch.testing.assert_close(loss, losses["loss"].detach(), rtol=1e-6, atol=0.0)
    assert set(expected) == {n for n, p in module.named_parameters() if p.grad is not None}
    for name, parameter in module.named_parameters():
        if name in expected:
            torch.testing.assert_close(parameter.grad, expected[name], rtol=1e-5, atol=1e-7)
    assert list(watch.seconds) == PHASES[1:]
    assert all(seconds > 0 for seconds in watch.seconds.values())


def test_recorded_gemms_are_flops_py_counts_phase_by_phase() -> None:
    # equal lengths: no padding, so what runs is what flops.py counts from the shapes
    module, data = mlem(), batch([6, 6, 6, 6])
    recorder = GemmRecorder()
    mlem_step.phased_step(module, torch.optim.SGD(module.parameters(), lr=0.0), data, recorder)
    macs = {name: sum(p.macs for p in products) for name, products in recorder.products.items()}
    parts = step_macs(module, data.lengths)
    student = ("student embedder", "student GRU", "backward: student GRU",
               "backward: student embedder")  # fmt: skip
    assert sum(macs.get(name, 0) for name in student) == parts["encoder"]
    assert macs["decoder"] + macs["backward: decoder"] == parts["decoder"]
    assert macs["teacher (no_grad)"] == parts["teacher"]
    assert macs["SigLIP + logged cosines"] + macs["backward: losses"] == parts["loss"]
    assert macs["backward: decoder"] > macs["decoder"] > 0  # two gradients per trained product
    assert macs.get("reconstruction loss", 0) == macs.get("Adam step", 0) == 0
    operands: dict = {}
    assert replay(recorder.products["decoder"], operands) > 0
    decoder_layouts = {operand for p in recorder.products["decoder"] for operand in p.operands}
    assert set(operands) == decoder_layouts  # one random tensor per distinct layout


def test_recorded_gemms_include_the_padding_that_runs() -> None:
    # rows of 6, 3, 5 and 2 events: one part runs 4 × 6 GRU steps, one part per row runs 16;
    # the GRU's forward is 3 gates × H × (E + H) multiply-adds per step run
    module, data = mlem(), batch([6, 3, 5, 2])
    per_step = 3 * 16 * (module.encoder.embedder.output_size + 16)
    for buckets, steps_run in ((1, 24), (4, 16)):
        mlem_step.set_length_buckets(module, buckets)
        recorder = GemmRecorder()
        mlem_step.phased_step(module, torch.optim.SGD(module.parameters(), lr=0.0), data, recorder)
        macs = sum(product.macs for product in recorder.products["student GRU"])
        assert macs == per_step * steps_run
        assert (
            module.teacher.length_buckets == module.reconstructor.decoder.length_buckets == buckets
        )


def test_tiny_run_writes_every_phase_and_the_ops_behind_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "step.json"
    options = ["--tiny", "--steps", "1", "--warmup", "1", "--top", "40", "--output", str(output)]
    mlem_step.main(options)
    result = json.loads(output.read_text())
    assert list(result["phases"]) == PHASES
    for name, phase in result["phases"].items():
        assert phase["ms"] > 0 and phase["gemm_replay_ms"] >= 0, name
    assert result["phases"]["decoder"]["gemm_gflop"] > 0
    assert result["phases"]["Adam step"]["gemm_gflop"] == 0
    summary = result["summary"]
    assert summary["bare GRU GFLOP/s"] > 0 and summary["real-event GFLOP per step (flops.py)"] > 0
    assert (summary["bare GRU rows"], summary["bare GRU padded length"]) == (8, 100)
    decoder_ops = result["phases"]["decoder"]["profiled"]["top_other_ops"]
    mask = re.compile(r"eventssl/nn/decoder_layer\.py\(\d+\): _keep_mask ← ")
    assert any(op["op"] == "aten::random_" and mask.match(op["source"]) for op in decoder_ops)
    backward = result["phases"]["backward: decoder"]["profiled"]["top_other_ops"]
    node = re.compile(r"\w+Backward\d of eventssl/nn/decoder")  # node, then its forward source
    assert any(node.match(op["source"]) for op in backward)
    printed = capsys.readouterr().out
    assert printed.startswith("| phase | ms | GEMM GFLOP |")
    assert "| backward: student GRU |" in printed and "- gap split ms:" in printed
