"""MovieLens-100k → a next-item recommendation dataset (leave-one-out) in the eventssl contract.

Get u.data from https://grouplens.org/datasets/movielens/100k/ (ml-100k.zip), or RecBole's atomic
file ml-100k.inter (it ships inside the recbole wheel: recbole/dataset_example/ml-100k/). Every
rating is an interaction; 5-core filter (repeated to a fixed point); per user, sorted by time:
train = all but the last two events, val = all but the last, test = all.

python data_prep/movielens.py data/ml-100k ml-100k/u.data
python data_prep/movielens.py data/ml-100k ml-100k.inter --with-rating
"""

from __future__ import annotations

from eventssl.data.prep.command import add_core_arguments, dataset_parser, run
from eventssl.data.prep.movielens import write_movielens


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("ratings", help="u.data (GroupLens) or ml-100k.inter (RecBole)")
    parser.add_argument(
        "--with-rating", action="store_true", help="add the rating as a numeric field"
    )
    add_core_arguments(parser)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_movielens(
            args.output,
            args.ratings,
            with_rating=args.with_rating,
            min_user_interactions=args.min_user_interactions,
            min_item_interactions=args.min_item_interactions,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
