"""The examples in the docstrings of every module of the installed mytorch packages run and
give the output they show (``doctest``), one test per module."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import mytorch


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(mytorch.__path__, "mytorch."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs a program when imported
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_every_package_is_found():
    packages = {name.split(".")[1] for name in MODULES}
    assert {"core", "nn"} <= packages, packages


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    state = np.random.get_state()
    try:
        for test in finder.find(module, name):
            if test.lineno is None and test.filename != getattr(module, "__file__", None):
                continue  # picked up from another module (re-exported): tested there
            runner.run(test)
    finally:
        np.random.set_state(state)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed"
