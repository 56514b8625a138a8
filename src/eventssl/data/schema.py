"""The dataset schema: what `schema.json` says about a dataset folder (design §2)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

TargetTask = Literal["binary", "multiclass", "regression"]
SCHEMA_FILE = "schema.json"
PADDING_CODE = 0
MISSING_CODE = 1


class DataContractError(ValueError):
    """A dataset folder does not follow the event-sequence contract."""


@dataclass(frozen=True)
class NumericStats:
    """Normalisation statistics of a numeric feature, computed on the train split."""

    mean: float = 0.0
    std: float = 1.0


@dataclass(frozen=True)
class TargetSpec:
    """A scalar downstream target; `num_classes` is set for classification tasks."""

    task: TargetTask
    num_classes: int | None = None
    metric: str = "roc_auc"


@dataclass(frozen=True)
class DatasetSchema:
    """Names, types and statistics of a dataset's columns.

    Categorical cardinalities count every code, padding (0) and missing (1) included, so codes lie
    in [0, cardinality) and an embedding table of that size covers them.

    `next_item` marks a leave-one-out next-item recommendation dataset (SASRec, S3-Rec, MCLRec): it
    names the categorical field whose next value is predicted. The splits then hold the same
    sequences (one per user): train all events but the last two, val all but the last, test all;
    the target of a val/test sequence is its last event.
    """

    name: str
    time_unit: str = "unit"
    time_scale: float = 1.0
    categorical: dict[str, int] = field(default_factory=dict)
    numerical: dict[str, NumericStats] = field(default_factory=dict)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    default_target: str | None = None
    next_item: str | None = None

    def __post_init__(self) -> None:
        where = f"schema '{self.name}'"
        if not (math.isfinite(self.time_scale) and self.time_scale > 0):
            raise DataContractError(f"{where}: time_scale must be positive, got {self.time_scale}")
        for name, cardinality in self.categorical.items():
            if cardinality < 3:
                raise DataContractError(
                    f"{where}: categorical '{name}' has cardinality {cardinality}; codes 0 "
                    "(padding) and 1 (missing) are reserved, so it must be at least 3"
                )
        for name, stats in self.numerical.items():
            if not (math.isfinite(stats.mean) and math.isfinite(stats.std) and stats.std > 0):
                raise DataContractError(
                    f"{where}: numeric '{name}' needs a finite mean and std > 0"
                )
        for name, spec in self.targets.items():
            if spec.task not in ("binary", "multiclass", "regression"):
                raise DataContractError(f"{where}: target '{name}' has unknown task '{spec.task}'")
            if spec.task != "regression" and (spec.num_classes is None or spec.num_classes < 2):
                raise DataContractError(f"{where}: target '{name}' needs num_classes >= 2")
        if self.default_target is not None and self.default_target not in self.targets:
            raise DataContractError(
                f"{where}: default_target '{self.default_target}' is not among the targets "
                f"{sorted(self.targets)}"
            )
        if self.next_item is not None and self.next_item not in self.categorical:
            raise DataContractError(
                f"{where}: next_item '{self.next_item}' is not among the categorical fields "
                f"{sorted(self.categorical)}"
            )
        names = [*self.categorical, *self.numerical, *self.targets]
        reserved = {"seq_id", "time"} & set(names)
        if reserved or len(set(names)) != len(names):
            raise DataContractError(f"{where}: column names must be unique and not seq_id/time")

    @property
    def feature_columns(self) -> list[str]:
        return [*self.categorical, *self.numerical]

    def save(self, folder: str | Path) -> None:
        """Write `schema.json` into `folder` atomically (`next_item` only when it is set)."""
        path = Path(folder) / SCHEMA_FILE
        temporary = path.with_suffix(".json.tmp")
        fields = asdict(self)
        if self.next_item is None:
            del fields["next_item"]  # other datasets' schema.json stay as they were
        temporary.write_text(json.dumps(fields, indent=2) + "\n")
        temporary.replace(path)

    @classmethod
    def load(cls, folder: str | Path) -> DatasetSchema:
        """Read `schema.json` from a dataset folder."""
        path = Path(folder) / SCHEMA_FILE
        if not path.is_file():
            raise DataContractError(f"{path}: missing; every dataset folder needs a schema.json")
        try:
            raw = json.loads(path.read_text())
            return cls(
                name=raw["name"],
                time_unit=raw.get("time_unit", "unit"),
                time_scale=float(raw.get("time_scale", 1.0)),
                categorical={k: int(v) for k, v in raw.get("categorical", {}).items()},
                numerical={k: NumericStats(**v) for k, v in raw.get("numerical", {}).items()},
                targets={k: TargetSpec(**v) for k, v in raw.get("targets", {}).items()},
                default_target=raw.get("default_target"),
                next_item=raw.get("next_item"),
            )
        except DataContractError as error:
            raise DataContractError(f"{path}: {error}") from None
        except (KeyError, TypeError, ValueError) as error:
            raise DataContractError(f"{path}: malformed schema ({error!r})") from None
