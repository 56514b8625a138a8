"""Generate the MLEM Pendulum dataset (arXiv 2401.15935, §Pendulum) in the eventssl contract.

python data_prep/pendulum.py data/pendulum                 # 100k sequences, seed 42
python data_prep/pendulum.py data/pendulum-10k --sequences 10000
"""

from __future__ import annotations

import argparse
import time

from eventssl.data import validate_dataset
from eventssl.data.pendulum_dataset import write_pendulum


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("output", help="dataset folder to create")
    parser.add_argument("--sequences", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--test", type=int, default=None, help="test sequences (default 10%%, at most 1000)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    write_pendulum(args.output, args.sequences, args.seed, args.test, args.overwrite)
    validate_dataset(args.output)
    print(
        f"wrote {args.sequences} sequences to {args.output} in {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
