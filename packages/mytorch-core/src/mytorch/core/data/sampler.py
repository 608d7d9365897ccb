"""Samplers: the order in which a ``DataLoader`` visits dataset indices, and how it batches them.

Shuffling draws from a ``mytorch.core.random.Generator``: the one passed as ``generator``, or
else a private one seeded from the global generator when the sampler is built, so samplers
built after the same ``manual_seed`` produce the same orders, epoch after epoch.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

from mytorch.core.random import Generator, rng

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: ``__iter__`` yields dataset indices (or lists of them, for batch samplers).

    Samplers that can draw a whole epoch at once also define ``index_array()`` returning it as
    an int64 array; ``BatchSampler`` then slices batches out of it without a Python loop.
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError


def _own_generator(generator: Generator | None) -> Generator:
    """``generator``, or a fresh one seeded from the global generator now."""
    if generator is not None:
        return generator
    return Generator(int(rng().integers(0, 2**63 - 1)))


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch (or ``num_samples`` draws).

    With ``replacement`` indices are drawn independently; without it, ``num_samples`` larger
    than the dataset concatenates several permutations.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self._generator = _own_generator(generator)
        if not isinstance(self.replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={self.replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_array(self) -> np.ndarray:
        n, k, g = len(self.data_source), self.num_samples, self._generator.np
        if self.replacement:
            return g.integers(0, n, size=k, dtype=np.int64)
        perms = [g.permutation(n) for _ in range(-(-k // n))]
        return np.concatenate(perms)[:k].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator
        self._generator = _own_generator(generator)

    def index_array(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64)
        return idx[self._generator.np.permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {w.shape}"
            )
        if not replacement and num_samples > w.size:
            raise RuntimeError(
                "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator
        self._generator = _own_generator(generator)

    def index_array(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        out = self._generator.np.choice(p.size, self.num_samples, self.replacement, p)
        return out.astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one may be short
    unless ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def index_arrays(self) -> Iterator[np.ndarray]:
        """The batches as int64 arrays (sliced from one draw when the sampler supports it)."""
        index_array = getattr(self.sampler, "index_array", None)
        if index_array is None:
            for batch in self._lazy_batches():
                yield np.asarray(batch, dtype=np.int64)
            return
        idx, bs = index_array(), self.batch_size
        stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
        for start in range(0, stop, bs):
            yield idx[start : start + bs]

    def _lazy_batches(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        if getattr(self.sampler, "index_array", None) is None:
            yield from self._lazy_batches()
        else:
            for batch in self.index_arrays():
                yield batch.tolist()

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
