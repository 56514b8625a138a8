"""CDNOW master (retail purchases; Fader, Hardie & Lee 2005) → the eventssl data contract.

Calibration purchases (1997-01-01 .. 09-30) are the events; the holdout (1997-10-01 .. 1998-06-30)
gives the targets active_in_holdout (default) and holdout_spend. The file ships with the PyPI
package `lifetimes` (lifetimes/datasets/CDNOW_master.txt).

python data_prep/cdnow.py data/cdnow CDNOW_master.txt.gz      # or cdnow_master.parquet
"""

from __future__ import annotations

from eventssl.data.prep.cdnow import write_cdnow
from eventssl.data.prep.command import add_split_arguments, dataset_parser, run


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("purchases", help="CDNOW_master.txt[.gz] or cdnow_master.parquet")
    add_split_arguments(parser, test_fraction=0.2)
    args = parser.parse_args(argv)
    run(
        parser,
        args.output,
        lambda: write_cdnow(
            args.output,
            args.purchases,
            test_fraction=args.test_fraction,
            seed=args.seed,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
