"""Which script and which venv run each system, and how one trial subprocess is launched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings import HERE, RESULT_PREFIX, Sizes
from setup_env import venv_python


@dataclass(frozen=True)
class System:
    """A benchmarked system: its trial script, whether it runs in the peer venv, its family."""

    script: str
    peer: bool
    family: str  # "coles" or "mlem": systems of one family share a batch shape


SYSTEMS = {
    "eventssl_coles": System("trials_eventssl.py", False, "coles"),
    "ptls_coles": System("trials_ptls.py", True, "coles"),
    "ebes_coles": System("trials_ebes.py", True, "coles"),
    "bare_gru_coles": System("bare_gru.py", False, "coles"),
    "eventssl_mlem": System("trials_eventssl.py", False, "mlem"),
    "ebes_mlem": System("trials_ebes.py", True, "mlem"),
    "bare_gru_mlem": System("bare_gru.py", False, "mlem"),
}
THROUGHPUT_DEFAULT = [
    "eventssl_coles",
    "ptls_coles",
    "bare_gru_coles",
    "eventssl_mlem",
    "ebes_mlem",
    "bare_gru_mlem",
]
# quality order: a MLEM run needs its family's CoLES teacher trained first
QUALITY_ORDER = ["eventssl_coles", "eventssl_mlem", "ptls_coles", "ebes_coles", "ebes_mlem"]


def run_trial(
    name: str,
    mode: str,
    dataset: str,
    folder: Path,
    sizes: Sizes,
    work: Path | None = None,
    threads: int | None = None,
    seed: int = 0,
    peer_python: Path | None = None,
) -> dict[str, Any]:
    """Run one trial in its venv and return its JSON result (or {"error": ...}).

    A peer system runs with `peer_python` when given, else with the peer venv's interpreter.
    """
    system = SYSTEMS[name]
    python = str(peer_python or venv_python()) if system.peer else sys.executable
    command = [
        python,
        str(HERE / system.script),
        "--system",
        name,
        "--mode",
        mode,
        "--dataset",
        dataset,
        "--folder",
        str(folder),
        "--sizes",
        sizes.to_json(),
        "--seed",
        str(seed),
    ]
    if work is not None:
        command += ["--work", str(work)]
    environment = dict(os.environ)
    if threads:
        environment |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).splitlines()[-15:])
        print(f"[trial] {name} on {dataset} failed (exit {done.returncode}):\n{tail}", flush=True)
        return {"system": name, "dataset": dataset, "mode": mode, "error": tail}
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    return result | {"process_wall_s": wall, "load_average_before": load}
