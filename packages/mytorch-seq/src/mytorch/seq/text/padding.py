"""``pad_batch``: variable-length id sequences -> one padded int64 batch plus lengths.

>>> ids, lengths = pad_batch([[5, 6, 7], [8]])
>>> ids.tolist(), lengths.tolist()
([[5, 6, 7], [8, 0, 0]], [3, 1])
>>> pad_batch([[5, 6, 7], [8]], max_len=2, truncation="pre", padding="pre")[0].tolist()
[[6, 7], [0, 8]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mytorch.core.creation import from_numpy
from mytorch.core.tensor import Tensor

__all__ = ["as_id_array", "pad_batch"]

_SIDES = ("post", "pre")


def as_id_array(seq, what: str = "sequence") -> np.ndarray:
    """A 1-D int64 NumPy array from a list of ints, a NumPy array or an integer Tensor."""
    arr = np.asarray(seq.data if isinstance(seq, Tensor) else seq)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iub":
        raise TypeError(f"{what} must hold integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def pad_batch(
    sequences: Sequence,
    max_len: int | None = None,
    padding_value: int = 0,
    truncation: str = "post",
    padding: str = "post",
) -> tuple[Tensor, Tensor]:
    """Pad (and truncate) id sequences into a ``(B, L)`` int64 Tensor.

    Args:
        sequences: B sequences of integer ids (lists, NumPy arrays or 1-D Tensors).
        max_len: ``L``; sequences longer than it are truncated and every row is padded to
            exactly ``L``. Default: the longest sequence's length.
        padding_value: the id written in padded positions (``<pad>`` is 0 in a ``Vocab``).
        truncation: ``"post"`` drops ids from the end, ``"pre"`` from the start.
        padding: ``"post"`` pads after the ids, ``"pre"`` before them.

    Returns ``(ids, lengths)``: int64 Tensors of shapes (B, L) and (B,), ``lengths`` counting the
    real (kept) ids of each row.
    """
    if truncation not in _SIDES:
        raise ValueError(f"pad_batch: truncation must be one of {_SIDES}, got {truncation!r}")
    if padding not in _SIDES:
        raise ValueError(f"pad_batch: padding must be one of {_SIDES}, got {padding!r}")
    if max_len is not None and (not isinstance(max_len, int) or max_len < 0):
        raise ValueError(f"pad_batch: max_len must be a non-negative int or None, got {max_len!r}")
    arrays = [as_id_array(s, f"pad_batch: sequences[{i}]") for i, s in enumerate(sequences)]
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))  # (B,)
    L = int(lengths.max(initial=0)) if max_len is None else max_len
    if max_len is not None and lengths.size and lengths.max() > L:
        if truncation == "post":
            arrays = [a[:L] for a in arrays]
        else:
            arrays = [a[a.size - L :] if a.size > L else a for a in arrays]
        np.minimum(lengths, L, out=lengths)
    out = np.full((len(arrays), L), padding_value, dtype=np.int64)  # (B, L)
    pos = np.arange(L)  # (L,)
    if padding == "post":
        mask = pos < lengths[:, None]  # (B, L)
    else:
        mask = pos >= (L - lengths)[:, None]  # (B, L)
    if arrays:
        out[mask] = np.concatenate(arrays)  # row-major fill keeps each row's order
    return from_numpy(out), from_numpy(lengths)
