"""Multiply-adds of one training step per method, counted from the model's shapes (issue #17).

Counted: the matrix products of the student encoder (numeric projections of the embedder, the
GRU's three gates, 3 × (E·H + H·H) per event and layer), the decoder (token projections,
self-attention projections, scores and mixing, the one-token memory attention, feed-forward,
output and per-field heads), the projector or prediction head, the SigLIP and contrastive
similarity products, and the frozen teacher's forward pass (MLEM). Not counted: elementwise
work (gate nonlinearities, norms, dropout, the losses' elementwise parts), which is bound by
memory, not by arithmetic. A step costs each product's forward multiply-adds once more for
every operand that needs a gradient: 3 × for a layer whose input and weight both train,
2 × for one fed with data (the numeric projections) or with a constant (the decoder's dropout
mask over heads), 1 × under no-grad (teacher, detached distances); the GRU skips the gradient
of its zero initial state. Work is counted on the real events of each row (Σ lengths, and
Σ lengths² for attention), so padding appears as lost rate rather than as work. FLOPs are
2 × multiply-adds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from eventssl.methods import MLEM, Contrastive, Generative, NaiveHybrid, SSLModule, Supervised
from eventssl.nn import GRUEncoder
from eventssl.nn.decoder import EventDecoder
from eventssl.nn.embedder import EventEmbedder

TRAINED = 3  # forward + gradient of the input + gradient of the weight
COUNTED = (Contrastive, Generative, NaiveHybrid, MLEM, Supervised)


def gru_macs(input_size: int, hidden_size: int, num_layers: int, events: int) -> int:
    """Forward multiply-adds of a GRU over `events` events: 3 gates × (E·H + H·H) per event in
    the first layer, 3 × (H·H + H·H) in each further one."""
    first = 3 * hidden_size * (input_size + hidden_size)
    further = (num_layers - 1) * 3 * hidden_size * 2 * hidden_size
    return (first + further) * events


def gru_step_macs(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    rows: int,
    events: int,
    input_gradient: bool = True,
) -> int:
    """Multiply-adds of a GRU's forward + backward over `rows` sequences of `events` events.

    Every product trains (3 ×) except the gradient of the zero initial state of each row and
    layer, which autograd skips, and, without `input_gradient`, the first layer's input one.
    """
    total = TRAINED * gru_macs(input_size, hidden_size, num_layers, events)
    total -= rows * num_layers * 3 * hidden_size * hidden_size
    if not input_gradient:
        total -= events * 3 * hidden_size * input_size
    return total


def linear_macs(module: nn.Module, rows: int) -> int:
    """Forward multiply-adds of every `nn.Linear` inside `module` applied to `rows` rows."""
    layers = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
    return rows * sum(layer.in_features * layer.out_features for layer in layers)


def embedder_macs(embedder: EventEmbedder, events: int) -> int:
    """Forward: per-feature projections of (value, missing flag) → D; lookups cost none."""
    width = embedder.numerical_weight.shape[-1]
    return events * len(embedder.numerical_names) * 2 * width


def encoder_step_macs(encoder: nn.Module, rows: int, events: int, trained: bool = True) -> int:
    """Multiply-adds of a `GRUEncoder` (embedder + GRU) in a step: forward + backward when
    `trained`, the forward pass alone otherwise (a frozen teacher).

    Raises:
        TypeError: another encoder (only the GRU is counted).
    """
    if not isinstance(encoder, GRUEncoder):
        raise TypeError(f"FLOP counting covers GRUEncoder only, got {type(encoder).__name__}")
    gru, embedder = encoder.gru, encoder.embedder
    if not trained:
        forward = gru_macs(gru.input_size, gru.hidden_size, gru.num_layers, events)
        return embedder_macs(embedder, events) + forward
    learned = any(parameter.requires_grad for parameter in embedder.parameters())
    return 2 * embedder_macs(embedder, events) + gru_step_macs(
        gru.input_size, gru.hidden_size, gru.num_layers, rows, events, input_gradient=learned
    )


def decoder_step_macs(decoder: EventDecoder, rows: int, events: int, squares: int) -> int:
    """Multiply-adds of the teacher-forced decoder's forward + backward over rows of lengths l_i.

    Args:
        rows: sequences decoded; events: Σ l_i; squares: Σ l_i² (dense causal attention).
    """
    hidden, event_size = decoder.start.in_features, decoder.start.out_features
    width = decoder.output.in_features
    per_row = hidden * event_size  # start token x0 = Linear(z)
    per_event = event_size * width + width * event_size  # project tokens, map the output back
    per_event += sum(head.in_features * head.out_features for head in decoder.heads.values())
    per_event += decoder.delta_head.in_features
    per_pair, masked = 0, 0
    for layer in decoder.transformer.layers:
        per_event += 4 * width * width  # q, k, v and output projections
        per_event += 2 * width * layer.linear1.out_features  # feed-forward
        per_pair += 2 * width  # scores q·k and mixing weights·v, every head together
        per_row += 2 * width * width  # memory value and its output projection, once per row
        if layer.training and layer.dropout > 0:  # a constant mask over heads mixes them
            masked += layer.num_heads * width
    forward = rows * per_row + events * per_event + squares * per_pair
    return TRAINED * forward + 2 * events * masked


def step_macs(module: SSLModule, lengths: Sequence[int] | Tensor) -> dict[str, int]:
    """Multiply-adds of one training step (forward + backward) on a batch, per part.

    Parts: "encoder" (student embedder + GRU), "decoder", "projector" / "head", "loss"
    (similarity products of the contrastive or SigLIP loss) and "teacher" (MLEM's frozen
    encoder, forward only).

    Args:
        module: one of Contrastive, Generative, NaiveHybrid, MLEM, Supervised with a GRUEncoder.
        lengths: (rows,) valid events of every row the encoder reads (views for CoLES).

    Raises:
        TypeError: another method or encoder, or an MLEM without its teacher.
    """
    if not isinstance(module, COUNTED):
        names = ", ".join(kind.__name__ for kind in COUNTED)
        raise TypeError(f"FLOP counting covers {names}; got {type(module).__name__}")
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    rows, events = len(lengths), int(lengths.sum())
    squares = int((lengths * lengths).sum())
    hidden = module.encoder.hidden_size
    parts = {"encoder": encoder_step_macs(module.encoder, rows, events)}
    reconstructor = getattr(module, "reconstructor", None)
    if reconstructor is not None:
        parts["decoder"] = decoder_step_macs(reconstructor.decoder, rows, events, squares)
    if isinstance(module, (Contrastive, NaiveHybrid)):
        objective = module.contrastive
        parts["projector"] = TRAINED * linear_macs(objective.projector, rows)
        size = objective.settings.projection_size
        # margin: distances between detached projections; InfoNCE: a trained Gram matrix
        factor = 1 if objective.settings.loss == "margin" else TRAINED
        parts["loss"] = factor * rows * rows * size
    if isinstance(module, MLEM):
        if module.teacher is None:
            raise TypeError("MLEM has no teacher: call attach_teacher() or set module.teacher")
        parts["teacher"] = encoder_step_macs(module.teacher, rows, events, trained=False)
        # SigLIP logits: forward + gradient of the student (the teacher has none); the logged
        # cosine matrix: forward only
        parts["loss"] = 2 * rows * rows * hidden + rows * rows * hidden
    if isinstance(module, Supervised) and module.head is not None:
        parts["head"] = TRAINED * linear_macs(module.head, rows)
    return parts
