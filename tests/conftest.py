"""Fixtures shared by the demo tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[1] / "apps"
DEMOS = sorted(p.stem for p in APPS.glob("*.py"))  # every demo file


def _import_demo(path: Path):
    """The demo file ``path`` imported as a module (the demos are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"{path.stem}_app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # @dataclass looks its module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def app(request):
    """The demo file named by the test module's ``APP`` path, imported as a module."""
    module = _import_demo(request.module.APP)
    yield module
    del sys.modules[module.__name__]


@pytest.fixture(params=DEMOS)
def demo(request):
    """Each demo of ``apps/`` in turn, imported as a module."""
    module = _import_demo(APPS / f"{request.param}.py")
    yield module
    del sys.modules[module.__name__]


ROOT = APPS.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# one BLAS thread: the tiny runs gain nothing from more, and stay fast on a loaded machine
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run_on_sample(app: Path, *argv: str) -> str:
    """Run the real demo file on the bundled MNIST sample; its stdout (fails with its stderr)."""
    proc = subprocess.run(
        [sys.executable, str(app), "--source", "sample", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **_ONE_THREAD},
    )
    assert proc.returncode == 0, f"{app.name} {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


def _assert_pngs(out: Path, *names: str) -> None:
    for name in names:
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 3000, name


@pytest.fixture
def run_app():
    """``run_app(app, *argv)``: a demo file run end to end on the bundled MNIST sample."""
    return _run_on_sample


@pytest.fixture
def assert_pngs():
    """``assert_pngs(out, *names)``: each named file in ``out`` is a real (non-trivial) PNG."""
    return _assert_pngs
