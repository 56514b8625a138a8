"""ABank: AlfaBattle 2.0 card transactions (credit default) → the eventssl data contract.

Get the data with `git clone https://huggingface.co/datasets/dllllb/alfa-scoring-trx`: folders of
transaction parquet parts and train_target.csv. Applications without a target (e.g. the contest
test parts) are kept, unlabelled, in train.

python data_prep/abank.py data/abank alfa-scoring-trx/train_target.csv \\
    alfa-scoring-trx/train_transactions_contest alfa-scoring-trx/test_transactions_contest
"""

from __future__ import annotations

from eventssl.data.prep.abank import write_abank
from eventssl.data.prep.command import (
    add_frequency_argument,
    add_split_arguments,
    dataset_parser,
    run,
)


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("targets", help="train_target.csv[.gz] (app_id, product, flag)")
    parser.add_argument("transactions", nargs="+", help="parquet files or folders of parts")
    add_split_arguments(parser, test_fraction=0.1)
    add_frequency_argument(parser)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_abank(
            args.output,
            args.transactions,
            args.targets,
            test_fraction=args.test_fraction,
            seed=args.seed,
            min_frequency=args.min_frequency,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
