"""The package alone, one process (world size 1): every call works without mpiexec."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.distributed as dist
import mytorch.nn as nn

NO_MPI = "no MPI library for mpi4py: pip install 'mytorch-distributed[mpich]'"


def test_sampler_shares_partition_a_dataset():
    shares = [list(dist.DistributedSampler(range(10), 3, r, seed=1)) for r in range(3)]
    flat = [i for share in shares for i in share]
    assert len(flat) == 12 and set(flat) == set(range(10))


@pytest.mark.skipif(not dist.is_mpi_available(), reason=NO_MPI)
def test_single_process_training_step_and_collectives():
    dist.init_process_group(backend="mpi")
    try:
        assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
        t = mt.tensor([1.0, 2.0])
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [1.0, 2.0]
        mt.manual_seed(0)
        model = dist.DistributedDataParallel(nn.Linear(3, 2))
        opt = mt.optim.SGD(model.parameters(), lr=0.1)
        x = mt.randn(4, 3)
        model(x).sum().backward()
        expected = model.module.weight.detach().numpy() - 0.1 * x.numpy().sum(0)
        opt.step()
        np.testing.assert_allclose(model.module.weight.detach().numpy(), expected, rtol=1e-6)
        sampler = dist.DistributedSampler(range(5))
        assert sorted(sampler) == [0, 1, 2, 3, 4]
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()
