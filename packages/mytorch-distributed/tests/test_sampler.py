"""DistributedSampler: partition, padding, drop_last, epoch-dependent shuffle, PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.data import DataLoader, TensorDataset
from mytorch.distributed import DistributedSampler


def shares(n: int, world: int, **kwargs) -> list[list[int]]:
    return [list(DistributedSampler(range(n), world, r, **kwargs)) for r in range(world)]


@pytest.mark.parametrize("n,world", [(12, 4), (10, 3), (7, 2), (5, 4), (100, 8)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shares_are_disjoint_and_cover_the_dataset(n, world, shuffle):
    parts = shares(n, world, shuffle=shuffle, seed=3)
    size = -(-n // world)
    assert [len(p) for p in parts] == [size] * world
    flat = [i for p in parts for i in p]
    assert set(flat) == set(range(n))  # covering
    padding = size * world - n
    assert len(flat) - len(set(flat)) == padding  # disjoint except the padding repeats
    assert all(len(set(p)) == len(p) for p in parts) or padding > 0


@pytest.mark.parametrize("n,world", [(10, 3), (7, 2), (12, 4), (5, 4)])
def test_drop_last_drops_the_uneven_tail(n, world):
    parts = shares(n, world, shuffle=True, seed=1, drop_last=True)
    size = n // world
    assert [len(p) for p in parts] == [size] * world
    flat = [i for p in parts for i in p]
    assert len(set(flat)) == len(flat) == size * world  # disjoint, nothing repeated


def test_shuffle_depends_on_epoch_and_seed_and_is_shared_by_ranks():
    samplers = [DistributedSampler(range(50), 2, r, seed=7) for r in range(2)]
    first = [list(s) for s in samplers]
    assert first == [list(s) for s in samplers]  # same epoch: same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first
    assert set(second[0]) | set(second[1]) == set(range(50))  # still a partition
    assert not set(second[0]) & set(second[1])
    other_seed = list(DistributedSampler(range(50), 2, 0, seed=8))
    assert other_seed != first[0]
    assert first[0] != list(range(0, 50, 2))  # shuffled at all


def test_without_shuffle_matches_pytorch(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for n, world, drop_last in [(10, 3, False), (10, 3, True), (7, 4, False), (3, 5, False)]:
        for r in range(world):
            ours = list(DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
            theirs = list(TorchSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
            assert ours == theirs, (n, world, r, drop_last)


def test_padding_larger_than_the_dataset_repeats_it():
    parts = shares(3, 5, shuffle=False)  # 3 indices padded to 5: 0 1 2 0 1
    assert parts == [[0], [1], [2], [0], [1]]


def test_bad_rank_and_missing_group():
    with pytest.raises(
        ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"
    ):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="num_replicas must be >= 1"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


def test_drives_a_dataloader():
    x = mt.arange(20).float().reshape(10, 2)
    sampler = DistributedSampler(TensorDataset(x), num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(TensorDataset(x), batch_size=2, sampler=sampler)
    rows = np.concatenate([b[0].numpy() for b in loader])
    np.testing.assert_array_equal(rows[:, 0], [2, 6, 10, 14, 18])
