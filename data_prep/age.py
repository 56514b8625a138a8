"""Age group prediction (Sberbank contest, CoLES "age_pred") → the eventssl data contract.

Get transactions_train.csv.gz, transactions_test.csv.gz and train_target.csv from the Hugging Face
dataset dllllb/age-group-prediction. Clients of transactions_test have no target: they are
kept, unlabelled, in train for self-supervision.

python data_prep/age.py data/age train_target.csv \\
    transactions_train.csv.gz transactions_test.csv.gz
"""

from __future__ import annotations

from eventssl.data.prep.age import write_age
from eventssl.data.prep.command import (
    add_frequency_argument,
    add_split_arguments,
    dataset_parser,
    run,
)


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("targets", help="train_target.csv (client_id, bins)")
    parser.add_argument("transactions", nargs="+", help="transactions_*.csv[.gz] files")
    add_split_arguments(parser, test_fraction=0.1)
    add_frequency_argument(parser)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_age(
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
