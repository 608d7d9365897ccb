"""mytorch.distributed: data-parallel training across processes and machines, on MPI.

PyTorch's ``torch.distributed`` API where it applies: a process group (``init_process_group``
with the ``"mpi"`` backend), collectives on tensors in place (``all_reduce``, ``broadcast``,
``all_gather``, ``reduce_scatter``, ``barrier``, ``send``/``recv`` and their async forms),
``DistributedDataParallel``, ``SyncBatchNorm``, ``DistributedSampler`` and rank-0 checkpoints.
Launch with ``mpiexec -n 4 python train.py``.

>>> import mytorch.core as mt
>>> import mytorch.distributed as dist
>>> dist.init_process_group(backend="mpi")
>>> t = mt.ones(2)
>>> dist.all_reduce(t)
>>> t.tolist() == [float(dist.get_world_size())] * 2
True
>>> dist.destroy_process_group()
"""

from importlib.metadata import PackageNotFoundError, version

from mytorch.distributed.checkpoint import load_checkpoint, save_checkpoint
from mytorch.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    irecv,
    isend,
    recv,
    reduce_scatter,
    reduce_scatter_tensor,
    send,
)
from mytorch.distributed.ddp import DistributedDataParallel
from mytorch.distributed.process_group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)
from mytorch.distributed.sampler import DistributedSampler
from mytorch.distributed.sync_batchnorm import SyncBatchNorm

try:
    __version__ = version("mytorch-distributed")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"

__all__ = [
    "init_process_group",
    "destroy_process_group",
    "is_initialized",
    "is_available",
    "is_mpi_available",
    "get_rank",
    "get_world_size",
    "get_backend",
    "ReduceOp",
    "Work",
    "barrier",
    "all_reduce",
    "broadcast",
    "all_gather",
    "all_gather_into_tensor",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "send",
    "recv",
    "isend",
    "irecv",
    "DistributedDataParallel",
    "DistributedSampler",
    "SyncBatchNorm",
    "save_checkpoint",
    "load_checkpoint",
]
