"""``mpi_job``: run a script under ``mpiexec -n N`` and collect what each rank wrote.

Job scripts live in ``tests/jobs/``; each takes an output directory as its first argument and
writes ``rank<r>.json`` there (``jobs/_common.py`` has the helper). Tests that need a job skip
with a clear reason when no ``mpiexec`` (or no mpi4py) is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

JOBS = Path(__file__).resolve().parent / "jobs"
INSTALL_HINT = "install an MPI library: pip install 'mytorch-distributed[mpich]'"


def find_mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's), else the first on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


def job_env(n: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["MKL_NUM_THREADS"] = "1"
    if n > (os.cpu_count() or 1):
        # More ranks than cores: MPICH's busy polling would starve the ranks that have work;
        # let a waiting rank give its core away (an MPICH setting; other MPIs ignore it).
        env.setdefault("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1")
    return env


@dataclass
class JobResult:
    returncode: int
    output: str  # stdout and stderr of every rank
    ranks: list  # each rank's JSON result (None where a rank wrote none)
    seconds: float
    out: Path  # the job's output directory


def run_job(script: str, n: int, out: Path, *args: str, timeout: float = 120) -> JobResult:
    """``mpiexec -n n python jobs/<script> out args...``; n == 0 runs it without mpiexec."""
    import time

    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(JOBS / script), str(out), *map(str, args)]
    if n:
        command = [find_mpiexec(), "-n", str(n), *command]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=job_env(n),
        start_new_session=True,  # so that a hung job can be killed with all its ranks
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"{script} with {n} ranks hung for {timeout} s:\n{output[-3000:]}")
    ranks = []
    for r in range(max(n, 1)):
        path = out / f"rank{r}.json"
        ranks.append(json.loads(path.read_text()) if path.exists() else None)
    return JobResult(proc.returncode, output, ranks, time.perf_counter() - start, out)


@pytest.fixture(scope="session")
def mpiexec() -> str:
    """The mpiexec to launch jobs with, or a skip saying what to install."""
    from mytorch.distributed import is_mpi_available

    if not is_mpi_available():
        pytest.skip(f"mpi4py or its MPI library is missing; {INSTALL_HINT}")
    path = find_mpiexec()
    if path is None:
        pytest.skip(f"no mpiexec found beside {sys.executable} or on PATH; {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def mpi_job(mpiexec, tmp_path_factory):
    """``mpi_job(script, n, *args)`` -> JobResult; asserts the job succeeded unless ok=False.

    ``n`` = 0 runs the script as a plain process (world size 1, no mpiexec).
    """
    counter = iter(range(10**6))

    def run(script: str, n: int, *args, ok: bool = True, timeout: float = 120) -> JobResult:
        out = tmp_path_factory.mktemp(f"{Path(script).stem}_n{n}_{next(counter)}")
        result = run_job(script, n, out, *args, timeout=timeout)
        if ok:
            assert result.returncode == 0, f"{script} on {n} ranks failed:\n{result.output[-4000:]}"
            missing = [r for r, res in enumerate(result.ranks) if res is None]
            assert not missing, f"ranks {missing} wrote no result:\n{result.output[-4000:]}"
        return result

    return run
