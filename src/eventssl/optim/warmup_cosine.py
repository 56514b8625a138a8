"""`WarmupCosine`: linear warm-up, then a cosine decay, as one scheduler (one YAML block)."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class WarmupCosine(LambdaLR):
    """Factor of every group's base learning rate at step s (0-based):
    (s + 1) / warmup_steps during warm-up, then final + (1 − final)·(1 + cos(π·t))/2 with
    t = (s − warmup_steps) / (total_steps − warmup_steps) clipped to [0, 1].

    Args:
        optimizer: the optimizer whose rates it schedules.
        warmup_steps: steps of linear warm-up (0 for none).
        total_steps: step at which the decay reaches `final_factor`.
        final_factor: the factor after `total_steps`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        final_factor: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"WarmupCosine needs 0 <= warmup_steps < total_steps; got {warmup_steps}, "
                f"{total_steps}"
            )
        self.warmup_steps, self.total_steps, self.final_factor = (
            warmup_steps,
            total_steps,
            final_factor,
        )
        super().__init__(optimizer, self.factor, last_epoch)

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.final_factor + (1 - self.final_factor) * 0.5 * (
            1 + math.cos(math.pi * progress)
        )
