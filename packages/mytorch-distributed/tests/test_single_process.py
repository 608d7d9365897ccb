"""The API in one process (world size 1): argument checks, errors and default buckets."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.distributed as dist
import mytorch.nn as nn

pytestmark = pytest.mark.skipif(
    not dist.is_mpi_available(),
    reason="no MPI library for mpi4py: pip install 'mytorch-distributed[mpich]'",
)


@pytest.fixture
def group():
    dist.init_process_group("mpi", timeout=timedelta(seconds=60))
    yield
    dist.destroy_process_group()


def test_calls_before_init_say_so():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        dist.all_reduce(mt.ones(2))
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        dist.DistributedSampler(range(3))


def test_init_arguments_are_checked():
    with pytest.raises(ValueError, match="backend must be 'mpi', got 'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="world_size=4 but mpiexec started 1"):
        dist.init_process_group("mpi", world_size=4)
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group("mpi", timeout=0)
    assert not dist.is_initialized()


def test_init_twice_fails(group):
    assert dist.get_backend() == "mpi" and dist.is_available()
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("mpi")


def test_collective_argument_errors(group):
    with pytest.raises(ValueError, match=r"tensor_list must have world_size \(1\) tensors, got 2"):
        dist.all_gather([mt.zeros(2), mt.zeros(2)], mt.ones(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] must match tensor"):
        dist.all_gather([mt.zeros(3)], mt.ones(2))
    with pytest.raises(ValueError, match="output must hold world_size"):
        dist.all_gather_into_tensor(mt.zeros(3), mt.ones(2))
    with pytest.raises(ValueError, match="src must be a rank in \\[0, 0\\], got 1"):
        dist.broadcast(mt.ones(2), src=1)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(mt.ones(2), op="sum")
    with pytest.raises(TypeError, match="must be a mytorch Tensor, got ndarray"):
        dist.all_reduce(mt.ones(2).numpy())


def test_world_of_one_collectives_are_identities(group):
    out = [mt.zeros(2)]
    dist.all_gather(out, mt.tensor([3.0, 4.0]))
    assert out[0].tolist() == [3.0, 4.0]
    out = mt.zeros(2)
    dist.reduce_scatter(out, [mt.tensor([1.0, 5.0])], op=dist.ReduceOp.MAX)
    assert out.tolist() == [1.0, 5.0]
    work = dist.all_reduce(mt.ones(3), async_op=True)
    assert work.wait() and work.is_completed()
    assert dist.all_reduce(mt.ones(3), async_op=True).wait(timeout=5.0)
    dist.barrier()


def test_default_buckets_first_small_then_25_mib(group):
    """Reverse registration order; the first bucket closes at 1 MiB, the next at 25 MiB."""
    model = nn.Sequential(*[nn.Linear(512, 512, bias=False) for _ in range(30)])  # 1 MiB each
    ddp = dist.DistributedDataParallel(model)
    mib = 512 * 512 * 4
    assert ddp.bucket_sizes == [mib, 25 * mib, 4 * mib]
    assert ddp.bucket_parameter_names[0] == ["29.weight"]
    assert ddp.bucket_parameter_names[1][0] == "28.weight"


def test_ddp_checks_its_arguments(group):
    with pytest.raises(TypeError, match="must be a mytorch.nn.Module"):
        dist.DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="only CPU modules"):
        dist.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(ValueError, match="bucket sizes must be positive"):
        dist.DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)


def test_backward_twice_after_one_forward_is_an_error(group):
    ddp = dist.DistributedDataParallel(nn.Linear(2, 2), find_unused_parameters=False)
    y = ddp(mt.ones(1, 2)).sum()
    y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="a second backward after one forward"):
        y.backward()  # its gradients would silently stay local
    ddp(mt.ones(1, 2)).sum().backward()  # a new forward starts a new iteration


def test_comm_hook_must_return_work(group):
    ddp = dist.DistributedDataParallel(nn.Linear(2, 2))
    ddp.register_comm_hook(None, lambda state, bucket: None)
    with pytest.raises(TypeError, match="must return a Work"):
        ddp(mt.ones(1, 2)).sum().backward()


def test_all_reduce_sum_is_differentiable_twice(group):
    from mytorch.core.testing import gradcheck, gradgradcheck
    from mytorch.distributed.sync_batchnorm import all_reduce_sum

    x = mt.randn(3, 2, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda t: all_reduce_sum(t * t), [x])
    assert gradgradcheck(lambda t: all_reduce_sum(t * t), [x])


def test_sync_batchnorm_alone_is_batchnorm(group):
    mt.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=None)
    sync = dist.SyncBatchNorm.convert_sync_batchnorm(
        nn.Sequential(nn.BatchNorm2d(3, momentum=None))
    )[0]
    assert isinstance(sync, dist.SyncBatchNorm) and sync.momentum is None
    x = mt.randn(4, 3, 5, 5) * 3 + 1
    for _ in range(2):
        np.testing.assert_allclose(sync(x).detach().numpy(), bn(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(sync.running_var.numpy(), bn.running_var.numpy(), rtol=1e-6)
    assert sync.num_batches_tracked.item() == 2
    sync.eval(), bn.eval()
    np.testing.assert_allclose(sync(x).detach().numpy(), bn(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected input \(N, 3, \*\), got shape \[4, 2\]"):
        sync(mt.randn(4, 2))


def test_a_module_can_be_wrapped_again_once_the_old_wrapper_is_gone(group):
    import gc

    module = nn.Linear(2, 2)
    first = dist.DistributedDataParallel(module)
    first(mt.ones(1, 2)).sum().backward()
    del first
    gc.collect()
    second = dist.DistributedDataParallel(module)
    for _ in range(2):
        module.zero_grad()
        second(mt.ones(1, 2)).sum().backward()
    assert module.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # (no error from the old)
