"""Smoke test for an installed mytorch-energy: counting needs only core and nn."""

from __future__ import annotations

from importlib.metadata import version

import mytorch.core as mt
import mytorch.energy as energy
import mytorch.nn as nn


def test_version_comes_from_the_installed_metadata():
    assert energy.__version__ == version("mytorch-energy")


def test_count_macs_of_a_small_mlp():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    report = energy.count(model, mt.randn(5, 3))
    assert report.macs == 5 * (3 * 4 + 4 * 2)
