"""Gradient clipping: rescale all gradients to a maximum total norm, or clamp each value."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from mytorch.core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    params = list(parameters)
    if is_generator and not params:
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3
        )
    return params


_CHUNK = 1 << 16


def _vector_norm(a: np.ndarray, p: float) -> float:
    """The p-norm of a flattened array, as ``torch.linalg.vector_norm`` defines it."""
    a = a.ravel()
    if a.size == 0:
        return 0.0
    if p == 2:  # BLAS dots over chunks, summed in float64: fast and accurate
        return math.sqrt(
            sum(
                float(np.dot(a[i : i + _CHUNK], a[i : i + _CHUNK]))
                for i in range(0, a.size, _CHUNK)
            )
        )
    a = np.abs(a)
    if p == math.inf:
        return float(a.max())
    if p == -math.inf:
        return float(a.min())
    if p == 0:
        return float(np.count_nonzero(a))
    if p == 1:
        return float(a.sum())  # pairwise summation
    return float(np.sum(a.astype(np.float64) ** p) ** (1.0 / p))


def get_total_norm(
    tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """The norm of the norms of ``tensors`` (as one concatenated vector), as a 0-d Tensor."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.zeros((), np.float32))
    dtype = np.result_type(*(t.data.dtype for t in tensors))
    norms = np.array([_vector_norm(t.data, norm_type) for t in tensors], np.float64)
    total = np.asarray(_vector_norm(norms, norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(total)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale gradients in place so their total ``norm_type``-norm is at most ``max_norm``.

    The scale is ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm (before
    clipping) as a 0-d Tensor.

    >>> import mytorch.core as mt
    >>> w = mt.zeros(2, requires_grad=True); w.grad = mt.tensor([3.0, 4.0])
    >>> round(clip_grad_norm_([w], 1.0).item(), 4), [round(v, 4) for v in w.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norm = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    dt = norm.dtype.type
    coef = np.minimum(dt(max_norm) / (norm + dt(1e-6)), dt(1.0))
    if coef != 1.0:
        with np.errstate(invalid="ignore"):  # a non-finite norm makes NaNs, as in PyTorch
            for g in grads:
                g.data *= coef.astype(g.data.dtype)
                g._version += 1


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element in place to ``[-clip_value, clip_value]``."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
            p.grad._version += 1
