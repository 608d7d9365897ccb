"""Fixtures for mytorch.nn's tests: ``check_layer`` runs the same layer in mytorch and PyTorch
(torch's weights copied into ours) and compares outputs, input and parameter gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn


def _check_layer(
    torch,
    make: Callable,
    *arrays: np.ndarray,
    train: bool = True,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
    seed: int = 0,
    requires_grad: tuple | None = None,
):
    """``make(module_namespace)`` builds the layer; floating ``arrays`` require grad (or those
    that ``requires_grad``, one flag per array, selects)."""
    theirs = make(torch.nn)
    ours = make(nn)
    ours.load_state_dict(theirs.state_dict())
    theirs.train(train)
    ours.train(train)
    if requires_grad is None:
        requires_grad = tuple(a.dtype.kind == "f" for a in arrays)
    t_in = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]
    m_in = [mt.tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]
    t_out = theirs(*t_in)
    m_out = ours(*m_in)
    expected = t_out.detach().numpy()
    assert m_out.shape == expected.shape, (m_out.shape, expected.shape)
    assert m_out.dtype == expected.dtype, (m_out.dtype, expected.dtype)
    np.testing.assert_allclose(m_out.data, expected, rtol=rtol, atol=atol, err_msg="output")
    if not t_out.requires_grad:
        assert not m_out.requires_grad
        return ours, theirs
    v = np.random.default_rng(seed).standard_normal(expected.shape).astype(expected.dtype)
    (t_out * torch.from_numpy(v)).sum().backward()
    (m_out * mt.tensor(v)).sum().backward()
    g_rtol = rtol if grad_rtol is None else grad_rtol
    g_atol = atol if grad_atol is None else grad_atol
    for i, (m, t) in enumerate(zip(m_in, t_in)):
        if t.requires_grad:
            np.testing.assert_allclose(
                m.grad.data, t.grad.numpy(), rtol=g_rtol, atol=g_atol, err_msg=f"grad of input {i}"
            )
    t_params = dict(theirs.named_parameters())
    m_params = dict(ours.named_parameters())
    assert list(m_params) == list(t_params)
    for name, tp in t_params.items():
        mp = m_params[name]
        if tp.grad is None:
            assert mp.grad is None or not np.any(mp.grad.data), name
            continue
        np.testing.assert_allclose(
            mp.grad.data, tp.grad.numpy(), rtol=g_rtol, atol=g_atol, err_msg=f"grad of {name}"
        )
    return ours, theirs


@pytest.fixture
def check_layer(torch):
    """``check_layer(make, *arrays, train=True, rtol=..., atol=...)`` (see ``_check_layer``)."""

    def run(make: Callable, *arrays: np.ndarray, **kwargs):
        return _check_layer(torch, make, *arrays, **kwargs)

    return run
