"""PhysioNet/CinC Challenge 2012 (in-hospital mortality) → the eventssl data contract.

Get the sets from https://physionet.org/content/challenge-2012/1.0.0/ (set-a.tar.gz,
Outcomes-a.txt, and set-b / set-c likewise); a set may be its tarball or the unpacked folder.

python data_prep/physionet2012.py data/physionet2012 set-a.tar.gz Outcomes-a.txt
python data_prep/physionet2012.py data/physionet2012-ab set-a.tar.gz Outcomes-a.txt \\
    --test-set set-b.tar.gz Outcomes-b.txt          # train on set-a, test on set-b (EBES)
"""

from __future__ import annotations

from eventssl.data.prep.command import add_split_arguments, dataset_parser, run
from eventssl.data.prep.physionet import write_physionet


def main(argv: list[str] | None = None) -> None:
    parser = dataset_parser(__doc__)
    parser.add_argument("records", help="folder of <RecordID>.txt files, or its tarball")
    parser.add_argument("outcomes", help="the set's Outcomes-*.txt")
    parser.add_argument(
        "--test-set",
        nargs=2,
        metavar=("RECORDS", "OUTCOMES"),
        help="another set as the test split (else a stratified share of the first set)",
    )
    add_split_arguments(parser, test_fraction=0.2)
    parser.add_argument(
        "--resolution-minutes",
        type=int,
        default=6,
        help="measurements in one time bin form one event (default 6 = MLEM's 0.1 h)",
    )
    parser.add_argument(
        "--allow-unlabelled",
        action="store_true",
        help="keep records without outcome, unlabelled, in train instead of failing",
    )
    args = parser.parse_args(argv)
    test_records, test_outcomes = args.test_set or (None, None)
    run(
        parser,
        args.output,
        lambda: write_physionet(
            args.output,
            args.records,
            args.outcomes,
            test_records=test_records,
            test_outcomes=test_outcomes,
            test_fraction=args.test_fraction,
            seed=args.seed,
            resolution_minutes=args.resolution_minutes,
            allow_unlabelled=args.allow_unlabelled,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            skip_invalid_rows=args.skip_invalid_rows,
        ),
    )


if __name__ == "__main__":
    main()
