"""Early stopping on each method's own selection criterion (`SSLModule.selection_metric`).

MCLRec's code stops after 10 epochs without a better validation MRR@10 (RecBole's
`stopping_step`); `NextItem` and `MCLRec` select by `val/ndcg@10`, so they stop on it too.
Methods without a criterion (Contrastive) stop on `val/loss`.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason


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


class StayStopped(L.Callback):
    """A run resumed from a checkpoint saved after early stopping had ended it (killed during
    its final evaluation) trains no further epoch: the restored decision stands.

    `EarlyStopping` restores its state from the checkpoint but decides again only after the
    next validation, so without this the resumed run would train one epoch more than the
    uninterrupted one.
    """

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for callback in trainer.callbacks:
            if (
                isinstance(callback, EarlyStopping)
                and callback.stopping_reason != EarlyStoppingReason.NOT_STOPPED
            ):
                trainer.should_stop = True
