"""Variable-length batches: ``PackedSequence`` and the pack / pad helpers of
``torch.nn.utils.rnn``.

A ``PackedSequence`` uses PyTorch's layout: ``data`` (sum(lengths), *) holds the valid steps
time-major, step t listing the ``batch_sizes[t]`` sequences still running, longest first.
Packing and unpacking are single differentiable gathers, so gradients flow back to the padded
input (padded positions get zero gradient).

>>> import mytorch.core as mt
>>> x = mt.arange(6.0).reshape(3, 2)  # (T=3, B=2)
>>> p = pack_padded_sequence(x, [3, 1])
>>> p.data.tolist(), p.batch_sizes.tolist()
([0.0, 1.0, 2.0, 4.0], [2, 1, 1])
>>> padded, lengths = pad_packed_sequence(p)
>>> padded.tolist(), lengths.tolist()
([[0.0, 1.0], [2.0, 0.0], [4.0, 0.0]], [3, 1])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from mytorch.core.creation import from_numpy, full
from mytorch.core.ops.indexing import index_select
from mytorch.core.ops.movement import cat
from mytorch.core.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


# ----------------------------------------------------------------------------------------------
# PackedSequence
# ----------------------------------------------------------------------------------------------


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """A batch of variable-length sequences, as made by ``pack_padded_sequence``.

    Fields (a named tuple, like PyTorch's): ``data`` (sum(lengths), *) the valid steps in
    time-major order over the length-sorted batch; ``batch_sizes`` (int64, one entry per time
    step) how many sequences are still running at each step; ``sorted_indices`` the original
    batch index of each sorted position (None when the batch was already sorted) and
    ``unsorted_indices`` its inverse. Do not build one by hand: use ``pack_padded_sequence`` or
    ``pack_sequence``. ``PackedSequence(fn(p.data), p.batch_sizes, p.sorted_indices,
    p.unsorted_indices)`` applies a step-wise function to every valid step.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError(
                    "PackedSequence: expected data and batch_sizes, or a (data, batch_sizes) "
                    f"pair as the first argument, got {type(data).__name__}"
                )
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Cast ``data`` like ``Tensor.to``; the index fields are kept."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        return self.to(np.float32)

    def half(self) -> PackedSequence:
        return self.to(np.float16)

    def long(self) -> PackedSequence:
        return self.to(np.int64)

    def int(self) -> PackedSequence:
        return self.to(np.int32)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None).

    >>> import mytorch.core as mt
    >>> invert_permutation(mt.tensor([2, 0, 1])).tolist()
    [1, 2, 0]
    """
    if permutation is None:
        return None
    perm = np.asarray(_as_numpy(permutation), dtype=np.int64)
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size, dtype=np.int64)
    return from_numpy(out)


# ----------------------------------------------------------------------------------------------
# layout helpers (shared with the recurrent layers)
# ----------------------------------------------------------------------------------------------


def _as_numpy(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _sorted_lengths(batch_sizes: np.ndarray) -> np.ndarray:
    """Lengths of the sorted batch from ``batch_sizes``: (B,)."""
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    return (batch_sizes[:, None] > np.arange(batch)).sum(0).astype(np.int64)


def _packed_slots(packed: PackedSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of ``packed.data``: its time step and original batch index; and the
    lengths in original batch order."""
    batch_sizes = _as_numpy(packed.batch_sizes).astype(np.int64, copy=False)
    lengths = _sorted_lengths(batch_sizes)  # (B,) sorted
    steps, pos = np.nonzero(np.arange(batch_sizes.size)[:, None] < lengths)  # packed order
    if packed.sorted_indices is None:
        return steps, pos, lengths
    sorted_indices = _as_numpy(packed.sorted_indices).astype(np.int64, copy=False)
    original = np.empty_like(lengths)
    original[sorted_indices] = lengths
    return steps, sorted_indices[pos], original


def _gather_rows(x: Tensor, rows: np.ndarray) -> Tensor:
    """Rows ``rows`` of ``x`` with its two leading dims flattened: (len(rows), *)."""
    flat = x.reshape(-1, *x.shape[2:])
    return index_select(flat, 0, rows)


def _scatter_rows(
    data: Tensor, rows: np.ndarray, lead: tuple[int, int], padding_value: float
) -> Tensor:
    """A (lead[0], lead[1], *) tensor with ``data[i]`` at flat slot ``rows[i]`` and
    ``padding_value`` elsewhere."""
    rest = tuple(data.shape[1:])
    n_slots = lead[0] * lead[1]
    source = np.full(n_slots, data.shape[0], dtype=np.int64)
    source[rows] = np.arange(rows.size, dtype=np.int64)
    pad = full((1, *rest), padding_value, dtype=data.dtype)
    out = index_select(cat([data, pad], 0), 0, source)  # (n_slots, *)
    return out.reshape(*lead, *rest)


def _pack_rows(steps: np.ndarray, batch: np.ndarray, shape: tuple[int, int], batch_first: bool):
    """Flat slot of each packed row in a (T, B) or (B, T) padded layout."""
    if batch_first:
        return batch * shape[1] + steps
    return steps * shape[1] + batch


# ----------------------------------------------------------------------------------------------
# pack / pad
# ----------------------------------------------------------------------------------------------


def _lengths_array(lengths) -> np.ndarray:
    arr = _as_numpy(lengths)
    if arr.ndim != 1:
        raise RuntimeError(
            f"pack_padded_sequence: 'lengths' should be 1-D (one length per sequence), "
            f"got a {arr.ndim}-D value of shape {list(arr.shape)}"
        )
    return arr.astype(np.int64)


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences whose
    valid lengths are ``lengths``.

    With ``enforce_sorted=True`` the lengths must be in decreasing order; otherwise the batch is
    sorted (stably) and ``sorted_indices`` records the order, so that ``pad_packed_sequence``
    and the recurrent layers return results in the original order.

    >>> import mytorch.core as mt
    >>> pack_padded_sequence(mt.zeros(5, 3, 2), [2, 5, 1], enforce_sorted=False).batch_sizes.tolist()
    [3, 2, 1, 1, 1]
    """
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if input.ndim < 2:
        raise RuntimeError(
            f"pack_padded_sequence: expected input of shape (T, B, *) or (B, T, *), got "
            f"{list(input.shape)}"
        )
    lens = _lengths_array(lengths)
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    batch, steps = input.shape[batch_dim], input.shape[time_dim]
    if lens.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
            f"(batch_size={batch})"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
    if lens.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if lens.max() > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length ({int(lens.max())}) exceeds the padded sequence "
            f"length {steps} of input of shape {list(input.shape)}"
        )
    sorted_lens = lens if order is None else lens[order]
    batch_sizes = (sorted_lens[None, :] > np.arange(sorted_lens[0])[:, None]).sum(1)
    t, pos = np.nonzero(np.arange(sorted_lens[0])[:, None] < sorted_lens)  # packed order
    b = pos if order is None else order[pos]
    shape = (batch, steps) if batch_first else (steps, batch)
    data = _gather_rows(input, _pack_rows(t, b, shape, batch_first))  # (N, *)
    sorted_indices = None if order is None else from_numpy(order.astype(np.int64))
    return PackedSequence(data, from_numpy(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths (B,) int64),
    in the batch order the sequences were packed from.

    ``total_length`` pads to that many steps (at least the longest sequence).
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}"
        )
    steps, batch, lengths = _packed_slots(sequence)
    max_len = int(_as_numpy(sequence.batch_sizes).size)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}"
            )
        max_len = total_length
    n_batch = lengths.size
    shape = (n_batch, max_len) if batch_first else (max_len, n_batch)
    rows = _pack_rows(steps, batch, shape, batch_first)
    padded = _scatter_rows(sequence.data, rows, shape, padding_value)
    return padded, from_numpy(lengths)


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), filling with
    ``padding_value`` on the ``padding_side`` ("right" or "left").

    >>> import mytorch.core as mt
    >>> pad_sequence([mt.ones(2), mt.ones(1)], batch_first=True).tolist()
    [[1.0, 1.0], [1.0, 0.0]]
    """
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0:
            raise RuntimeError(f"pad_sequence: sequence {i} is a 0-D tensor; expected (L, *)")
    rest = tuple(seqs[0].shape[1:])
    dtype = seqs[0].dtype
    for i, s in enumerate(seqs):
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(
                f"pad_sequence: all sequences must have the same trailing dims; sequence 0 has "
                f"shape {list(seqs[0].shape)} but sequence {i} has shape {list(s.shape)}"
            )
    seqs = [s if s.dtype == dtype else s.to(dtype) for s in seqs]
    lens = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    max_len, n_batch = int(lens.max()), lens.size
    b = np.repeat(np.arange(n_batch), lens)  # (N,) batch index of each row of cat(seqs)
    t = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)  # step within its seq
    if padding_side == "left":
        t = t + np.repeat(max_len - lens, lens)
    shape = (n_batch, max_len) if batch_first else (max_len, n_batch)
    rows = _pack_rows(t, b, shape, batch_first)
    return _scatter_rows(cat(seqs, 0), rows, shape, padding_value)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """Split a padded batch back into a list of (L_i, *) sequences (the input is not modified)."""
    lens = _as_numpy(lengths).astype(np.int64).reshape(-1)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)  # (B, T, *)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences; equivalent to padding them and packing the result."""
    lengths = [s.shape[0] if s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of (L_i, *) sequences in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
