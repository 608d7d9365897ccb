"""Image transforms with torchvision's names: ToTensor, Normalize, Compose, Flatten, Lambda, and
the augmentations RandomCrop, RandomHorizontalFlip, RandomVerticalFlip.

Each transform takes a mytorch Tensor or a NumPy array and returns a mytorch Tensor. They are
data preparation: outputs are plain tensors that do not track gradients. ``Normalize`` and
``Flatten(start_dim=1)`` also work on whole batches (B, C, H, W). The random transforms work on
(..., C, H, W) images like torchvision's tensor transforms (so ``ToTensor()`` comes first), draw
from ``mytorch.core.random`` (``manual_seed`` makes them reproducible) or from the ``generator``
they are given. :func:`random_crop_flip_batch` is the vectorized crop-and-flip for whole batches.

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

from mytorch.core import Tensor, increment_version
from mytorch.core.creation import from_numpy
from mytorch.core.random import Generator
from mytorch.core.random import rng as _global_rng

__all__ = [
    "Compose",
    "Flatten",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "ToTensor",
    "crop_flip_batch",
    "random_crop_flip_batch",
]


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
        return from_numpy(out)

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
                increment_version(tensor)
                return tensor
            return from_numpy(arr)
        return from_numpy((arr - mean) / std)

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
        return from_numpy(arr.reshape(shape))

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


# ---------------------------------------------------------------------------- augmentation
_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _rng(generator: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the global one."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None or isinstance(generator, Generator):
        return _global_rng(generator)
    raise TypeError(
        "generator must be a mytorch Generator, a numpy.random.Generator or None, "
        f"got {type(generator).__name__}"
    )


def _image(x: Any, name: str) -> np.ndarray:
    """The array of an image (..., H, W), refusing uint8 (H, W, C) arrays (apply ToTensor first)."""
    arr = _array(x, name)
    if arr.ndim < 2:
        raise ValueError(f"{name}: expected an image of shape (..., H, W), got shape {arr.shape}")
    if (
        arr.ndim == 3
        and arr.dtype == np.uint8
        and arr.shape[-1] in (1, 3, 4)
        and arr.shape[0] not in (1, 3, 4)
    ):
        raise ValueError(
            f"{name}: got a uint8 array of shape {arr.shape}, which looks like an (H, W, C) "
            f"image; {name} works on (C, H, W) images like torchvision's tensor transforms. "
            f"Apply ToTensor() first: Compose([ToTensor(), {name}(...), ...])"
        )
    return arr


def _size2(size: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif isinstance(size, Sequence) and len(size) == 1:
        size = (int(size[0]), int(size[0]))
    elif not (isinstance(size, Sequence) and len(size) == 2):
        raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got {size}")
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"{name}: size must be positive, got {(h, w)}")
    return h, w


def _padding4(padding: int | Sequence[int], name: str) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        p = (int(padding),) * 4
    elif isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        v = [int(x) for x in padding]
        p = (v[0],) * 4 if len(v) == 1 else (v[0], v[1], v[0], v[1]) if len(v) == 2 else tuple(v)
    elif isinstance(padding, Sequence):
        raise ValueError(
            f"{name}: padding must be an int or a 1, 2, or 4 element tuple, not a "
            f"{len(padding)} element tuple"
        )
    else:
        raise TypeError(f"{name}: got inappropriate padding arg {padding!r}")
    if min(p) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    return p  # type: ignore[return-value]


def _check_fill(fill: float | Sequence[float], name: str) -> float | tuple[float, ...]:
    if isinstance(fill, (int, float, np.number)) and not isinstance(fill, bool):
        return fill
    if (
        isinstance(fill, Sequence)
        and not isinstance(fill, str)
        and len(fill) > 0
        and all(isinstance(f, (int, float, np.number)) for f in fill)
    ):
        return tuple(float(f) for f in fill)
    raise TypeError(f"{name}: fill must be a number or a sequence of numbers, got {fill!r}")


def _check_mode(padding_mode: str, name: str) -> str:
    if padding_mode not in _PADDING_MODES:
        raise ValueError(
            f"{name}: padding mode should be either constant, edge, reflect or symmetric, "
            f"got {padding_mode!r}"
        )
    return padding_mode


def _pad(
    arr: np.ndarray,
    padding: tuple[int, int, int, int],
    fill: float | tuple[float, ...],
    mode: str,
    name: str,
) -> np.ndarray:
    """Pad the last two dims of (..., C, H, W) or (H, W) by (left, top, right, bottom)."""
    left, top, right, bottom = padding
    if not any(padding):
        return arr
    h, w = arr.shape[-2:]
    if mode == "constant":
        out = np.empty(arr.shape[:-2] + (h + top + bottom, w + left + right), dtype=arr.dtype)
        if isinstance(fill, tuple) and len(fill) > 1:
            c = arr.shape[-3] if arr.ndim >= 3 else 1
            if len(fill) != c:
                raise ValueError(
                    f"{name}: fill has {len(fill)} values but the image has {c} channels "
                    f"(shape {arr.shape}); expected a number or {c} values"
                )
            out[...] = np.asarray(fill).astype(arr.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
        else:
            out[...] = np.asarray(fill[0] if isinstance(fill, tuple) else fill).astype(arr.dtype)
        out[..., top : top + h, left : left + w] = arr
        return out
    if mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(
            f"{name}: padding size should be less than the corresponding input dimension for "
            f"reflect padding, got padding (left, top, right, bottom) = {padding} for an image "
            f"of size (H, W) = {(h, w)}"
        )
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(arr, widths, mode=mode)


class RandomCrop:
    """Crop a (..., C, H, W) image at a random location to ``size`` (int or (h, w)).

    ``padding`` (int, or 1, 2 or 4 values: all sides / (left-right, top-bottom) /
    (left, top, right, bottom)) is added first, filled per ``padding_mode``: ``"constant"``
    (``fill``: a number, or one per channel), ``"edge"``, ``"reflect"`` (mirror without the edge)
    or ``"symmetric"`` (mirror with it). ``pad_if_needed`` pads an image smaller than ``size``.
    The offsets are drawn from ``generator`` or the global generator, as by :meth:`get_params`.

    >>> import mytorch.core as mt
    >>> _ = mt.manual_seed(0)
    >>> out = RandomCrop(32, padding=4)(np.ones((3, 32, 32), dtype=np.float32))
    >>> out.shape
    (3, 32, 32)
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0,
        padding_mode: str = "constant",
        generator: Generator | np.random.Generator | None = None,
    ) -> None:
        self.size = _size2(size, "RandomCrop")
        self.padding = padding
        self._padding = None if padding is None else _padding4(padding, "RandomCrop")
        self.pad_if_needed = pad_if_needed
        self.fill = _check_fill(fill, "RandomCrop")
        self.padding_mode = _check_mode(padding_mode, "RandomCrop")
        self.generator = generator

    @staticmethod
    def get_params(
        img: Any,
        output_size: tuple[int, int],
        generator: Generator | np.random.Generator | None = None,
    ) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``output_size`` inside ``img``.

        ``top`` is drawn first, then ``left``, each uniform over the valid offsets; nothing is
        drawn when the crop is the whole image.
        """
        h, w = _array(img, "RandomCrop").shape[-2:]
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the input image size "
                f"{(h, w)}; pass padding= or pad_if_needed=True"
            )
        if h == th and w == tw:
            return 0, 0, h, w
        r = _rng(generator)
        i = int(r.integers(0, h - th + 1))
        j = int(r.integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img: Any) -> Tensor:
        arr = _image(img, "RandomCrop")
        if self._padding is not None:
            arr = _pad(arr, self._padding, self.fill, self.padding_mode, "RandomCrop")
        th, tw = self.size
        h, w = arr.shape[-2:]
        if self.pad_if_needed and w < tw:
            arr = _pad(arr, (tw - w, 0, tw - w, 0), self.fill, self.padding_mode, "RandomCrop")
        if self.pad_if_needed and h < th:
            arr = _pad(arr, (0, th - h, 0, th - h), self.fill, self.padding_mode, "RandomCrop")
        i, j, th, tw = self.get_params(arr, self.size, self.generator)
        return from_numpy(np.ascontiguousarray(arr[..., i : i + th, j : j + tw]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror a (..., H, W) image left-right with probability ``p``.

    One uniform number is drawn per call (from ``generator`` or the global generator); the image
    is flipped when it is below ``p``.
    """

    _axis = -1

    def __init__(
        self, p: float = 0.5, generator: Generator | np.random.Generator | None = None
    ) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, img: Any) -> Tensor:
        arr = _image(img, type(self).__name__)
        if _rng(self.generator).random() < self.p:
            return from_numpy(np.flip(arr, self._axis).copy())
        return img if isinstance(img, Tensor) else from_numpy(arr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror a (..., H, W) image top-bottom with probability ``p`` (see RandomHorizontalFlip)."""

    _axis = -2


def crop_flip_batch(
    images: np.ndarray,
    top: np.ndarray,
    left: np.ndarray,
    size: int | Sequence[int],
    flip: np.ndarray | None = None,
) -> np.ndarray:
    """Crop each image of a batch at its own offset and mirror the chosen ones left-right.

    ``images`` is (N, C, H, W); ``top``, ``left`` are int arrays (N,) and ``flip`` a bool array
    (N,) or None. Returns a new (N, C, h, w) array with ``out[n] = images[n, :, top[n]:top[n]+h,
    left[n]:left[n]+w]``, reversed along the last axis where ``flip[n]``. Vectorized: one gather
    for the whole batch.
    """
    if images.ndim != 4:
        raise ValueError(f"crop_flip_batch: expected images (N, C, H, W), got shape {images.shape}")
    n, _, hp, wp = images.shape
    th, tw = _size2(size, "crop_flip_batch")
    top = np.asarray(top, dtype=np.intp)
    left = np.asarray(left, dtype=np.intp)
    if top.shape != (n,) or left.shape != (n,):
        raise ValueError(
            f"crop_flip_batch: top and left must have shape ({n},), got {top.shape} and "
            f"{left.shape}"
        )
    if n and (top.min() < 0 or left.min() < 0 or top.max() > hp - th or left.max() > wp - tw):
        raise ValueError(
            f"crop_flip_batch: a crop of size {(th, tw)} at the given offsets leaves the "
            f"{(hp, wp)} images; offsets must be in [0, {hp - th}] x [0, {wp - tw}]"
        )
    windows = np.lib.stride_tricks.sliding_window_view(images, (th, tw), axis=(2, 3))
    out = windows[np.arange(n), :, top, left]  # (N, C, th, tw): one gather, a fresh array
    if flip is not None:
        flip = np.asarray(flip, dtype=bool)
        if flip.shape != (n,):
            raise ValueError(f"crop_flip_batch: flip must have shape ({n},), got {flip.shape}")
        out[flip] = out[flip, ..., ::-1]
    return out


def random_crop_flip_batch(
    images: Any,
    padding: int | Sequence[int] = 4,
    generator: Generator | np.random.Generator | None = None,
    *,
    size: int | Sequence[int] | None = None,
    flip_p: float = 0.5,
    fill: float | Sequence[float] = 0,
    padding_mode: str = "constant",
) -> Any:
    """``RandomCrop(size, padding)`` then ``RandomHorizontalFlip(flip_p)`` on every image of a
    batch (N, C, H, W), each with its own random offset and flip, without a per-image loop.

    ``size`` defaults to the input's (H, W) (the usual CIFAR "pad 4, crop 32" augmentation).
    Draws, from ``generator`` (a mytorch or NumPy generator) or the global generator, in this
    order: ``top`` (N,) and ``left`` (N,) uniform over the valid offsets, then ``N`` uniform
    numbers (flip where below ``flip_p``). Each image gets the distribution the per-sample
    transforms give it. Returns the kind of array it was given (ndarray or Tensor).

    >>> x = np.zeros((128, 3, 32, 32), dtype=np.float32)
    >>> random_crop_flip_batch(x, padding=4).shape
    (128, 3, 32, 32)
    """
    name = "random_crop_flip_batch"
    arr = _array(images, name)
    if arr.ndim != 4:
        raise ValueError(f"{name}: expected images (N, C, H, W), got shape {arr.shape}")
    if not 0 <= flip_p <= 1:
        raise ValueError(f"{name}: flip_p must be in [0, 1], got {flip_p}")
    th, tw = _size2(size if size is not None else arr.shape[-2:], name)
    padded = _pad(
        arr,
        _padding4(padding, name),
        _check_fill(fill, name),
        _check_mode(padding_mode, name),
        name,
    )  # (N, C, H + top + bottom, W + left + right)
    n, _, hp, wp = padded.shape
    if hp < th or wp < tw:
        raise ValueError(
            f"{name}: required crop size {(th, tw)} is larger than the padded image size {(hp, wp)}"
        )
    r = _rng(generator)
    top = r.integers(0, hp - th + 1, n)
    left = r.integers(0, wp - tw + 1, n)
    flip = r.random(n) < flip_p
    out = crop_flip_batch(padded, top, left, (th, tw), flip)
    return from_numpy(out) if isinstance(images, Tensor) else out
