"""eventssl's next-item folder → RecBole's atomic `.inter` file and the splits it must reproduce.

    python benchmarks/recbole/export.py --data data/movielens100k    # eventssl's venv

Writes `<cache>/data/eventssl_ml100k/eventssl_ml100k.inter` (the test split: every user's whole
sequence in eventssl's order, item tokens = eventssl codes, timestamp = index within the user)
and `splits.json` (eventssl's train, val and test item codes per user, the number of codes),
which `run_sasrec.py` checks RecBole's split against. Reads the folder through eventssl's
contract reader (which checks the leave-one-out nesting), then re-reads the written file and
checks that a plain-Python leave-one-out of it gives eventssl's examples.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from split_protocol import (
    DATASET,
    MAX_LENGTH,
    atomic_split,
    expected_split,
    last_events,
    read_atomic,
    write_atomic,
)

from eventssl.data.contract import SPLITS, read_split, validate_dataset

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = HERE / ".cache"


def dataset_folder(cache: Path = CACHE) -> Path:
    """Where RecBole reads the dataset (`data_path` / dataset name)."""
    return cache / "data" / DATASET


def read_splits(folder: Path) -> tuple[dict[str, dict[str, list[int]]], int]:
    """eventssl's item codes of every user in each split, and the number of item codes."""
    schema = validate_dataset(folder)
    item = schema.next_item
    if item is None:
        raise ValueError(f"{folder}: not a next-item dataset (schema.json has no next_item)")
    splits = {}
    for split in SPLITS:
        columns = read_split(folder, split, schema)
        codes, offsets = columns.categorical[item], columns.offsets
        splits[split] = {
            str(user): codes[offsets[row] : offsets[row + 1]].tolist()
            for row, user in enumerate(columns.seq_ids.tolist())
        }
    return splits, schema.categorical[item]


def export(
    folder: Path, cache: Path = CACHE, max_length: int = MAX_LENGTH, same_pairs: bool = False
) -> Path:
    """Write the `.inter` file and `splits.json`; return the RecBole dataset folder.
    `same_pairs`: only each user's last `max_length` + 2 events (`split_protocol.last_events`),
    so that RecBole trains on eventssl's pairs instead of every prefix of the whole history."""
    splits, num_codes = read_splits(folder)
    if same_pairs:
        splits = last_events(splits, max_length)
    expected = expected_split(splits, max_length)
    target = dataset_folder(cache)
    target.mkdir(parents=True, exist_ok=True)
    inter = target / f"{DATASET}.inter"
    rows = write_atomic(inter, splits["test"])
    if atomic_split(read_atomic(inter), max_length) != expected:
        raise RuntimeError(f"{inter}: its leave-one-out differs from {folder}'s splits")
    summary = {"source": str(folder), "num_codes": num_codes, "max_length": max_length}
    summary["same_pairs"] = same_pairs
    (target / "splits.json").write_text(json.dumps(summary | {"splits": splits}))
    train_examples = sum(len(split.train_targets) for split in expected.values())
    print(
        f"[export] {inter}: {rows:,} interactions, {len(expected):,} users, "
        f"{train_examples:,} train (prefix, target) examples; RecBole's leave-one-out of it "
        f"matches {folder}"
    )
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO / "data" / "movielens100k")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument(
        "--same-pairs",
        action="store_true",
        help="keep each user's last 52 events: RecBole then trains on the pairs eventssl's "
        "data.max_length=50 trains on (default: the whole history, RecBole's and MCLRec's)",
    )
    args = parser.parse_args(argv)
    export(args.data, args.cache, same_pairs=args.same_pairs)


if __name__ == "__main__":
    main()
