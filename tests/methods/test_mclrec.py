"""MCLRec: its loss terms against naive references, and which weights each step moves."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from eventssl.data.augmentations import Crop, Mask, Reorder
from eventssl.data.batch_views import two_views
from eventssl.losses.mclrec import hardest_negative_hinge, nt_xent
from eventssl.methods.mclrec import MCLRec
from tests.methods.test_next_item import ITEMS, batch_of, transformer


def naive_terms(first: torch.Tensor, second: torch.Tensor, temperature: float):
    """Per view: its positive and negatives by explicit loops."""
    views = torch.cat([first, second])
    count = len(first)
    for anchor in range(2 * count):
        partner = (anchor + count) % (2 * count)
        positive = views[anchor] @ views[partner] / temperature
        negatives = torch.stack(
            [
                views[anchor] @ views[j] / temperature
                for j in range(2 * count)
                if j not in (anchor, partner)
            ]
        )
        yield positive, negatives


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_nt_xent_matches_a_loop(temperature: float) -> None:
    torch.manual_seed(0)
    first, second = torch.randn(5, 8), torch.randn(5, 8)
    terms = [
        -torch.log_softmax(torch.cat([p[None], n]), dim=0)[0]
        for p, n in naive_terms(first, second, temperature)
    ]
    assert nt_xent(first, second, temperature).item() == pytest.approx(
        torch.stack(terms).mean().item(), rel=1e-5
    )


def test_regulariser_matches_a_loop_and_vanishes_on_equal_similarities() -> None:
    torch.manual_seed(0)
    first, second = torch.randn(4, 6), torch.randn(4, 6)
    pulls, lifts = [], []
    for positive, negatives in naive_terms(first, second, 1.0):
        hardest = negatives.max()
        pulls.append(torch.clamp(positive - torch.minimum(positive, hardest), min=0))
        lifts.append(torch.clamp(torch.maximum(positive, hardest) - negatives, min=0).mean())
    expected = torch.stack(pulls).mean() + torch.stack(lifts).mean()
    assert hardest_negative_hinge(first, second).item() == pytest.approx(expected.item(), rel=1e-5)
    same = torch.ones(4, 6)  # every similarity equal: nothing to pull or lift
    assert hardest_negative_hinge(same, same).item() == 0.0
    # positives already below the hardest negative: only the lift term remains
    assert hardest_negative_hinge(first, -first).item() > 0


def test_two_views_use_two_distinct_augmentations_per_sequence() -> None:
    batch = batch_of([list(range(2, 12))] * 64 + [[5]])
    generator = torch.Generator().manual_seed(0)
    first, second = two_views(batch, [Crop(0.5), Mask(0.5), Reorder(0.8)], generator)
    kinds = []
    for view in (first, second):
        cropped = view.lengths == 5
        masked = (view.categorical["item"] == 1).any(dim=1)
        kinds.append(cropped.long() + 2 * masked.long())  # 0 = reorder, 1 = crop, 2 = mask
    assert (kinds[0][:64] != kinds[1][:64]).all()  # never the same augmentation twice
    assert set(kinds[0][:64].tolist()) == {0, 1, 2}
    for view in (first, second):  # the one-event sequence is left as it is
        assert view.lengths[64] == 1 and view.categorical["item"][64, 0] == 5


def fitted_steps(method: MCLRec) -> list[dict[str, torch.Tensor]]:
    """The weights after each optimizer step of one training batch."""
    snapshots = []
    step = method.step

    def recording(optimizer, losses_of):
        losses = step(optimizer, losses_of)
        snapshots.append({k: v.detach().clone() for k, v in method.state_dict().items()})
        return losses

    method.step = recording
    batch = batch_of([[2 + (i + j) % 10 for j in range(6)] for i in range(8)])
    loader = DataLoader([batch], batch_size=None)
    trainer = L.Trainer(
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    snapshots.append({k: v.detach().clone() for k, v in method.state_dict().items()})
    trainer.fit(method, loader)
    return snapshots


def changed(before: dict, after: dict) -> set[str]:
    return {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}


def test_meta_step_moves_only_the_augmenters_and_encoder_steps_only_the_encoder() -> None:
    torch.manual_seed(0)
    start, first, meta, third = fitted_steps(MCLRec(transformer(), meta_weight=1.0))
    assert changed(start, first) == {"encoder", "scores"}  # scores.table is the encoder's
    assert changed(first, meta) == {"augmenters"}
    assert changed(meta, third) == {"encoder", "scores"}


def test_joint_updates_everything_at_once() -> None:
    torch.manual_seed(0)
    start, joint = fitted_steps(MCLRec(transformer(), joint=True))
    assert changed(start, joint) == {"encoder", "scores", "augmenters"}


def test_losses_are_the_weighted_sum_of_their_parts() -> None:
    torch.manual_seed(0)
    method = MCLRec(transformer(), contrastive_weight=0.3, meta_weight=0.2, regulariser_weight=0.1)
    method.eval()  # no dropout: the parts are recomputed below with the same views
    batch = batch_of([[2 + (i + j) % 10 for j in range(6)] for i in range(8)])
    torch.manual_seed(1)
    losses = method.compute_losses(batch)
    total = (
        losses["loss_next_item"]
        + 0.3 * losses["loss_contrastive"]
        + 0.2 * (losses["loss_meta"] + losses["loss_regulariser"])
    )
    assert losses["loss"].item() == pytest.approx(total.item(), rel=1e-6)
    without = MCLRec(transformer(), model_augmentation=False)
    assert set(without.compute_losses(batch)) == {"loss", "loss_next_item", "loss_contrastive"}
    assert ITEMS == method.scores.num_items and F.normalize(
        method.augmenters[0](torch.randn(3, 16)), dim=-1
    ).norm(dim=-1).allclose(torch.ones(3))
