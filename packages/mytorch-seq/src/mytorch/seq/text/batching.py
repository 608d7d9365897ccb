"""Language-model batching of one long id stream.

``batchify``/``get_batch``/``LMBatcher`` follow PyTorch's word_language_model example: the stream
is cut into ``batch_size`` columns (time-major ``(S, B)``) read ``bptt`` steps at a time, so a
hidden state can be carried from one batch to the next. ``SeqDataLoader`` instead yields
batch-first ``(B, T)`` windows in an optionally shuffled order.

>>> src = batchify(list(range(10)), 2)  # columns [0..4] and [5..9]
>>> src.tolist()
[[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]
>>> data, target = get_batch(src, 0, bptt=2)
>>> data.tolist(), target.tolist()
([[0, 5], [1, 6]], [1, 6, 2, 7])
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mytorch.core.creation import from_numpy
from mytorch.core.random import Generator, rng
from mytorch.core.tensor import Tensor
from mytorch.seq.text.padding import as_id_array

__all__ = ["LMBatcher", "SeqDataLoader", "batchify", "get_batch"]


def _positive_int(value, name: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return value


def batchify(ids, batch_size: int) -> Tensor:
    """Cut a 1-D id stream into ``batch_size`` contiguous columns: an int64 ``(S, B)`` Tensor
    with ``S = len(ids) // batch_size`` (the trailing remainder is dropped)."""
    _positive_int(batch_size, "batch_size", "batchify")
    arr = as_id_array(ids, "batchify: ids")  # (N,)
    n = arr.size // batch_size
    if n == 0:
        raise ValueError(
            f"batchify: {arr.size} ids are fewer than batch_size={batch_size}; nothing to batch"
        )
    cols = arr[: n * batch_size].reshape(batch_size, n)  # (B, S)
    return from_numpy(np.ascontiguousarray(cols.T))  # (S, B)


def get_batch(source: Tensor, i: int, bptt: int) -> tuple[Tensor, Tensor]:
    """The ``bptt``-step chunk of ``source`` (``(S, B)``, from :func:`batchify`) starting at row
    ``i``: ``data`` of shape ``(T, B)`` and ``target`` (the next ids) flattened to ``(T * B,)``,
    with ``T = min(bptt, S - 1 - i)``."""
    src = np.asarray(source.data if isinstance(source, Tensor) else source)
    if src.ndim != 2:
        raise ValueError(f"get_batch: source must be 2-D (S, B), got shape {src.shape}")
    _positive_int(bptt, "bptt", "get_batch")
    if not 0 <= i < src.shape[0] - 1:
        raise IndexError(
            f"get_batch: i={i} out of range for a source of {src.shape[0]} rows "
            f"(valid: 0 <= i < {src.shape[0] - 1})"
        )
    seq_len = min(bptt, src.shape[0] - 1 - i)
    data = src[i : i + seq_len]  # (T, B)
    target = src[i + 1 : i + 1 + seq_len].reshape(-1)  # (T * B,)
    return from_numpy(data), from_numpy(target)


class LMBatcher:
    """Iterate over ``(data, target)`` chunks of a batchified stream, as in the
    word_language_model example: ``for data, target in LMBatcher(ids, 20, bptt=35)``.

    ``source`` is the ``(S, B)`` Tensor; each item is ``get_batch(source, i, bptt)`` for
    ``i = 0, bptt, 2 * bptt, ...``.
    """

    def __init__(self, ids, batch_size: int, bptt: int) -> None:
        self.bptt = _positive_int(bptt, "bptt", "LMBatcher")
        self.source = batchify(ids, batch_size)  # (S, B)
        if self.source.shape[0] < 2:
            raise ValueError("LMBatcher: the stream is too short for one (input, target) step")

    def __len__(self) -> int:
        return -(-(self.source.shape[0] - 1) // self.bptt)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for i in range(0, self.source.shape[0] - 1, self.bptt):
            yield get_batch(self.source, i, self.bptt)


class SeqDataLoader:
    """Batches of ``(input, target)`` windows from a 1-D id stream, batch-first.

    The stream is cut into ``(len(ids) - 1) // seq_len`` non-overlapping windows; window ``k``
    gives ``input = ids[k*T : k*T + T]`` and ``target = ids[k*T + 1 : k*T + T + 1]``. Each
    iteration yields int64 Tensors of shape ``(B, T)`` (the last batch may be smaller unless
    ``drop_last``).

    ``shuffle=True`` visits the windows in a new random order each epoch, drawn from
    ``generator`` or from a private generator seeded from the global one
    (``mytorch.core.manual_seed``) when the loader is built.
    """

    def __init__(
        self,
        ids,
        batch_size: int,
        seq_len: int,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: Generator | None = None,
    ) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size", "SeqDataLoader")
        self.seq_len = _positive_int(seq_len, "seq_len", "SeqDataLoader")
        self.ids = as_id_array(ids, "SeqDataLoader: ids")  # (N,)
        self.num_windows = max(0, (self.ids.size - 1) // seq_len)
        if self.num_windows == 0:
            raise ValueError(
                f"SeqDataLoader: {self.ids.size} ids are too few for one window of "
                f"seq_len={seq_len} plus its shifted target"
            )
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self._generator = (
            generator if generator is not None else Generator(int(rng().integers(0, 2**63 - 1)))
        )

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_windows // self.batch_size
        return -(-self.num_windows // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n, B, T = self.num_windows, self.batch_size, self.seq_len
        order = self._generator.np.permutation(n) if self.shuffle else np.arange(n)
        offsets = np.arange(T)  # (T,)
        stop = n - n % B if self.drop_last else n
        for b in range(0, stop, B):
            idx = order[b : b + B, None] * T + offsets  # (B, T)
            yield from_numpy(self.ids[idx]), from_numpy(self.ids[idx + 1])
