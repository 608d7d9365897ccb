"""Smoke test for an installed mytorch-core: needs only the package, NumPy and pytest."""

from __future__ import annotations

import numpy as np

import mytorch.core as mt


def test_version_comes_from_the_installed_metadata():
    from importlib.metadata import version

    assert mt.__version__ == version("mytorch-core")


def test_a_few_sgd_steps_fit_a_line():
    mt.manual_seed(0)
    x = mt.tensor(np.linspace(-1, 1, 32, dtype=np.float32)[:, None])
    y = 3.0 * x - 0.5
    w = mt.zeros(1, 1, requires_grad=True)
    b = mt.zeros(1, requires_grad=True)
    opt = mt.optim.SGD([w, b], lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert abs(w.item() - 3.0) < 1e-3 and abs(b.item() + 0.5) < 1e-3
    assert w.grad.shape == (1, 1)
