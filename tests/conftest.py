"""Fixtures shared by the demo tests."""

from __future__ import annotations

import importlib.util
import sys

import pytest


@pytest.fixture(scope="module")
def app(request):
    """The demo file named by the test module's ``APP`` path, imported as a module (the demos
    are scripts, not part of a package)."""
    path = request.module.APP
    spec = importlib.util.spec_from_file_location(f"{path.stem}_app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # @dataclass looks its module up while the file executes
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
