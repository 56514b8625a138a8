"""SigLIP-style sigmoid alignment (Zhai et al. 2023), as MLEM aligns its two modalities (§3.6)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SigmoidAlignment(nn.Module):
    """L = −(1/B) Σ_i Σ_j log σ(s_ij · (t·⟨a_i, b_j⟩ + β)), s_ij = +1 if i = j else −1.

    Row i of `student` and of `teacher` embed the same sequence (a positive pair); every other
    pair in the batch is a negative. The temperature t = exp(t') and the bias β are learnable,
    initialised at t = 10 and β = −10 as in the paper.

    Args:
        temperature: initial temperature t.
        bias: initial bias β.
        normalize: L2-normalise both embeddings first (MLEM skipped this on PhysioNet).
    """

    def __init__(self, temperature: float = 10.0, bias: float = -10.0, normalize: bool = True):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))
        self.bias = nn.Parameter(torch.tensor(float(bias)))
        self.normalize = normalize

    def logits(self, student: Tensor, teacher: Tensor) -> Tensor:
        """(B, B) pair logits t·⟨a_i, b_j⟩ + β."""
        if self.normalize:
            student, teacher = F.normalize(student, dim=-1), F.normalize(teacher, dim=-1)
        return self.log_temperature.exp() * student @ teacher.T + self.bias

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Args: student (B, H) and teacher (B, H) embeddings of the same B sequences."""
        logits = self.logits(student, teacher)  # (B, B)
        signs = 2 * torch.eye(len(logits), device=logits.device, dtype=logits.dtype) - 1
        return -F.logsigmoid(signs * logits).sum() / len(logits)
