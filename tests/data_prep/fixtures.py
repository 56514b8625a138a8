"""Small deterministic raw files in the exact formats the real datasets ship in.

Age, ABank and TaoBao cannot be redistributed, so their pipelines are tested on these. Column
names, order and types follow peers.md §5 (ptls/EBES/HoTPP scripts) and mlem_method.md §2.6.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

# the shared/ folder beside the checkout (where CI puts it), else the development machine's copy
SHARED_DATA = next(
    (
        folder
        for folder in (
            Path(__file__).resolve().parents[3] / "shared" / "data",
            Path("/work/shared/data"),
        )
        if folder.is_dir()
    ),
    Path("/work/shared/data"),
)
PHYSIONET = SHARED_DATA / "physionet2012"
CDNOW = SHARED_DATA / "cdnow"


def shared(path: Path) -> Path:
    """A file of the shared real datasets; the test is skipped where they are absent."""
    if not path.exists():
        pytest.skip(f"{path} is not available here")
    return path


ABANK_CATEGORICAL = {  # raw code ranges, roughly the AlfaBattle ones
    "currency": 11, "operation_kind": 7, "card_type": 30, "operation_type": 22,
    "operation_type_group": 4, "ecommerce_flag": 3, "payment_system": 7, "income_flag": 3,
    "mcc": 40, "country": 24, "city": 50, "mcc_category": 28, "day_of_week": 7, "hour": 24,
    "weekofyear": 53,
}  # fmt: skip


def write_gzip_csv(frame: pl.DataFrame, path: Path) -> Path:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def write_age_raw(folder: Path, num_clients: int = 60, num_labelled: int = 48) -> dict[str, Path]:
    """`transactions_train.csv.gz` (labelled clients), `transactions_test.csv` (the rest, no
    target) and `train_target.csv` (with one extra client that has no transactions)."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 40, size=num_clients)
    client = np.repeat(np.arange(num_clients) * 7 + 1000, lengths)
    frame = pl.DataFrame(
        {
            "client_id": client,
            "trans_date": rng.integers(0, 730, size=len(client)),
            "small_group": rng.zipf(1.6, size=len(client)).clip(max=60) - 1,
            "amount_rur": np.round(rng.lognormal(3, 1.5, size=len(client)), 3),
        }
    )
    labelled = np.arange(num_labelled) * 7 + 1000
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "train": write_gzip_csv(
            frame.filter(pl.col("client_id").is_in(labelled)), folder / "transactions_train.csv.gz"
        ),
        "test": folder / "transactions_test.csv",
        "targets": folder / "train_target.csv",
    }
    frame.filter(~pl.col("client_id").is_in(labelled)).write_csv(paths["test"])
    targets = pl.DataFrame({"client_id": [*labelled, 1], "bins": [*(labelled // 7 % 4), 2]})
    targets.write_csv(paths["targets"])
    return paths


def write_abank_raw(folder: Path, num_apps: int = 50, num_labelled: int = 40) -> dict[str, Path]:
    """`train_transactions_contest/part_*.parquet` (two parts) and `train_target.csv`."""
    rng = np.random.default_rng(1)
    lengths = rng.integers(3, 30, size=num_apps)
    app = np.repeat(np.arange(num_apps), lengths).astype(np.int32)
    events = len(app)
    number = np.concatenate([np.arange(1, n + 1) for n in lengths]).astype(np.int32)
    days_before = np.concatenate(
        [np.sort(rng.integers(1, 360, size=n))[::-1] for n in lengths]
    ).astype(np.int32)
    columns: dict[str, np.ndarray] = {"app_id": app, "amnt": rng.uniform(0, 0.6, size=events)}
    for name, size in ABANK_CATEGORICAL.items():
        columns[name] = (rng.zipf(1.8, size=events) % size + 1).astype(np.int32)
    columns |= {
        "days_before": days_before,
        "hour_diff": rng.integers(-1, 500, size=events),
        "transaction_number": number,
    }
    frame = pl.DataFrame(columns)
    parts = folder / "train_transactions_contest"
    parts.mkdir(parents=True, exist_ok=True)
    frame.filter(pl.col("app_id") < num_apps // 2).write_parquet(parts / "part_000_0_to_24.parquet")
    frame.filter(pl.col("app_id") >= num_apps // 2).write_parquet(
        parts / "part_001_25_to_49.parquet"
    )
    labelled = np.arange(num_labelled)
    targets = pl.DataFrame(
        {"app_id": labelled, "product": labelled % 3, "flag": (labelled % 5 == 0).astype(int)}
    )
    targets.write_csv(folder / "train_target.csv")
    return {"transactions": parts, "targets": folder / "train_target.csv"}


def write_taobao_raw(path: Path, num_users: int = 40) -> Path:
    """`tianchi_mobile_recommend_train_user.csv`: hourly actions from 2014-11-18 to 12-18."""
    rng = np.random.default_rng(2)
    rows = num_users * 60
    start = dt.datetime(2014, 11, 18)
    hours = np.sort(rng.integers(0, 31 * 24, size=rows))
    hours[-1] = 31 * 24 - 1  # the data reach 2014-12-18 23:00
    time = (pl.lit(start) + pl.duration(hours=pl.Series(hours))).dt.strftime("%Y-%m-%d %H")
    frame = pl.DataFrame(
        {
            "user_id": rng.integers(0, num_users, size=rows) * 1009 + 10001,
            "item_id": rng.integers(1, 10**8, size=rows),
            "behavior_type": rng.choice([1, 2, 3, 4], p=[0.8, 0.06, 0.08, 0.06], size=rows),
            "user_geohash": pl.Series(np.where(rng.random(rows) < 0.3, "96ulpub", "")).replace(
                "", None
            ),
            "item_category": rng.zipf(1.5, size=rows).clip(max=50) + 1000,
        }
    ).with_columns(time=time)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path


def physionet_subset(
    folder: Path, name: str, first: int, count: int, as_tarball: bool = False
) -> tuple[Path, Path]:
    """`count` real set-a records (from the `first`-th) as a set `name` and its outcomes file."""
    folder.mkdir(parents=True, exist_ok=True)
    records = folder / name
    files: dict[str, bytes] = {}
    with tarfile.open(shared(PHYSIONET / "set-a.tar.gz")) as archive:
        members = [m for m in archive.getmembers() if m.isfile()][first : first + count]
        for member in members:
            files[Path(member.name).name] = archive.extractfile(member).read()
    if as_tarball:
        records = folder / f"{name}.tar.gz"
        with tarfile.open(records, "w:gz") as archive:
            for file_name, data in files.items():
                info = tarfile.TarInfo(f"{name}/{file_name}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    else:
        records.mkdir()
        for file_name, data in files.items():
            (records / file_name).write_bytes(data)
    ids = [int(Path(file_name).stem) for file_name in files]
    outcomes = pl.read_csv(PHYSIONET / "Outcomes-a.txt").filter(pl.col("RecordID").is_in(ids))
    outcomes_path = folder / f"Outcomes-{name}.txt"
    outcomes.write_csv(outcomes_path)
    return records, outcomes_path
