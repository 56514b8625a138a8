"""Next-item recommendation on a leave-one-out dataset (`schema.next_item`): every sequence of
the scored split without its last event is the input, its last item the truth, ranked against
all items (MCLRec §4.1's protocol; `eventssl.evaluation.ranking`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.data.datamodule import EventDataModule
from eventssl.evaluation.loaders import evaluation_loader
from eventssl.evaluation.ranking import ranking_metrics, recommendation_results
from eventssl.methods.base import SSLModule


def last_items(datamodule: EventDataModule, split: str) -> Tensor:
    """(N,) the item code of the last event of every sequence of `split`."""
    datamodule.setup(None)
    dataset = datamodule.datasets[split]
    columns = dataset.columns
    ends = columns.offsets[dataset.rows + 1] - 1  # (N,) each row's last event
    return torch.as_tensor(np.asarray(columns.categorical[datamodule.schema.next_item])[ends])


@torch.inference_mode()
def recommend(
    module: SSLModule,
    datamodule: EventDataModule,
    split: str = "test",
    predict: Callable[[EventBatch], Tensor] | None = None,
    prefix: str = "recommendation",
) -> dict[str, float]:
    """`<prefix>/hr@K` and `ndcg@K` (K = 5, 10, 20) of `predict` (default: the module's
    `predict_next`, scores (B, N) over item codes) on `split`, items already in the history
    kept in the ranking as RecBole does for sequential models.

    With `data.max_length` L the input is the last L − 1 events before the held-out item, so
    the item ends an L-event window as every training target does: a causal encoder's state at
    a window's last position never predicts anything in training (with learned positions it
    is untrained there), and the validation ranking of `NextItem`/`MCLRec` reads the same
    position."""
    if datamodule.schema.next_item is None:
        raise ValueError("next-item evaluation needs a dataset whose schema sets next_item")
    predict = predict or module.predict_next
    datamodule.setup(None)
    limit = datamodule.loader_settings.max_length
    dataset = datamodule.datasets[split]
    loader = evaluation_loader(datamodule, dataset, cut_last=1, max_length=limit and limit - 1)
    was_training = module.training
    module.eval()
    scores = []
    try:
        for batch in loader:
            scores.append(predict(batch.to(module.device)).float().cpu())
    finally:
        module.train(was_training)
    truth = last_items(datamodule, split).long()
    return recommendation_results(ranking_metrics(torch.cat(scores), truth), prefix)
