"""Fixtures shared by the demo tests."""

from __future__ import annotations

import importlib.util
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
