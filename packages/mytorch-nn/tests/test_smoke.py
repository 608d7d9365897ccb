"""Smoke test for an installed mytorch-nn: needs only the package, its dependencies and pytest."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np

import mytorch.core as mt
import mytorch.nn as nn


def test_version_comes_from_the_installed_metadata():
    assert nn.__version__ == version("mytorch-nn")


def test_train_step_and_safetensors_round_trip(tmp_path):
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, target = mt.randn(5, 4), mt.tensor([0, 2, 1, 0, 2])
    loss = nn.CrossEntropyLoss()(model(x), target)
    loss.backward()
    assert model[0].weight.grad.shape == (8, 4)

    path = tmp_path / "model.safetensors"
    nn.save(model.state_dict(), path)
    clone = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    clone.load_state_dict(nn.load(path))
    np.testing.assert_array_equal(clone(x).data, model(x).data)
