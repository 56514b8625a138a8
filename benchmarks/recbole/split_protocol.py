"""The shared split protocol of eventssl and RecBole 1.2.1 (standard library and numpy only: both
venvs import it).

eventssl's next-item folders are leave-one-out splits of each user's sequence (train = all but
the last two events, val = all but the last, test = all). `write_atomic` writes the test split
as a RecBole atomic `.inter` file whose timestamp is the event's index within its user, so
RecBole's time order (`eval_args.order: TO`, a stable sort) is eventssl's order. RecBole then
turns every event after a user's first into one (prefix of at most MAX_ITEM_LIST_LENGTH items,
target) example and leaves the user's last example out for test and the one before for
validation (`eval_args.split: {LS: valid_and_test}`), for users with at least MIN_EVENTS
events (eventssl's folders allow 3; MovieLens-100k's 5-core users have 19 or more).
`expected_split` is what that must give for eventssl's own split files; `atomic_split`
computes it from the `.inter` file in plain Python; `check_split` compares it with what
RecBole built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASET = "eventssl_ml100k"  # RecBole's dataset name: not one of its own, so no preset applies
USER_FIELD, ITEM_FIELD, TIME_FIELD = "user_id", "item_id", "timestamp"
HEADER = f"{USER_FIELD}:token\t{ITEM_FIELD}:token\t{TIME_FIELD}:float"
PADDING_COLUMN = 0  # RecBole's "[PAD]" item, like eventssl's padding code 0
MAX_LENGTH = 50  # MAX_ITEM_LIST_LENGTH of RecBole's SASRec, eventssl's data.max_length
MIN_EVENTS = 4  # RecBole holds out a validation example only for users with >= 4 events


@dataclass(frozen=True)
class UserSplit:
    """One user's leave-one-out examples, as item codes: every train target in order, the
    validation and test targets and the (truncated) prefixes before them; None where RecBole
    holds out no such example (a user with fewer than MIN_EVENTS events)."""

    train_targets: tuple[int, ...]
    val_target: int | None
    val_prefix: tuple[int, ...] | None
    test_target: int | None
    test_prefix: tuple[int, ...] | None


def last_events(
    splits: Mapping[str, Mapping[str, Sequence[int]]], max_length: int = MAX_LENGTH
) -> dict[str, dict[str, list[int]]]:
    """Each user's last `max_length` + 2 test events, and the val and train sequences inside
    them: RecBole's examples of these are the (prefix, next item) pairs eventssl trains on with
    `data.max_length` (the last `max_length` train events, a prefix never reaching further back).
    Validation and test prefixes keep `max_length` items (eventssl's keep `max_length` − 1)."""
    keep = {"test": max_length + 2, "val": max_length + 1, "train": max_length}
    return {
        split: {user: list(items[-keep[split] :]) for user, items in splits[split].items()}
        for split in ("train", "val", "test")
    }


def write_atomic(path: Path, sequences: Mapping[str, Sequence[int]]) -> int:
    """Write `sequences` (user token → item codes in eventssl's order) as an atomic `.inter`
    file: one row per event, timestamp = the event's index within its user. Returns the rows."""
    rows = 0
    with path.open("w") as file:
        file.write(HEADER + "\n")
        for user, items in sequences.items():
            if "\t" in user or not user:
                raise ValueError(f"user token {user!r} is empty or holds a tab")
            for index, item in enumerate(items):
                file.write(f"{user}\t{int(item)}\t{index}\n")
            rows += len(items)
    return rows


def read_atomic(path: Path) -> list[tuple[str, int, float]]:
    """The (user, item code, timestamp) rows of a file written by `write_atomic`."""
    lines = path.read_text().splitlines()
    if not lines or lines[0] != HEADER:
        raise ValueError(f"{path}: the first line must be {HEADER!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path}:{number}: expected 3 tab-separated fields, got {line!r}")
        rows.append((fields[0], int(fields[1]), float(fields[2])))
    return rows


def recbole_examples(items: Sequence[int], max_length: int = MAX_LENGTH) -> UserSplit:
    """RecBole 1.2.1's split of one user's time-ordered items: each item after the first is the
    target of an example whose prefix is the up to `max_length` items before it; of the n − 1
    examples the last goes to test and the one before to validation, but RecBole holds out at
    most n − 2 of them (so a 3-event user has no validation example, a 2-event user none)."""
    items = tuple(int(item) for item in items)
    examples = [(items[max(0, i - max_length) : i], items[i]) for i in range(1, len(items))]
    held = max(0, min(2, len(examples) - 1))
    kept, out = examples[: len(examples) - held], examples[len(examples) - held :]
    (val_prefix, val_target), (test_prefix, test_target) = [(None, None)] * (2 - held) + out
    return UserSplit(
        train_targets=tuple(target for _, target in kept),
        val_target=val_target,
        val_prefix=val_prefix,
        test_target=test_target,
        test_prefix=test_prefix,
    )


def atomic_split(
    rows: Iterable[tuple[str, int, float]], max_length: int = MAX_LENGTH
) -> dict[str, UserSplit]:
    """RecBole's leave-one-out of atomic rows, in plain Python: each user's rows in a stable
    sort by timestamp, then `recbole_examples`."""
    by_user: dict[str, list[tuple[float, int]]] = {}
    for user, item, timestamp in rows:
        by_user.setdefault(user, []).append((timestamp, item))
    return {
        user: recbole_examples([item for _, item in sorted(events, key=lambda e: e[0])], max_length)
        for user, events in by_user.items()
    }


def expected_split(
    splits: Mapping[str, Mapping[str, Sequence[int]]], max_length: int = MAX_LENGTH
) -> dict[str, UserSplit]:
    """The examples eventssl's own split files define: `splits[split][user]` are the item codes
    of train, val and test; train targets are train's items after the first, the val and test
    targets their split's last item, after the up to `max_length` items before it. Raises a
    ValueError for a user RecBole cannot split the same way (fewer than MIN_EVENTS events) or
    splits that do not nest (val = train + 1 event, test = val + 1)."""
    users = set(splits["test"])
    for split in ("train", "val"):
        if set(splits[split]) != users:
            raise ValueError(f"the {split} and test splits hold different users")
    expected = {}
    for user in splits["test"]:
        train, val, test = (tuple(splits[name][user]) for name in ("train", "val", "test"))
        if val[:-1] != train or test[:-1] != val:
            raise ValueError(f"user {user}: val is not train + 1 event or test is not val + 1")
        if len(test) < MIN_EVENTS:
            raise ValueError(
                f"user {user} has {len(test)} events; RecBole's leave-one-out keeps a "
                f"validation example only for users with >= {MIN_EVENTS} (prepare the data "
                f"with --min-user-interactions {MIN_EVENTS} or more)"
            )
        expected[user] = UserSplit(
            train_targets=train[1:],
            val_target=val[-1],
            val_prefix=val[:-1][-max_length:],
            test_target=test[-1],
            test_prefix=test[:-1][-max_length:],
        )
    return expected


def check_split(expected: Mapping[str, UserSplit], observed: Mapping[str, UserSplit]) -> None:
    """Raise a ValueError naming the first user and part where `observed` (RecBole's split,
    mapped back to item codes) differs from `expected` (eventssl's)."""
    missing, extra = set(expected) - set(observed), set(observed) - set(expected)
    if missing or extra:
        raise ValueError(
            f"RecBole's split has {len(observed)} users, eventssl's {len(expected)}: missing "
            f"{sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        )
    for user, wanted in expected.items():
        got = observed[user]
        for part in UserSplit.__dataclass_fields__:
            if getattr(got, part) != getattr(wanted, part):
                raise ValueError(
                    f"user {user}: RecBole's {part} is {getattr(got, part)!r}, eventssl's is "
                    f"{getattr(wanted, part)!r}"
                )


def code_columns(item_tokens: Sequence[str], num_codes: int) -> np.ndarray:
    """The eventssl item code of each RecBole item column (its id → token table, "[PAD]"
    first, which becomes padding code 0). Every other token must be a distinct code in
    [2, num_codes)."""
    if not len(item_tokens) or item_tokens[0] != "[PAD]":
        raise ValueError("RecBole's item tokens must start with '[PAD]' (column 0)")
    codes = np.array([PADDING_COLUMN, *(int(token) for token in item_tokens[1:])], np.int64)
    real = codes[1:]
    if len(real) and (real.min() < 2 or real.max() >= num_codes):
        raise ValueError(f"item tokens must be eventssl codes in [2, {num_codes})")
    if len(np.unique(real)) != len(real):
        raise ValueError("RecBole's item tokens repeat a code")
    return codes


def to_code_scores(scores: np.ndarray, columns: np.ndarray, num_codes: int) -> np.ndarray:
    """(U, C) scores over RecBole's item columns → (U, num_codes) over eventssl's codes; codes
    RecBole has no column for, padding and missing score −inf."""
    if scores.ndim != 2 or scores.shape[1] != len(columns):
        raise ValueError(f"scores must be (users, {len(columns)}), got {scores.shape}")
    mapped = np.full((len(scores), num_codes), -np.inf, dtype=np.float32)  # (U, N)
    mapped[:, columns[1:]] = scores[:, 1:]
    return mapped
