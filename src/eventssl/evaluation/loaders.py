"""What evaluation reads from a datamodule: the probes' labelled splits and their loaders (§5)."""

from __future__ import annotations

import numpy as np
from torch.utils.data import DataLoader

from eventssl.data.augmentations import Augmentation
from eventssl.data.datamodule import EventDataModule
from eventssl.data.dataset import EventDataset


def probe_sources(datamodule: EventDataModule, scored: str = "test") -> tuple[tuple[str, str], ...]:
    """(probe split, dataset) pairs: where probes are fitted and where they are scored — the
    train split (never the validation rows) and test, or val for `scored="val"`, the split on
    which settings are chosen."""
    if scored == "test":
        return (("train", "train_all"), ("test", "test"))
    if scored != "val":
        raise ValueError(f"evaluation split must be 'test' or 'val', got {scored!r}")
    if "val" not in datamodule.predict_splits:
        raise ValueError("scoring probes on the val split needs data.streaming=false")
    return (("train", "train_all"), ("test", "val"))


def probe_datasets(
    datamodule: EventDataModule, target: str | None = None, scored: str = "test"
) -> dict[str, EventDataset]:
    """The labelled rows of the probes' train and scored splits for `target` (default: the
    schema's default target); empty when the dataset has no such target."""
    target = target or datamodule.schema.default_target
    if target is None or target not in datamodule.schema.targets:
        return {}
    datamodule.setup(None)
    datasets = {}
    for split, source in probe_sources(datamodule, scored):
        dataset = datamodule.datasets[source]
        labelled = ~np.isnan(dataset.columns.targets[target][dataset.rows])
        if labelled.any():
            datasets[split] = dataset.subset(np.flatnonzero(labelled))
    return datasets


def evaluation_loader(
    datamodule: EventDataModule,
    dataset: EventDataset,
    augmentations: list[Augmentation] | None = None,
    cut_last: int = 0,
    batch_size: int | None = None,
    max_length: int | None = None,
) -> DataLoader:
    """Whole sequences of `dataset` in order, with the datamodule's truncation (or
    `max_length`) and seed, optionally perturbed or without their last events; `batch_size`
    defaults to training's."""
    return datamodule.loader_settings.whole_sequences(
        dataset, datamodule.seed, augmentations, cut_last, batch_size, max_length
    )
