"""Shared pytest set-up: the ``torch`` fixture for parity tests and a count of those that ran."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

# Test tensors are small: one BLAS thread is as fast, and a spinning pool next to another busy
# process can slow a 2-core machine down many times over.
threadpool_limits(limits=1)

_TORCH_REASON = "PyTorch is not installed: torch parity tests skipped (pip install torch)"


@pytest.fixture
def torch():
    """The torch module, or a skip with a clear reason when it is not installed."""
    module = pytest.importorskip("torch", reason=_TORCH_REASON)
    module.set_num_threads(1)  # test tensors are tiny: torch's thread pool only adds overhead
    return module


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().uses_torch = "torch" in getattr(item, "fixturenames", ())


def pytest_terminal_summary(terminalreporter) -> None:
    stats = terminalreporter.stats
    ran = sum(
        1
        for key in ("passed", "failed")
        for report in stats.get(key, [])
        if getattr(report, "uses_torch", False) and report.when == "call"
    )
    skipped = sum(1 for r in stats.get("skipped", []) if _TORCH_REASON in str(r.longrepr))
    terminalreporter.write_line(f"torch parity tests: {ran} ran, {skipped} skipped")
