"""`CausalDecoder` against torch's `nn.TransformerDecoder`, its dropout, and length buckets."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

from eventssl.data import EventBatch, EventCollator, EventDataset
from eventssl.nn import EventDecoder, GRUEncoder
from eventssl.nn.decoder_layer import CausalDecoder, _keep_mask
from tests.conftest import TINY_SCHEMA

WIDTH, HEADS = 16, 2


def torch_reference(dropout: float) -> nn.TransformerDecoder:
    layer = nn.TransformerDecoderLayer(WIDTH, HEADS, 32, dropout, batch_first=True)
    return nn.TransformerDecoder(layer, 3, norm=nn.LayerNorm(WIDTH))


def run_reference(reference: nn.TransformerDecoder, hidden: torch.Tensor) -> torch.Tensor:
    causal = nn.Transformer.generate_square_subsequent_mask(hidden.shape[1])
    return reference(hidden, hidden[:, :1], tgt_mask=causal, tgt_is_causal=True)


@pytest.mark.parametrize("training", [False, True])
def test_equals_torch_transformer_decoder(training: bool) -> None:
    """Same state dict, same outputs and gradients (dropout 0 in training, any in eval)."""
    torch.manual_seed(0)
    dropout = 0.0 if training else 0.3
    reference = torch_reference(dropout).train(training)
    decoder = CausalDecoder(WIDTH, 3, HEADS, 32, dropout).train(training)
    decoder.load_state_dict(reference.state_dict())  # the layouts match key for key
    hidden = torch.randn(5, 11, WIDTH, requires_grad=True)
    expected = run_reference(reference, hidden)
    actual = decoder(hidden, hidden[:, :1])
    torch.testing.assert_close(actual, expected)
    weights = torch.randn_like(expected)
    for ours, theirs in zip(
        torch.autograd.grad((actual * weights).sum(), [hidden, *decoder.parameters()]),
        torch.autograd.grad((expected * weights).sum(), [hidden, *reference.parameters()]),
        strict=True,
    ):
        torch.testing.assert_close(ours, theirs)


def test_memory_attention_drops_whole_heads() -> None:
    """With one memory token each head's output is kept (÷(1 − p)) or zeroed, per position."""
    torch.manual_seed(0)
    decoder = CausalDecoder(WIDTH, 1, HEADS, 32, dropout=0.5)
    layer = decoder.layers[0]
    memory = torch.randn(3, 1, WIDTH)
    with torch.no_grad():
        layer.train()
        dropped = layer._memory_attention(memory, 40)  # (3, 40, D)
        # per-head outputs: zero the other head's out_proj columns
        heads = []
        for head in range(HEADS):
            alone = CausalDecoder(WIDTH, 1, HEADS, 32, dropout=0.0).layers[0]
            alone.load_state_dict(layer.state_dict())
            columns = slice(head * WIDTH // HEADS, (head + 1) * WIDTH // HEADS)
            keep = torch.zeros(WIDTH, dtype=torch.bool)
            keep[columns] = True
            alone.multihead_attn.out_proj.weight[:, ~keep] = 0
            alone.multihead_attn.out_proj.bias.zero_()
            heads.append(alone.eval()._memory_attention(memory, 40))  # (3, 1, D)
    bias = layer.multihead_attn.out_proj.bias
    scale = 1 / (1 - 0.5)
    candidates = [
        sum((scale * h for h, on in zip(heads, mask, strict=True) if on), bias.expand(3, 1, WIDTH))
        for mask in itertools.product([False, True], repeat=HEADS)
    ]  # each (3, 1, D)
    distances = torch.stack([(dropped - c).abs().amax(-1) for c in candidates])  # (4, 3, 40)
    assert (distances.amin(0) < 1e-5).all()  # every position is one of the 4 head subsets
    chosen = distances.argmin(0)
    assert len(chosen.unique()) == 4  # and all four occur
    # the expectation over masks is the eval output
    layer.eval()
    torch.testing.assert_close(
        torch.stack(candidates).mean(0), layer._memory_attention(memory, 40), rtol=0, atol=1e-5
    )


def test_keep_mask_rate_scale_and_seed() -> None:
    like = torch.empty(200_000)
    torch.manual_seed(3)
    mask = _keep_mask(like, 0.1)
    dropped = (mask == 0).float().mean().item()
    # binomial sd at n = 2e5, p = 0.1 is 6.7e-4; 5 sd
    assert abs(dropped - 0.1) < 3.4e-3
    kept = mask[mask != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 65536 / (65536 - 6554)))
    assert abs(mask.mean().item() - 1.0) < 5e-3  # inverted dropout keeps the mean
    torch.manual_seed(3)
    assert torch.equal(_keep_mask(like, 0.1), mask)
    odd = _keep_mask(torch.empty(3, 7, 5), 0.5)  # sizes that are not multiples of 4
    assert odd.shape == (3, 7, 5) and set(odd.unique().tolist()) <= {0.0, 2.0}


def test_decoder_length_buckets_give_the_same_predictions(tiny_dataset: Path) -> None:
    """Decoding length-sorted parts cut to their longest row changes no valid output."""
    batch: EventBatch = EventCollator(EventDataset.from_folder(tiny_dataset, "train"))(
        list(range(12))
    )
    assert len(set(batch.lengths.tolist())) > 3
    torch.manual_seed(0)
    encoder = GRUEncoder(dict(TINY_SCHEMA.categorical), {"amount": {"mean": 1.0, "std": 2.0}})
    events = encoder.embedder(batch).detach()
    embedding = torch.randn(len(batch), encoder.hidden_size)
    outputs = []
    for buckets in (1, 4):
        torch.manual_seed(1)
        decoder = EventDecoder(
            encoder.embedder, encoder.hidden_size, 16, 2, 2, 32, length_buckets=buckets
        ).eval()
        prediction = decoder(embedding, events, batch.lengths)
        fields = {"delta": prediction.delta, **prediction.numerical, **prediction.categorical}
        outputs.append({name: value[batch.mask] for name, value in fields.items()})
    assert outputs[0].keys() == outputs[1].keys()
    for name, value in outputs[0].items():
        torch.testing.assert_close(outputs[1][name], value, msg=name)
    with pytest.raises(ValueError, match="length_buckets"):
        EventDecoder(encoder.embedder, encoder.hidden_size, length_buckets=0)


def test_training_path_with_every_unit_kept_equals_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU training path (explicit attention, head masks) is torch's layer if nothing drops."""
    torch.manual_seed(0)
    reference = torch_reference(0.0).eval()
    decoder = CausalDecoder(WIDTH, 3, HEADS, 32, dropout=0.3).train()
    decoder.load_state_dict(reference.state_dict())
    masks = []

    def keep_all(like: torch.Tensor, probability: float) -> torch.Tensor:
        masks.append(like.shape)
        return torch.ones_like(like)

    monkeypatch.setattr("eventssl.nn.decoder_layer._keep_mask", keep_all)
    hidden = torch.randn(4, 9, WIDTH)
    torch.testing.assert_close(decoder(hidden, hidden[:, :1]), run_reference(reference, hidden))
    # per layer: attention weights, 3 block outputs, the feed-forward and the head mask
    assert (4, HEADS, 9, 9) in masks and (4, 9, HEADS) in masks and (4, 9, 32) in masks
    assert len(masks) == 3 * 6
