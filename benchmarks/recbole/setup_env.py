"""Create RecBole's own virtualenv (recbole 1.2.1), never eventssl's.

    python benchmarks/recbole/setup_env.py [--venv benchmarks/recbole/.venv] [--force]

Three pip commands, in this order: torch 2.13.0 alone (so pip takes the CPU wheel on this
machine's disk, never a CUDA build); then the libraries RecBole's data, SASRec, trainer and
evaluator import; then recbole 1.2.1 with --no-deps. Left out on purpose: ray and hyperopt
(hyper-parameter search only, imported by `recbole.quick_start`, which the runner does not use),
thop, plotly and psutil (imported lazily by helpers the runner does not call). numpy stays below
2: RecBole 1.2.1's `Config` aliases `np.float_`, which numpy 2 removed. tensorboard is needed
because `recbole.utils` imports `torch.utils.tensorboard`. Idempotent: does nothing when the venv
exists, its imports work and its torch is the 2.13 CPU build.
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
TORCH = "torch==2.13.0"
DEPENDENCIES = (
    "numpy<2", "scipy", "pandas<3", "scikit-learn", "tqdm", "pyyaml", "colorlog==4.7.2",
    "colorama==0.4.4", "texttable", "tensorboard",
)  # fmt: skip
RECBOLE = "recbole==1.2.1"
CHECK = (
    "import torch, numpy; from importlib.metadata import version; "
    "from recbole.config import Config; from recbole.data import create_dataset, "
    "data_preparation; from recbole.model.sequential_recommender import SASRec; "
    "from recbole.trainer import Trainer; "
    "assert torch.__version__.startswith('2.13') and '+cpu' in torch.__version__, "
    "torch.__version__; assert numpy.__version__ < '2', numpy.__version__; "
    "print(torch.__version__, numpy.__version__, version('recbole'))"
)


def venv_python(folder: Path = DEFAULT_VENV) -> Path:
    """The interpreter of a virtualenv folder."""
    return folder / "bin" / "python"


def is_ready(folder: Path = DEFAULT_VENV) -> bool:
    """True when the venv exists and torch (CPU 2.13), numpy < 2 and RecBole's parts import."""
    python = venv_python(folder)
    if not python.is_file():
        return False
    done = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True)
    return done.returncode == 0


def ensure_recbole_venv(folder: Path = DEFAULT_VENV, force: bool = False) -> Path:
    """Create and fill the RecBole venv unless it is already usable; return its python."""
    if not force and is_ready(folder):
        return venv_python(folder)
    start = time.perf_counter()
    print(f"[setup] creating the RecBole venv {folder} (a few minutes)", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    pip = [str(venv_python(folder)), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, TORCH], check=True)
    subprocess.run([*pip, TORCH, *DEPENDENCIES], check=True)
    subprocess.run([*pip, "--no-deps", RECBOLE], check=True)
    check = subprocess.run([str(venv_python(folder)), "-c", CHECK], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"RecBole venv {folder} is not usable:\n{check.stderr}")
    print(
        f"[setup] torch, numpy, recbole = {check.stdout.strip()} "
        f"({time.perf_counter() - start:.0f} s)",
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
    python = ensure_recbole_venv(args.venv, args.force)
    print(f"[setup] RecBole python: {python}", file=sys.stderr)


if __name__ == "__main__":
    main()
