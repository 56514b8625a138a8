"""Data contract, loading and batching."""

from eventssl.data.batch import EventBatch
from eventssl.data.contract import EventColumns, read_split, validate_dataset, write_dataset
from eventssl.data.datamodule import EventDataModule
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.schema import DataContractError, DatasetSchema, NumericStats, TargetSpec

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
