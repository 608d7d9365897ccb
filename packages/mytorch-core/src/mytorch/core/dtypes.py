"""dtype objects and the rules that pick a tensor's dtype.

mytorch dtypes are NumPy dtypes, so ``x.dtype == mytorch.core.float32`` and
``x.numpy().dtype == x.dtype`` both hold.
"""

from __future__ import annotations

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

half = float16
float = float32  # noqa: A001 - PyTorch's alias
double = float64
long = int64
int = int32  # noqa: A001 - PyTorch's alias

_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and float64 NumPy data become (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float32 or float64)."""
    global _default_float
    d = np.dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {d}")
    _default_float = d


def to_dtype(dtype) -> np.dtype:
    """Normalize anything dtype-like (np.dtype, np type, str, Python type) to a NumPy dtype."""
    if dtype is None:
        raise TypeError("dtype must not be None")
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    return np.dtype(dtype)


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def infer_dtype(array: np.ndarray) -> np.dtype:
    """dtype a new tensor gets from NumPy data when no dtype is given."""
    kind = array.dtype.kind
    if kind == "f":
        return _default_float if array.dtype == float64 else array.dtype
    if kind in "iu":
        return array.dtype
    if kind == "b":
        return bool_
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


import builtins as _builtins  # noqa: E402

builtins_float = _builtins.float
builtins_int = _builtins.int
builtins_bool = _builtins.bool
