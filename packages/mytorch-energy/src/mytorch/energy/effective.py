"""Effective MACs: the multiply-accumulates left when every product with a zero operand is skipped.

For a product ``y = a b`` contracting over ``k``, the products with both operands non-zero
number ``sum_k nnz(a[:, k]) * nnz(b[k, :])``; convolutions count them exactly by convolving the
non-zero masks (zero padding counts as zeros). Attention and the hidden-state products of
recurrent layers are counted dense; for recurrent layers the zeros of the layer input are skipped.

>>> import numpy as np
>>> from mytorch.core.ops.linalg import MatMul
>>> a = np.array([[1.0, 0.0], [2.0, 3.0]]); b = np.array([[1.0, 1.0], [0.0, 4.0]])
>>> effective_macs(MatMul, None, (a, b), {}, a @ b, 8)
5
"""

from __future__ import annotations

import numpy as np

from mytorch.core.ops.conv import conv_arrays
from mytorch.energy.rules import recurrent_w_ih_at


def _nz(a: np.ndarray, dtype=np.float64) -> np.ndarray:
    return (a != 0).astype(dtype)


def _product(a: np.ndarray, b: np.ndarray) -> int:
    """Non-zero products of ``a @ b`` with NumPy's matmul broadcasting."""
    if a.ndim == 1:
        a = a[None, :]
    if b.ndim == 1:
        b = b[:, None]
    na = _nz(a).sum(-2)  # (..., k): non-zeros per column of a
    nb = _nz(b).sum(-1)  # (..., k): non-zeros per row of b
    return int(round(float((na * nb).sum())))


def _convolution(kwargs: dict, x: np.ndarray, w: np.ndarray) -> int:
    # float32 masks: each output counts at most C/groups * kh * kw products, exact in float32
    y = conv_arrays(_nz(x, np.float32), _nz(w, np.float32), kwargs["geom"], kwargs["out_hw"])
    return int(round(float(y.sum(dtype=np.float64))))


def _transpose(x: np.ndarray, w: np.ndarray) -> int:
    axes = (0,) + tuple(range(2, x.ndim))
    nx = _nz(x).sum(axis=axes)  # (C,)
    nw = _nz(w).reshape(w.shape[0], -1).sum(1)  # (C,)
    return int(round(float(nx @ nw)))


def effective_macs(cls, ctx, arrays, kwargs: dict, outputs, macs: int) -> int:
    """MACs of one op run with zero operands skipped (``macs`` when the rule is dense).

    The first five arguments are what ``observe_ops`` passes to its observers.
    """
    name = cls.__name__
    if name == "Linear":
        return _product(arrays[0], arrays[1].T)  # x (*, in) @ w.T (in, out)
    if name == "MatMul":
        return _product(arrays[0], arrays[1])
    if name == "Convolution":
        return _convolution(kwargs, arrays[0], arrays[1])
    if name == "ConvTranspose":
        return _transpose(arrays[0], arrays[1])
    if name.endswith(("Layer", "Cell")) and cls.__module__.endswith("recurrent"):
        w_at = recurrent_w_ih_at(name)
        w_ih, w_hh = arrays[w_at], arrays[w_at + 1]
        n_in, hidden = w_ih.shape[1], w_hh.shape[1]
        part_h = macs * hidden // (n_in + hidden)
        lengths = arrays[-1] if name.endswith("Layer") else None
        if lengths is not None:
            return macs  # packed sequences: padding steps are not run; counted dense
        return _product(arrays[0], w_ih.T) + part_h
    return macs
