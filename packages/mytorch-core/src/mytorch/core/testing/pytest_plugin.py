"""pytest plugin for mytorch's test suites: the ``torch`` fixture for parity tests, a summary line
counting the parity tests that ran, and an optional BLAS thread cap.

Registered through the ``pytest11`` entry point of mytorch-core, so every package's tests get it
wherever they run: in the repository, from an unpacked sdist, or against installed wheels.

- ``torch``: the torch module with one thread, or a skip whose reason says how to install it.
- ``torch parity tests: N ran, M skipped``: printed at the end of every run that used the fixture.
- ``mytorch_blas_threads`` (ini option, e.g. ``mytorch_blas_threads = 1`` under
  ``[tool.pytest.ini_options]``): caps NumPy's BLAS pool with threadpoolctl for the whole run. Test
  tensors are small, so one thread is as fast, and a spinning pool next to another busy process
  can slow a small machine down many times over. Unset, nothing is changed.
"""

from __future__ import annotations

import pytest

TORCH_SKIP_REASON = "PyTorch is not installed: torch parity tests skipped (pip install torch)"

_BLAS_LIMITS = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "mytorch_blas_threads",
        "cap NumPy's BLAS thread pool at this many threads for the run (needs threadpoolctl)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    value = str(config.getini("mytorch_blas_threads")).strip()
    if not value:
        return
    try:
        limit = int(value)
    except ValueError:
        raise pytest.UsageError(
            f"mytorch_blas_threads: expected a positive integer, got {value!r}"
        ) from None
    if limit < 1:
        raise pytest.UsageError(f"mytorch_blas_threads: expected a positive integer, got {limit}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise pytest.UsageError(
            f"mytorch_blas_threads = {limit} needs threadpoolctl (pip install threadpoolctl)"
        ) from None
    config.stash[_BLAS_LIMITS] = threadpool_limits(limits=limit)


def pytest_unconfigure(config: pytest.Config) -> None:
    limits = config.stash.get(_BLAS_LIMITS, None)
    if limits is not None:
        limits.restore_original_limits()


@pytest.fixture
def torch():
    """The torch module, or a skip with a clear reason when it is not installed."""
    module = pytest.importorskip("torch", reason=TORCH_SKIP_REASON)
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
    skipped = sum(1 for r in stats.get("skipped", []) if TORCH_SKIP_REASON in str(r.longrepr))
    if ran or skipped:
        terminalreporter.write_line(f"torch parity tests: {ran} ran, {skipped} skipped")
