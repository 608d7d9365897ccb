"""``DistributedSampler``: each rank's share of a dataset, with PyTorch's semantics.

Every rank draws the same permutation (seeded by ``seed + epoch``), pads it by repeating its
start until it divides evenly (or, with ``drop_last``, cuts the tail), and takes every
``num_replicas``-th index from position ``rank``. So the ranks' shares are disjoint (up to the
padding) and together cover the dataset; call ``set_epoch(epoch)`` before each epoch for a new
order.

>>> sampler = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
>>> list(sampler)  # indices 0..9, padded with 0 and 1 to 12, then every third from 1
[1, 4, 7, 0]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from mytorch.core import Generator, randperm
from mytorch.core.data import Sampler
from mytorch.distributed.process_group import get_rank, get_world_size, is_initialized

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Restricts loading to this rank's subset of ``dataset`` (use as a DataLoader's sampler).

    ``num_replicas`` and ``rank`` default to the process group's world size and rank.
    ``shuffle`` draws a permutation from ``seed + epoch``; without ``drop_last`` the indices
    are padded (repeating the first ones) to a multiple of ``num_replicas``, with it the tail
    that does not divide evenly is dropped. Each rank yields ``len(sampler)`` indices.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            if not is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "init_process_group first"
                )
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the largest share every rank can have without padding
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def index_array(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        if self.shuffle:
            order = randperm(n, generator=Generator(self.seed + self.epoch)).numpy()
        else:
            order = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                order = np.concatenate([order, np.resize(order, padding)])
        else:
            order = order[: self.total_size]
        if len(order) != self.total_size:
            raise AssertionError(f"{len(order)} indices, expected {self.total_size}")
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from now on (every rank must call it with the same value)."""
        self.epoch = epoch
