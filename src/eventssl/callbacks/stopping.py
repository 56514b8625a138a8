"""Early stopping on each method's own selection criterion (`SSLModule.selection_metric`).

MCLRec's code stops after 10 epochs without a better validation MRR@10 (RecBole's
`stopping_step`); `NextItem` and `MCLRec` select by `val/ndcg@10`, so they stop on it too.
Methods without a criterion (Contrastive) stop on `val/loss`.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping


class SelectionStopping(EarlyStopping):
    """`EarlyStopping` whose monitor is the module's selection metric, read at setup.

    Args:
        patience: validations without an improvement before the run stops.
    """

    def __init__(self, patience: int) -> None:
        super().__init__(monitor="val/loss", mode="min", patience=patience)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        criterion = getattr(pl_module, "selection_metric", lambda: None)()
        if criterion is not None:
            self.monitor, self.mode = criterion
            self.best_score = torch.tensor(torch.inf if self.mode == "min" else -torch.inf)
        super().setup(trainer, pl_module, stage)
