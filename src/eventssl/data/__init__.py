"""Data contract, loading and batching.

Exports are imported on first use (PEP 562), so `eventssl.data.contract` and the data_prep
pipelines load without torch and Lightning, which the loaders need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DataContractError": "eventssl.data.schema",
    "DatasetSchema": "eventssl.data.schema",
    "EventBatch": "eventssl.data.batch",
    "EventCollator": "eventssl.data.dataset",
    "EventColumns": "eventssl.data.contract",
    "EventDataModule": "eventssl.data.datamodule",
    "EventDataset": "eventssl.data.dataset",
    "NumericStats": "eventssl.data.schema",
    "TargetSpec": "eventssl.data.schema",
    "read_split": "eventssl.data.contract",
    "validate_dataset": "eventssl.data.contract",
    "write_dataset": "eventssl.data.contract",
}
__all__ = [
    "DataContractError",
    "DatasetSchema",
    "EventBatch",
    "EventCollator",
    "EventColumns",
    "EventDataModule",
    "EventDataset",
    "NumericStats",
    "TargetSpec",
    "read_split",
    "validate_dataset",
    "write_dataset",
]

if TYPE_CHECKING:
    from eventssl.data.batch import EventBatch
    from eventssl.data.contract import EventColumns, read_split, validate_dataset, write_dataset
    from eventssl.data.datamodule import EventDataModule
    from eventssl.data.dataset import EventCollator, EventDataset
    from eventssl.data.schema import DataContractError, DatasetSchema, NumericStats, TargetSpec


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'eventssl.data' has no attribute {name!r}")
