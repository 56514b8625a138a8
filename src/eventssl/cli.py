"""The `eventssl` command: `fit|validate|evaluate|predict --config …` (LightningCLI, see
`eventssl.lightning_cli`) and `compare --config …`; user errors as one message."""

from __future__ import annotations

import os
import sys

from lightning.pytorch.utilities.exceptions import SIGTERMException

from eventssl.lightning_cli import run_lightning
from eventssl.methods.checkpoint import read_checkpoint
from eventssl.runs import RunFolderError


def main(args: list[str] | None = None) -> None:
    """Console entry point; `args` lets tests call it in-process.

    `eventssl evaluate --ckpt_path …` scores a checkpoint with the config's Evaluation callbacks
    (`EventTrainer.evaluate`). `eventssl compare --config FILE` runs a method comparison.
    """
    argv = list(sys.argv[1:] if args is None else args)
    if argv[:1] == ["compare"]:
        from eventssl.compare import main as compare

        compare(argv[1:])
        return
    checked_ckpt_path(argv)
    run_lightning(argv, from_sys_argv=args is None)


def checked_ckpt_path(argv: list[str]) -> None:
    """A `--ckpt_path` file that is missing or truncated: an error naming it, before
    LightningCLI reads it (its own error does not say which file)."""
    for index, argument in enumerate(argv):
        if argument.startswith("--ckpt_path="):
            value = argument.split("=", 1)[1]
        elif argument == "--ckpt_path" and index + 1 < len(argv):
            value = argv[index + 1]
        else:
            continue
        if value not in ("last", "best", "hpc", "registry", "null", "None"):
            read_checkpoint(value)


USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, KeyError, RunFolderError)


def console(args: list[str] | None = None) -> None:
    """The `eventssl` command: user errors are one message on stderr (exit 2), a SIGTERM says
    how to resume (exit 143). EVENTSSL_DEBUG=1 shows the traceback."""
    try:
        main(args)
    except SIGTERMException:
        print(
            "eventssl: stopped by SIGTERM; the run's state is in checkpoints/last.ckpt. Resume "
            "with the same command plus --ckpt_path last",
            file=sys.stderr,
        )
        sys.exit(143)
    except USER_ERRORS as error:
        if os.environ.get("EVENTSSL_DEBUG"):
            raise
        print(f"eventssl: error: {user_message(error)}", file=sys.stderr)
        print("(set EVENTSSL_DEBUG=1 to see the traceback)", file=sys.stderr)
        sys.exit(2)


def user_message(error: BaseException) -> str:
    """The message a user needs; jsonargparse hides a constructor's own error in a list of
    union alternatives ("Does not validate against any of the Union subtypes"): surface it."""
    text = str(error)
    if "Does not validate against any of the Union subtypes" in text and "Errors:" in text:
        lines = text.split("Errors:", 1)[1].split("\n")
        reasons = [
            line.strip()[2:]
            for line in lines
            if line.strip().startswith("- ") and "Expected a <class 'NoneType'>" not in line
        ]
        if reasons:
            return "; ".join(reasons)
    if isinstance(error, KeyError):
        return f"missing key {text}"
    return text.split("\nGiven value", 1)[0]


if __name__ == "__main__":
    console()
