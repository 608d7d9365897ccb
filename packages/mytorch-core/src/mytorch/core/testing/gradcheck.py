"""Finite-difference gradient checks in float64.

``gradcheck(fn, inputs)`` compares the vector-Jacobian product that autograd computes for a
random output direction ``v`` with central differences of ``sum(fn(x) * v)``: element by
element for small inputs, or along random directions for large ones.

>>> import mytorch.core as mt
>>> x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
>>> gradcheck(lambda t: (t * t).sum(1), (x,))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mytorch.core.autograd import grad as autograd_grad
from mytorch.core.grad_mode import enable_grad, no_grad
from mytorch.core.tensor import Tensor


def _outputs(fn: Callable, inputs: Sequence) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _projected(fn: Callable, inputs: Sequence, vs: list[np.ndarray]) -> float:
    with no_grad():
        outs = _outputs(fn, inputs)
    return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, vs)))


def gradcheck(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    random_directions: int | None = None,
    max_elements: int = 2000,
    seed: int = 0,
) -> bool:
    """Check autograd's gradients of ``fn`` against central differences.

    Inputs that are float64 tensors with ``requires_grad`` are checked; others are passed
    through. Inputs with more than ``max_elements`` elements (or all, when
    ``random_directions`` is given) are checked along that many random directions.
    """
    inputs = list(inputs)
    rng = np.random.default_rng(seed)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 inputs, since "
                f"finite differences in float32 are too imprecise"
            )
    outs = _outputs(fn, inputs)
    if not outs:
        raise ValueError("gradcheck: fn returned no floating tensor")
    vs = [rng.standard_normal(o.shape) for o in outs]
    seeds = [Tensor._make(v.astype(o.dtype)) for o, v in zip(outs, vs)]
    graded = [o for o in outs if o.requires_grad]
    if graded:
        analytic = autograd_grad(
            graded,
            [inputs[i] for i in checked],
            [s for o, s in zip(outs, seeds) if o.requires_grad],
            allow_unused=True,
        )
    else:
        analytic = [None] * len(checked)
    for i, a in zip(checked, analytic):
        x = inputs[i]
        a = np.zeros(x.shape) if a is None else a.data.astype(np.float64)
        flat = x.data.reshape(-1)  # a view: perturb in place, restore afterwards
        n_dir = random_directions or (0 if flat.size <= max_elements else 8)
        if n_dir == 0:
            numeric = np.zeros(flat.size)
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                hi = _projected(fn, inputs, vs)
                flat[k] = orig - eps
                lo = _projected(fn, inputs, vs)
                flat[k] = orig
                numeric[k] = (hi - lo) / (2 * eps)
            got, want = a.reshape(-1), numeric
        else:
            got, want = np.zeros(n_dir), np.zeros(n_dir)
            orig = flat.copy()
            for k in range(n_dir):
                d = rng.standard_normal(flat.size)
                flat[:] = orig + eps * d
                hi = _projected(fn, inputs, vs)
                flat[:] = orig - eps * d
                lo = _projected(fn, inputs, vs)
                flat[:] = orig
                want[k] = (hi - lo) / (2 * eps)
                got[k] = float(np.dot(a.reshape(-1), d))
        if not np.allclose(got, want, rtol=rtol, atol=atol):
            worst = int(np.argmax(np.abs(got - want)))
            msg = (
                f"gradcheck: gradient of input {i} (shape {list(x.shape)}) disagrees with finite "
                f"differences: max |analytic - numeric| = {np.max(np.abs(got - want)):.3e} at "
                f"{worst} (analytic {got[worst]:.6g}, numeric {want[worst]:.6g})"
            )
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True


def gradgradcheck(fn: Callable, inputs: Sequence, seed: int = 0, **kwargs) -> bool:
    """Check second derivatives: gradcheck of ``x -> d sum(fn(x) * v) / dx`` (create_graph)."""
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed + 1)
    vs: list = []

    def first_grad(*xs):
        with enable_grad():  # gradcheck evaluates under no_grad; this inner graph is needed
            return _first_grad(*xs)

    def _first_grad(*xs):
        outs = _outputs(fn, xs)
        if not vs:
            vs.extend(Tensor._make(rng.standard_normal(o.shape).astype(o.dtype)) for o in outs)
        total = sum((o * v).sum() for o, v in zip(outs, vs))
        gs = autograd_grad(total, [xs[i] for i in checked], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, inputs, seed=seed, **kwargs)
