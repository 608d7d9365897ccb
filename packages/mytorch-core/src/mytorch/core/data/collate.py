"""``default_collate``: turn a list of samples into a batch; ``default_convert`` for single samples.

Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an int64
tensor, Python floats a float32 tensor (the default float dtype), bools a bool tensor; strings
stay a list; tuples, lists, named tuples and dicts are collated field by field.

>>> batch = default_collate([(np.zeros(2), 1, "a"), (np.ones(2), 2, "b")])
>>> batch[0].shape, batch[1].tolist(), batch[2]
((2, 2), [1, 2], ['a', 'b'])
"""

from __future__ import annotations

import collections.abc
import copy

import numpy as np

from mytorch.core import dtypes
from mytorch.core.grad_mode import is_grad_enabled
from mytorch.core.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(a.shape)} at entry {i}"
            )
    return np.stack(arrays)


def _collate_tensors(batch: list[Tensor]) -> Tensor:
    if is_grad_enabled() and any(t.requires_grad for t in batch):
        from mytorch.core.ops.movement import stack

        return stack(batch, 0)
    return Tensor._make(_stack([t.data for t in batch]))


def _numpy_array(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "OSUV":
        raise TypeError(_ERR.format(a.dtype))
    target = dtypes.infer_dtype(a)
    return a if a.dtype == target else a.astype(target)


def default_collate(batch: list):
    """Collate a list of samples into one batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _collate_tensors(batch)
    if isinstance(elem, np.ndarray):
        return Tensor._make(_numpy_array(_stack([np.asarray(b) for b in batch])))
    if isinstance(elem, (np.bool_, np.number)):
        return Tensor._make(_numpy_array(np.array(batch)))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=dtypes.get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            try:
                clone = copy.copy(elem)
                clone.update(out)
                return clone
            except TypeError:
                return out
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays (also inside dicts, tuples and lists) into Tensors; leave the rest."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return Tensor._make(_numpy_array(data))
    if isinstance(data, (np.bool_, np.number)):
        return Tensor._make(_numpy_array(np.asarray(data)))
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
