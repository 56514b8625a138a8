"""Torch RNG states of every rank, saved in checkpoints so a resumed run draws the same dropout.

Data randomness does not need this (the collator and the sampler are seeded per batch and per
epoch); what is left on torch's global generators is the model's own (dropout).
"""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor

CHECKPOINT_KEY = "random_state"


def gather_random_state(module: L.LightningModule) -> dict[str, Tensor]:
    """The CPU (and current CUDA device's) generator state of every rank, (world, bytes) each.

    Collective under DDP: every rank calls it while saving a checkpoint.
    """
    states = {"cpu": torch.get_rng_state()}
    if module.device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(module.device)
    gathered = {}
    for name, state in states.items():
        rows = module.all_gather(state.to(module.device)).cpu()
        gathered[name] = rows.reshape(-1, state.numel())  # (world, bytes)
    return gathered


def restore_random_state(module: L.LightningModule, states: dict[str, Tensor]) -> None:
    """Set this rank's generators from `gather_random_state`; skipped if the world size changed."""
    rank, world = module.global_rank, module.trainer.world_size
    if states["cpu"].shape[0] != world:
        return
    torch.set_rng_state(states["cpu"][rank].clone())
    if "cuda" in states and module.device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"][rank].clone(), module.device)
