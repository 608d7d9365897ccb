"""Attention masks: the causal mask helper and the mask canonicalization that PyTorch's
attention modules apply (bool masks become additive float masks with ``-inf``).

>>> generate_square_subsequent_mask(3).tolist()
[[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import warnings

import numpy as np

from mytorch.core.creation import from_numpy
from mytorch.core.dtypes import get_default_dtype
from mytorch.core.tensor import Tensor

__all__ = ["generate_square_subsequent_mask"]


def _check_device(device) -> None:
    if device not in (None, "cpu"):
        raise RuntimeError(f"mytorch runs on the CPU only, got device {device!r}")


def _causal_array(sz: int, dtype) -> np.ndarray:
    """(sz, sz) float array: 0 on and below the diagonal, -inf above it."""
    return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1)  # (sz, sz)


def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """A (sz, sz) float causal mask: ``-inf`` above the diagonal (future positions), ``0``
    elsewhere; add it to attention scores so position i only attends to positions <= i.

    Same as ``torch.nn.Transformer.generate_square_subsequent_mask``.

    >>> generate_square_subsequent_mask(2).tolist()
    [[0.0, -inf], [0.0, 0.0]]
    """
    _check_device(device)
    dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
    if dtype.kind != "f":
        raise RuntimeError(
            f"generate_square_subsequent_mask: dtype must be floating point, got {dtype}"
        )
    return from_numpy(_causal_array(int(sz), dtype))


def _canonical_mask(
    mask: Tensor | None,
    mask_name: str,
    other_type,
    other_name: str,
    target_type,
    check_other: bool = True,
) -> Tensor | None:
    """Float version of ``mask``: a bool mask (True = masked out) becomes 0 / -inf of
    ``target_type``; a float mask is returned unchanged. Other dtypes are an error."""
    if mask is None:
        return None
    kind = mask.dtype.kind
    if kind not in "bf":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. "
            "Use same type for both instead.",
            stacklevel=3,
        )
    if kind == "b":
        out = np.zeros(mask.shape, dtype=target_type)  # same shape as mask
        out[mask.data] = -np.inf
        return from_numpy(out)
    return mask


def _none_or_dtype(mask: Tensor | None):
    return None if mask is None else mask.dtype


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int | None) -> bool:
    """``is_causal`` when given; else whether ``mask`` equals the (size, size) causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    if mask.shape != (sz, sz):
        return False
    data = mask.data
    if data.dtype.kind == "b":  # True = masked: compare with "above the diagonal"
        return bool(np.array_equal(data, np.triu(np.ones((sz, sz), dtype=bool), k=1)))
    return bool(np.array_equal(data, _causal_array(sz, data.dtype)))
