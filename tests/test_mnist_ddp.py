"""The data-parallel MNIST demo (apps/mnist_ddp.py) under mpiexec, on the bundled sample.

2 processes with the global batch split between them end with the weights of 1 process
(dropout off), and a checkpoint written by 2 processes resumes in 1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mytorch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "mnist_ddp.py"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TINY = ("--channels", "4", "8", "--hidden", "16", "--max-batches", "4", "--dropout", "0")
FINAL = re.compile(r"^test accuracy: (\d\.\d{4}) \((\d) processes, [\d.]+ s of training\)$", re.M)


def mpiexec() -> str:
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install mpi4py mpich)")
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec: install an MPI library (pip install mpich)")
    return found


def run(n: int, *argv: str) -> str:
    command = [sys.executable, str(APP), *argv]
    if n > 1:
        command = [mpiexec(), "-n", str(n), *command]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr[-3000:]}"
    return proc.stdout


def weights(out: Path) -> dict:
    return {k: v.numpy() for k, v in nn.load(out / "checkpoint.safetensors")["model"].items()}


def test_two_processes_match_one_and_resume_in_one(tmp_path):
    """2 epochs in 1 process == 1 epoch on 2 processes, resumed for the 2nd in 1 process."""
    mpiexec()
    one = run(1, *TINY, "--epochs", "2", "--out", str(tmp_path / "one"))
    two = run(2, *TINY, "--epochs", "1", "--out", str(tmp_path / "two"))
    assert FINAL.search(one).group(2) == "1" and FINAL.search(two).group(2) == "2"
    assert "rank 1:" in two and "global throughput:" in two
    assert (tmp_path / "two" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    resumed = run(1, *TINY, "--epochs", "2", "--out", str(tmp_path / "two"), "--resume")
    assert "resumed from" in resumed
    reference = weights(tmp_path / "one")
    for name, w in weights(tmp_path / "two").items():
        err = np.abs(w - reference[name]).max() / np.abs(reference[name]).max()
        assert err < 1e-5, f"{name}: {err:.2e}"
    assert FINAL.search(one).group(1) == FINAL.search(resumed).group(1)


def test_help_shows_every_default():
    out = subprocess.run(
        [sys.executable, str(APP), "--help"],
        capture_output=True,
        text=True,
        env={**ENV, "COLUMNS": "200"},
        timeout=60,
    ).stdout
    for flag in ("--batch-size", "--bucket-cap-mb", "--resume", "--channels", "--optimizer"):
        assert flag in out
    assert "(default: 64)" in out and "(default: 25.0)" in out
