"""Learning-rate schedules usable from YAML (`lr_scheduler: {class_path: …}`)."""

from eventssl.optim.warmup_cosine import WarmupCosine

__all__ = ["WarmupCosine"]
