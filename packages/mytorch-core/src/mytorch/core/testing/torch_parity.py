"""Run the same computation in mytorch and in PyTorch and compare outputs and gradients.

>>> import numpy as np
>>> x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
>>> assert_matches_torch(lambda t: t.exp().sum(1), x)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mytorch.core.tensor import Tensor


def _to_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_matches_torch(
    fn: Callable,
    *arrays,
    torch_fn: Callable | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    grad: bool = True,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
    seed: int = 0,
) -> None:
    """Assert that ``fn`` on mytorch tensors equals ``torch_fn`` (default ``fn``) on torch tensors.

    ``arrays`` are NumPy arrays (or scalars); floating ones become tensors that require grad in
    both libraries. Every floating output is contracted with the same random tensor and
    differentiated; outputs and input gradients must agree within ``rtol``/``atol``.
    """
    import torch

    torch_fn = torch_fn or fn
    mt_in, th_in = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            floating = a.dtype.kind == "f"
            mt_in.append(
                Tensor._make(a.copy()).requires_grad_(grad) if floating else Tensor._make(a.copy())
            )
            th_in.append(torch.tensor(a.copy(), requires_grad=grad and floating))
        else:
            mt_in.append(a)
            th_in.append(a)
    mt_out = _to_list(fn(*mt_in))
    th_out = _to_list(torch_fn(*th_in))
    assert len(mt_out) == len(th_out), f"{len(mt_out)} outputs, torch gives {len(th_out)}"
    rng = np.random.default_rng(seed)
    mt_loss, th_loss = None, None
    for k, (m, t) in enumerate(zip(mt_out, th_out)):
        if not isinstance(t, torch.Tensor):
            assert m == t, f"output {k}: {m} != torch {t}"
            continue
        tn = t.detach().numpy()
        assert isinstance(m, Tensor), f"output {k} is {type(m).__name__}, torch gives a Tensor"
        assert m.shape == tuple(tn.shape), f"output {k}: shape {m.shape} != torch {tuple(tn.shape)}"
        assert m.dtype == tn.dtype, f"output {k}: dtype {m.dtype} != torch {tn.dtype}"
        np.testing.assert_allclose(m.data, tn, rtol=rtol, atol=atol, err_msg=f"output {k}")
        if grad and t.requires_grad and m.requires_grad:
            v = rng.standard_normal(tn.shape).astype(tn.dtype)
            ml = (m * Tensor._make(v)).sum()
            tl = (t * torch.from_numpy(v)).sum()
            mt_loss = ml if mt_loss is None else mt_loss + ml
            th_loss = tl if th_loss is None else th_loss + tl
        elif grad:
            assert m.requires_grad == t.requires_grad, (
                f"output {k}: requires_grad {m.requires_grad} != torch {t.requires_grad}"
            )
    if mt_loss is None:
        return
    mt_loss.backward()
    th_loss.backward()
    g_rtol = rtol if grad_rtol is None else grad_rtol
    g_atol = atol if grad_atol is None else grad_atol
    for k, (m, t) in enumerate(zip(mt_in, th_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert m.grad is None or not np.any(m.grad.data), f"input {k}: grad, torch has none"
                continue
            assert m.grad is not None, f"input {k}: no grad, torch has one"
            np.testing.assert_allclose(
                m.grad.data, t.grad.numpy(), rtol=g_rtol, atol=g_atol, err_msg=f"grad of input {k}"
            )
