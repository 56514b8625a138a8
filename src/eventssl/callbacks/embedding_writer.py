"""`EmbeddingWriter`: `eventssl predict` writes seq_id + embedding (+ targets) per split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from eventssl.data.batch import EventBatch
from eventssl.runs import run_folder


class EmbeddingWriter(BasePredictionWriter):
    """Write `<folder>/embeddings_<split>.parquet`: seq_id, embedding (list<float32>), targets.

    Args:
        folder: output folder (default: the run folder).
    """

    def __init__(self, folder: str | None = None) -> None:
        super().__init__(write_interval="batch")
        self.folder = folder
        self.parts: dict[int, list[dict[str, np.ndarray]]] = {}

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        prediction: torch.Tensor,
        batch_indices: Sequence[int] | None,
        batch: EventBatch,
        batch_index: int,
        dataloader_index: int = 0,
    ) -> None:
        part = {"row": batch.seq_ids.cpu().numpy(), "embedding": prediction.float().cpu().numpy()}
        part |= {name: value.cpu().numpy() for name, value in batch.targets.items()}
        self.parts.setdefault(dataloader_index, []).append(part)

    def on_predict_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        folder = Path(self.folder) if self.folder else run_folder(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        for index, parts in sorted(self.parts.items()):
            split = datamodule.predict_splits[index]
            dataset = datamodule.datasets[split]
            merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
            embedding = merged.pop("embedding")  # (N, H)
            columns: dict[str, Any] = {
                "seq_id": pa.array(dataset.columns.seq_ids[merged.pop("row")]),
                "embedding": pa.FixedSizeListArray.from_arrays(
                    pa.array(embedding.ravel()), embedding.shape[1]
                ),
            }
            columns |= {name: pa.array(values, from_pandas=True) for name, values in merged.items()}
            name = "train" if split == "train_all" else split
            path = folder / f"embeddings_{name}.parquet"
            temporary = path.with_suffix(".parquet.tmp")
            pq.write_table(pa.table(columns), temporary)
            temporary.replace(path)
        self.parts.clear()
