"""Next-event targets: hide the last k events, predict their type and time gap (MLEM §5.4)."""

from __future__ import annotations

import numpy as np

from eventssl.data.dataset import EventDataset
from eventssl.data.schema import TargetSpec


def next_event_rows(dataset: EventDataset, count: int) -> np.ndarray:
    """Rows (of `dataset`) with more than `count` events: something is left to embed."""
    return np.flatnonzero(dataset.lengths > count)


def next_event_targets(
    dataset: EventDataset, count: int, type_field: str | None
) -> dict[str, tuple[TargetSpec, np.ndarray]]:
    """Targets of the hidden events 1..count of every row (all rows must be longer than count).

    `next{j}_delta`: time since the previous event, in the schema's time unit (regression);
    `next{j}_{type_field}`: the event's category code (multiclass, accuracy).
    """
    columns = dataset.columns
    ends = columns.offsets[dataset.rows + 1]  # (N,) one past each row's last event
    if np.any(ends - columns.offsets[dataset.rows] <= count):
        raise ValueError(f"next-event targets need sequences longer than {count} events")
    targets: dict[str, tuple[TargetSpec, np.ndarray]] = {}
    for step in range(1, count + 1):
        position = ends - count + step - 1  # (N,) the hidden event j
        delta = columns.time[position] - columns.time[position - 1]
        targets[f"next{step}_delta"] = (TargetSpec("regression", metric="mse"), delta)
        if type_field is not None:
            codes = columns.categorical[type_field][position].astype(np.float64)
            spec = TargetSpec(
                "multiclass", num_classes=dataset.schema.categorical[type_field], metric="accuracy"
            )
            targets[f"next{step}_{type_field}"] = (spec, codes)
    return targets
