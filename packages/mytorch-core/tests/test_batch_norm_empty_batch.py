"""batch_norm in training on a batch with no values per channel leaves the running statistics
as they were (they used to become NaN, and every later eval pass returned NaN)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 4), (2, 3, 0, 4)])
def test_empty_batch_keeps_running_statistics(shape):
    running_mean, running_var = mt.tensor([0.5, -1.0, 2.0]), mt.tensor([1.5, 0.25, 4.0])
    versions = running_mean._version, running_var._version
    x = mt.zeros(*shape, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 on the way
        y = F.batch_norm(x, running_mean, running_var, mt.ones(3), mt.zeros(3), training=True)
    assert y.shape == shape
    assert running_mean.tolist() == [0.5, -1.0, 2.0]
    assert running_var.tolist() == [1.5, 0.25, 4.0]
    assert (running_mean._version, running_var._version) == versions
    out = F.batch_norm(mt.ones(2, 3), running_mean, running_var, training=False)
    assert np.isfinite(out.data).all()


def test_a_real_batch_still_updates_them():
    running_mean, running_var = mt.zeros(2), mt.ones(2)
    F.batch_norm(mt.tensor([[1.0, 2.0], [3.0, 6.0]]), running_mean, running_var, training=True)
    np.testing.assert_allclose(running_mean.data, [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(running_var.data, [0.9 + 0.1 * 2.0, 0.9 + 0.1 * 8.0], rtol=1e-6)


@pytest.mark.parametrize("shape", [(0, 3), (2, 3, 0, 4)])
def test_matches_torch_on_empty_batches(torch, shape):
    ours = mt.tensor([0.5, -1.0, 2.0]), mt.tensor([1.5, 0.25, 4.0])
    theirs = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1.5, 0.25, 4.0])
    y = F.batch_norm(mt.zeros(*shape), *ours, training=True)
    expected = torch.nn.functional.batch_norm(torch.zeros(shape), *theirs, training=True)
    assert y.shape == tuple(expected.shape)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.data, b.numpy())
