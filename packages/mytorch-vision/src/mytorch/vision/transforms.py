"""Image transforms with torchvision's names: ToTensor, Normalize, Compose, Flatten, Lambda.

Each transform takes a mytorch Tensor or a NumPy array and returns a mytorch Tensor. They are
data preparation: outputs are plain tensors that do not track gradients. ``Normalize`` and
``Flatten(start_dim=1)`` also work on whole batches (B, C, H, W).

>>> import numpy as np
>>> from mytorch.vision import transforms as T
>>> t = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Flatten()])
>>> out = t(np.full((28, 28), 255, dtype=np.uint8))
>>> out.shape, out.dtype, float(out.data[0])
((784,), dtype('float32'), 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mytorch.core import Tensor

__all__ = ["Compose", "Flatten", "Lambda", "Normalize", "ToTensor"]


def _array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{name}: expected a mytorch Tensor or a NumPy array, got {type(x).__name__}")


class Compose:
    """Apply transforms one after the other.

    >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: x * 2)])(3)
    8
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """Image (H, W) or (H, W, C) -> Tensor (C, H, W); uint8 is scaled to float32 in [0, 1].

    Other dtypes keep their values and dtype (as torchvision does for non-uint8 arrays).
    """

    def __call__(self, pic: Any) -> Tensor:
        arr = _array(pic, "ToTensor")
        if arr.ndim not in (2, 3):
            raise ValueError(
                f"ToTensor: pic should be 2 or 3 dimensional. Got {arr.ndim} dimensions."
            )
        if arr.ndim == 2:
            arr = arr[None]  # (1, H, W)
        else:
            arr = arr.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
        if arr.dtype == np.uint8:
            out = np.divide(arr, np.float32(255), dtype=np.float32, order="C")  # as torchvision
        else:
            out = np.array(arr, order="C", copy=True)
        return Tensor._make(out)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``out[c] = (x[c] - mean[c]) / std[c]`` on a float tensor (..., C, H, W).

    ``mean``/``std`` are sequences with one value per channel (or a single value for all).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        self.inplace = inplace

    def __call__(self, tensor: Any) -> Tensor:
        arr = _array(tensor, "Normalize")
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor. Got {arr.dtype}.")
        if arr.ndim < 3:
            raise ValueError(
                "Normalize: expected tensor to be a tensor image of size (..., C, H, W). "
                f"Got tensor.size() = {arr.shape}"
            )
        c = arr.shape[-3]
        for label, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(
                    f"Normalize: {label} has {len(v)} values but the input has {c} channels "
                    f"(shape {arr.shape}); expected 1 or {c} values"
                )
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
        if (std == 0).any():
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {arr.dtype}, "
                "leading to division by zero."
            )
        if self.inplace:
            if not arr.flags.writeable:
                raise ValueError("Normalize: inplace=True needs a writable input")
            np.subtract(arr, mean, out=arr)
            np.divide(arr, std, out=arr)
            if isinstance(tensor, Tensor):
                tensor._version += 1
                return tensor
            return Tensor._make(arr)
        return Tensor._make((arr - mean) / std)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Flatten:
    """Flatten dims ``start_dim..end_dim`` into one (default: everything, giving 1-D).

    ``Flatten(start_dim=1)`` flattens a batch (B, C, H, W) to (B, C*H*W).
    """

    def __init__(self, start_dim: int = 0, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    def __call__(self, tensor: Any) -> Tensor:
        arr = _array(tensor, "Flatten")
        nd = max(arr.ndim, 1)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= start < nd and 0 <= end < nd):
            raise IndexError(
                f"Flatten: dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                f"got start_dim={self.start_dim}, end_dim={self.end_dim})"
            )
        if start > end:
            raise ValueError(
                f"Flatten: start_dim ({self.start_dim}) cannot come after end_dim ({self.end_dim})"
            )
        shape = arr.shape[:start] + (-1,) + arr.shape[end + 1 :] if arr.ndim else (1,)
        return Tensor._make(arr.reshape(shape))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start_dim={self.start_dim}, end_dim={self.end_dim})"


class Lambda:
    """Wrap a user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
