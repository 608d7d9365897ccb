"""Dropout: dropout, alpha_dropout and their channel-wise (feature) variants.

Masks are drawn from ``mytorch.core.random.rng()``, so ``manual_seed`` makes them reproducible.

>>> import mytorch.core as mt
>>> _ = mt.manual_seed(0)
>>> y = dropout(mt.ones(1000), p=0.5)
>>> sorted(set(y.tolist()))
[0.0, 2.0]
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.random import rng
from mytorch.core.tensor import Tensor

__all__ = [
    "alpha_dropout",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "feature_alpha_dropout",
]

_SELU_NEG = 1.7580993408473766  # -selu_scale * selu_alpha: the value SELU saturates to


class Dropout(Function):
    """out = x * m + b (m, b fixed random arrays: the scaled keep mask and shift);  dx = g * m"""

    @staticmethod
    def forward(ctx, x, mask, shift):
        ctx.save_for_backward(mask)
        out = x * mask
        if shift is not None:
            out += shift
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None, None


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_shape(input: Tensor, feature: bool) -> tuple:
    if not feature:
        return input.shape
    return input.shape[:2] + (1,) * (input.ndim - 2)


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool, alpha: bool):
    _check_p(p)
    if p == 0 or not training or input.data.size == 0:
        return input
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    dtype = input.dtype
    shape = _noise_shape(input, feature)
    if p == 1:
        mask, shift = np.zeros(shape, dtype), None
    else:
        keep = rng().random(shape, dtype=np.float32) < (1 - p)
        if alpha:
            a = 1.0 / math.sqrt((_SELU_NEG * _SELU_NEG * p + 1) * (1 - p))
            mask = keep.astype(dtype)
            shift = (mask - 1) * (_SELU_NEG * a) + _SELU_NEG * a * p
            mask *= a
        else:
            mask, shift = keep.astype(dtype), None
            mask *= 1.0 / (1 - p)
    out = Dropout.apply(input, mask, shift)
    return input._inplace(out) if inplace else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (when training)."""
    return _dropout(input, p, training, inplace, feature=False, alpha=False)


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Dropout for SELU networks: dropped values go to SELU's saturation value and the result is
    rescaled to keep zero mean and unit variance."""
    return _dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """alpha_dropout of whole channels (dim 1)."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _unbatched(input: Tensor, batched_ndim: int, fn) -> Tensor:
    if input.ndim == batched_ndim:
        return fn(input)
    return fn(input.unsqueeze(0)).squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input."
        )
    if input.ndim == 2 and inplace:
        raise RuntimeError("dropout1d: inplace=True is not supported for unbatched (C, L) input")
    return _unbatched(input, 3, lambda t: _dropout(t, p, training, inplace, True, False))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels (dim 1) of (N, C, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead.",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim.",
            stacklevel=2,
        )
    return _dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            f"will result in an error in a future release.",
            stacklevel=2,
        )
    if input.ndim == 4:
        if inplace:
            raise RuntimeError("dropout3d: inplace=True is not supported for unbatched input")
        return _unbatched(input, 5, lambda t: _dropout(t, p, training, False, True, False))
    return _dropout(input, p, training, inplace, feature=True, alpha=False)
