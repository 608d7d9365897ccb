"""The ``torch`` fixture, so this package's tests also run outside the repository (installed
alone, PyTorch parity tests skip when PyTorch is absent)."""

from __future__ import annotations

import pytest


@pytest.fixture
def torch():
    """The torch module (one thread), or a skip when it is not installed."""
    module = pytest.importorskip("torch", reason="PyTorch is not installed: parity test skipped")
    module.set_num_threads(1)
    return module
