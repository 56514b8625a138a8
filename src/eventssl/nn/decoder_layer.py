"""`CausalDecoder`: the MLEM decoder's transformer, specialised to a one-token memory (§3.2).

The function is torch's post-LN `nn.TransformerDecoder` (ReLU, dropout on the attention
weights, after each block and inside the feed-forward, final LayerNorm) with a causal
self-attention and a memory of one token, the projected embedding. Parameters are laid out as
in torch's layers, so state dicts load into either. Two things make it cheaper than the
generic layer, with the same outputs and the same dropout distribution:

- Cross-attention over a single key has softmax weight 1 for every query, so its output is
  `out_proj(v_proj(memory))`, the same for every position; queries and keys are never
  computed. In training, dropout on that weight zeroes a head's whole contribution at a
  position, i.e. a (B, L, heads) mask mixes per-head outputs projected once per row.
- On CPU, dropout masks come from 16-bit uniforms (3× faster than `bernoulli_`, which
  was ~12 % of an MLEM step; see `_keep_mask`), and the self-attention runs as explicit
  matmuls so its weight dropout uses that mask too; without dropout (eval) or off the CPU it
  is torch's SDPA.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CausalDecoder(nn.Module):
    """A stack of `CausalDecoderLayer`s and a final LayerNorm: (B, L, D), (B, 1, D) → (B, L, D)."""

    def __init__(
        self, width: int, num_layers: int, num_heads: int, feedforward: int, dropout: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            CausalDecoderLayer(width, num_heads, feedforward, dropout) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(width)

    def forward(self, hidden: Tensor, memory: Tensor) -> Tensor:
        for layer in self.layers:
            hidden = layer(hidden, memory)
        return self.norm(hidden)


class CausalDecoderLayer(nn.Module):
    """torch's `TransformerDecoderLayer` (post-LN, ReLU) with a causal mask and one memory token.

    Args:
        width: model width D.
        num_heads: attention heads (D must divide evenly).
        feedforward: feed-forward width.
        dropout: dropout on attention weights, block outputs and the feed-forward.
    """

    def __init__(self, width: int, num_heads: int, feedforward: int, dropout: float) -> None:
        super().__init__()
        if width % num_heads:
            raise ValueError(f"decoder width {width} is not divisible by heads={num_heads}")
        # attribute names follow nn.TransformerDecoderLayer, so state dicts carry over
        self.self_attn = nn.MultiheadAttention(width, num_heads, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(width, num_heads, batch_first=True)
        self.linear1 = nn.Linear(width, feedforward)
        self.linear2 = nn.Linear(feedforward, width)
        self.norm1 = nn.LayerNorm(width)
        self.norm2 = nn.LayerNorm(width)
        self.norm3 = nn.LayerNorm(width)
        self.num_heads = num_heads
        self.dropout = dropout

    def forward(self, hidden: Tensor, memory: Tensor) -> Tensor:
        """(B, L, D) tokens, (B, 1, D) memory → (B, L, D)."""
        hidden = self.norm1(hidden + self._dropout(self._self_attention(hidden)))
        hidden = self.norm2(hidden + self._dropout(self._memory_attention(memory, hidden.shape[1])))
        feedforward = self.linear2(self._dropout(F.relu(self.linear1(hidden))))
        return self.norm3(hidden + self._dropout(feedforward))

    def _self_attention(self, hidden: Tensor) -> Tensor:
        batch, length, width = hidden.shape
        attention = self.self_attn
        qkv = F.linear(hidden, attention.in_proj_weight, attention.in_proj_bias)  # (B, L, 3D)
        qkv = qkv.view(batch, length, 3, self.num_heads, width // self.num_heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)  # each (B, h, L, d)
        dropout = self.dropout if self.training else 0.0
        if dropout == 0.0 or hidden.device.type != "cpu":
            mixed = F.scaled_dot_product_attention(
                query, key, value, dropout_p=dropout, is_causal=True
            )  # (B, h, L, d)
        else:
            scores = query @ key.transpose(-1, -2) * query.shape[-1] ** -0.5  # (B, h, L, L)
            future = torch.ones(length, length, dtype=torch.bool, device=hidden.device).triu(1)
            weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
            mixed = self._dropout(weights) @ value  # (B, h, L, d)
        mixed = mixed.transpose(1, 2).reshape(batch, length, width)  # (B, L, D)
        return attention.out_proj(mixed)

    def _memory_attention(self, memory: Tensor, length: int) -> Tensor:
        """Attention to the single memory token: (B, 1, D) → (B, L, D), or (B, 1, D) in eval."""
        attention = self.multihead_attn
        width = memory.shape[-1]
        head_width = width // self.num_heads
        weight_value = attention.in_proj_weight[2 * width :]  # (D, D)
        bias_value = attention.in_proj_bias[2 * width :]
        value = F.linear(memory.squeeze(1), weight_value, bias_value)  # (B, D)
        value = value.view(-1, self.num_heads, head_width)  # (B, h, d)
        out_weight = attention.out_proj.weight.view(width, self.num_heads, head_width)  # (D, h, d)
        per_head = torch.einsum("bhd,ehd->bhe", value, out_weight)  # (B, h, D)
        bias = attention.out_proj.bias
        if not self.training or self.dropout == 0.0:
            return (per_head.sum(dim=1) + bias).unsqueeze(1)  # (B, 1, D), same for every query
        keep = _keep_mask(per_head.new_empty(len(memory), length, self.num_heads), self.dropout)
        return torch.bmm(keep, per_head) + bias  # (B, L, D)

    def _dropout(self, tensor: Tensor) -> Tensor:
        if not self.training or self.dropout == 0.0:
            return tensor
        if tensor.device.type != "cpu":
            return F.dropout(tensor, self.dropout, training=True)
        return tensor * _keep_mask(tensor, self.dropout)


def _keep_mask(like: Tensor, probability: float) -> Tensor:
    """Inverted-dropout multipliers shaped like `like`: 0 with `probability`, else 1/(1 − p).

    Each 64-bit draw of torch's generator gives four 16-bit uniforms, so `p` is rounded to a
    multiple of 1/65536 (0.1 → 0.100006) and the kept values scaled by 1/(1 − that p). On
    CPU this is ~3× faster than `bernoulli_`, which draws one double per element; elsewhere
    `bernoulli_` is used as is.
    """
    if like.device.type != "cpu":
        return torch.empty_like(like).bernoulli_(1.0 - probability).div_(1.0 - probability)
    count = like.numel()
    threshold = round(probability * 65536)
    words = torch.empty((count + 3) // 4, dtype=torch.int64)
    uniforms = words.random_(-(2**63), None).view(torch.int16)[:count].view(like.shape)
    keep = uniforms.ge(threshold - 32768).to(like.dtype)  # P(drop) = threshold / 65536
    return keep.mul_(65536 / (65536 - threshold))
