"""The shared part of the `data_prep/*.py` command lines: common options and clean errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from eventssl.data.contract import validate_dataset


def dataset_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the output folder, --overwrite and --quiet."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("output", help="dataset folder to create (refused if it holds files)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--skip-invalid-rows",
        action="store_true",
        help="drop event rows with an empty or unreadable field and report how many per file "
        "and why (default: stop at the first with an error naming it)",
    )
    return parser


def add_split_arguments(parser: argparse.ArgumentParser, test_fraction: float) -> None:
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=test_fraction,
        help=f"stratified share of labelled sequences in test (default {test_fraction})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")


def add_frequency_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-frequency",
        type=int,
        default=1,
        help="categorical values seen fewer times in train share the missing code 1",
    )


def add_core_arguments(parser: argparse.ArgumentParser) -> None:
    """The k-core thresholds of the next-item datasets (RecBole's `[5,inf)` by default)."""
    parser.add_argument(
        "--min-user-interactions",
        type=int,
        default=5,
        help="drop users with fewer interactions, repeated with the item rule until both hold "
        "(default 5; at least 3: train, val and test each need an event)",
    )
    parser.add_argument(
        "--min-item-interactions",
        type=int,
        default=5,
        help="drop items with fewer interactions (default 5)",
    )


def run(parser: argparse.ArgumentParser, output: str, write: Callable[[], object]) -> None:
    """Call `write`, validate what it wrote; bad input exits with status 2 and one message."""
    try:
        write()
        validate_dataset(output)
    except ValueError as error:  # RawDataError, DataContractError and bad options
        parser.exit(2, f"{parser.prog}: error: {error}\n")
