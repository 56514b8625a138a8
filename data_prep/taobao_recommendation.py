"""Taobao UserBehavior → a next-item dataset (leave-one-out) in the eventssl contract.

Get UserBehavior.csv from Tianchi dataset 649 (login required; no header: user_id, item_id,
category_id, behavior_type, timestamp), or use a parquet file with these columns (the project's
shared head sample). Every behaviour (pv, fav, cart, buy) is an interaction; rows outside
2017-11-25 .. 2017-12-03 (UTC+8) are dropped; 5-core filter (repeated to a fixed point); per user,
sorted by time: train = all but the last two events, val = all but the last, test = all.
Not the purchase-prediction TaoBao of data_prep/taobao.py (a different Tianchi dataset).

python data_prep/taobao_recommendation.py data/taobao_rec UserBehavior.csv
"""

from __future__ import annotations

from eventssl.data.prep.command import add_core_arguments, dataset_parser, run
from eventssl.data.prep.taobao_recommendation import write_taobao_recommendation


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("user_behavior", help="UserBehavior.csv or a parquet file like it")
    add_core_arguments(parser)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_taobao_recommendation(
            args.output,
            args.user_behavior,
            min_user_interactions=args.min_user_interactions,
            min_item_interactions=args.min_item_interactions,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
