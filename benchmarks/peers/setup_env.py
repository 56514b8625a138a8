"""Create the peers' own virtualenv (pytorch-lifestream 0.6.0 and EBES 0.0.9), never eventssl's.

    python benchmarks/peers/setup_env.py [--venv benchmarks/peers/.venv] [--force]

Installs the set known to resolve together on this kind of machine: the first command pins
torch 2.13.0 so that pip takes the CPU wheel (never a CUDA build); EBES goes in with --no-deps
because it pins pandas 2.2.0 (→ numpy 1.26, which breaks pyarrow 26). Idempotent: does nothing
when the venv exists, its imports work and its torch is the 2.13 CPU build.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".venv"
REQUIREMENTS = (
    "torch==2.13.0", "lightning", "torchmetrics", "polars", "pyarrow", "scikit-learn",
    "pytorch-lifestream==0.6.0", "einops", "torcheval", "torchcde", "optuna", "omegaconf",
    "lightgbm", "pandas",
)  # fmt: skip
NO_DEPS = ("ebes==0.0.9",)
CHECK = (
    "import torch, ptls, ebes, pyarrow; from importlib.metadata import version; "
    "assert torch.__version__.startswith('2.13') and '+cpu' in torch.__version__, "
    "torch.__version__; assert not torch.cuda.is_available(); "
    "print(torch.__version__, version('pytorch-lifestream'), version('ebes'))"
)


def venv_python(folder: Path = DEFAULT_VENV) -> Path:
    """The interpreter of a virtualenv folder."""
    return folder / "bin" / "python"


def is_ready(folder: Path = DEFAULT_VENV) -> bool:
    """True when the venv exists and torch (CPU 2.13), ptls and ebes import."""
    python = venv_python(folder)
    if not python.is_file():
        return False
    done = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True)
    return done.returncode == 0


def ensure_peer_venv(folder: Path = DEFAULT_VENV, force: bool = False) -> Path:
    """Create and fill the peer venv unless it is already usable; return its python."""
    if not force and is_ready(folder):
        return venv_python(folder)
    start = time.perf_counter()
    print(f"[setup] creating the peer venv {folder} (about 2 minutes)", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    pip = [str(venv_python(folder)), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *REQUIREMENTS], check=True)
    subprocess.run([*pip, "--no-deps", *NO_DEPS], check=True)
    check = subprocess.run([str(venv_python(folder)), "-c", CHECK], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"peer venv {folder} is not usable:\n{check.stderr}")
    print(
        f"[setup] torch, ptls, ebes = {check.stdout.strip()} ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return venv_python(folder)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--force", action="store_true", help="rebuild even if it works")
    args = parser.parse_args()
    python = ensure_peer_venv(args.venv, args.force)
    print(f"[setup] peer python: {python}", file=sys.stderr)


if __name__ == "__main__":
    main()
