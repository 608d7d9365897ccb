"""nn.utils (clipping, parameter vectors) and the nn.functional namespace."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as core_F
import mytorch.nn as nn
import mytorch.nn.functional as F
from mytorch.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def test_parameters_to_vector_and_back(torch):
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    ours.load_state_dict(theirs.state_dict())
    vec = parameters_to_vector(ours.parameters())
    expected = torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy()
    np.testing.assert_array_equal(vec.data, expected)
    assert vec.requires_grad  # differentiable, like PyTorch's
    (vec * vec).sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad.data, 2 * ours[0].weight.data, rtol=1e-6)
    new = mt.arange(float(vec.numel()))
    vector_to_parameters(new, ours.parameters())
    np.testing.assert_array_equal(parameters_to_vector(ours.parameters()).data, new.data)
    assert ours[1].bias.tolist() == [24.0, 25.0]  # the last 2 of 3*4 + 4 + 4*2 + 2 = 26
    with pytest.raises(RuntimeError, match="expected a 1-D vector of 26 elements"):
        vector_to_parameters(mt.zeros(5), ours.parameters())
    with pytest.raises(TypeError, match="expected Tensor"):
        vector_to_parameters([1.0], ours.parameters())


def test_clip_grad_reexports(torch):
    ours = nn.Linear(5, 3)
    theirs = torch.nn.Linear(5, 3)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32) * 10
    (ours(mt.tensor(x)) ** 2).sum().backward()
    (theirs(torch.from_numpy(x)) ** 2).sum().backward()
    n_ours = clip_grad_norm_(ours.parameters(), max_norm=1.0)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm=1.0)
    assert float(n_ours) == pytest.approx(float(n_theirs), rel=1e-5)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-5, atol=1e-7)
    clip_grad_value_(ours.parameters(), 0.01)
    assert max(float(abs(p.grad.data).max()) for p in ours.parameters()) <= 0.01
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


def test_functional_namespace():
    assert F.relu is core_F.relu and F.cross_entropy is core_F.cross_entropy
    assert F.linear is core_F.linear and F.dropout is core_F.dropout
    for name in ("batch_norm", "layer_norm", "rms_norm", "embedding"):
        assert callable(getattr(F, name)), name
    x = mt.randn(3, 4)
    np.testing.assert_allclose(F.layer_norm(x, (4,)).data, nn.LayerNorm(4)(x).data, rtol=1e-6)
    with pytest.raises(AttributeError, match="has no attribute 'not_a_function'"):
        F.not_a_function
    assert nn.functional is F and nn.init.calculate_gain("relu") == pytest.approx(2**0.5)
