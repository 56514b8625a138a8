"""TaoBao: Tianchi mobile recommendation user behaviour → the eventssl data contract.

Get tianchi_mobile_recommend_train_user.csv from Tianchi dataset 46 (login required). Each cut
day gives one window: a week of history before it, target = a purchase in the week after it;
the last cut's window is the test split (EBES preprocess/taobao.py).

python data_prep/taobao.py data/taobao tianchi_mobile_recommend_train_user.csv
python data_prep/taobao.py data/taobao user.csv --cuts 2014-11-25 2014-12-02 2014-12-09
"""

from __future__ import annotations

import datetime as dt

from eventssl.data.prep.command import add_frequency_argument, dataset_parser, run
from eventssl.data.prep.taobao import DEFAULT_CUTS, write_taobao


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("user_actions", help="tianchi_mobile_recommend_train_user.csv")
    parser.add_argument(
        "--cuts",
        nargs="+",
        type=dt.date.fromisoformat,
        default=list(DEFAULT_CUTS),
        help="cut days YYYY-MM-DD (default 2014-11-25 2014-12-02 2014-12-09)",
    )
    parser.add_argument("--test-windows", type=int, default=1, help="last windows used as test")
    parser.add_argument("--history-days", type=int, default=7)
    parser.add_argument("--horizon-days", type=int, default=7)
    add_frequency_argument(parser)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_taobao(
            args.output,
            args.user_actions,
            cuts=args.cuts,
            test_windows=args.test_windows,
            history_days=args.history_days,
            horizon_days=args.horizon_days,
            min_frequency=args.min_frequency,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
