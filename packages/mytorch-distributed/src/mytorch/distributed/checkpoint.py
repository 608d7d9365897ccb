"""Checkpoints in a data-parallel job: one rank writes, every rank reads what it wrote.

Data-parallel replicas hold the same parameters and optimizer state, so one copy is enough:
``save`` writes on rank ``src`` only (atomically, through ``mytorch.nn.save``) and then waits
for every rank, so nobody reads a file still being written. ``load`` reads the file on rank
``src`` and broadcasts its bytes, so the other ranks need no shared filesystem. The file holds
no trace of the world size: a run saved with 4 processes resumes with 1, 2 or 8 (with
``DistributedSampler`` the global batch, ``num_replicas`` x the per-rank batch, decides the
data order, so keep it fixed to continue the same trajectory).

>>> import mytorch.nn as nn
>>> import mytorch.distributed as dist
>>> dist.init_process_group("mpi")
>>> model = nn.Linear(2, 2)
>>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> dist.save_checkpoint({"model": model.state_dict(), "step": 3}, path)
>>> dist.load_checkpoint(path)["step"]
3
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

import mytorch.nn as nn
from mytorch.distributed.collectives import _check_rank, barrier
from mytorch.distributed.process_group import _group

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(obj: Any, path: str | os.PathLike, src: int = 0) -> None:
    """Write ``obj`` (as ``mytorch.nn.save`` takes it) to ``path`` on rank ``src``; all ranks wait."""
    group = _group()
    _check_rank(src, group.size, "save_checkpoint", "src")
    if group.rank == src:
        nn.save(obj, path)
    barrier()


def load_checkpoint(path: str | os.PathLike, src: int = 0) -> Any:
    """Read ``path`` on rank ``src``, send its bytes to every rank, and decode them everywhere."""
    group = _group()
    _check_rank(src, group.size, "load_checkpoint", "src")
    size = np.zeros(1, np.int64)
    data = None
    if group.rank == src:
        try:
            with open(path, "rb") as fh:
                data = np.frombuffer(fh.read(), np.uint8)
            size[0] = data.size
        except OSError as e:
            size[0] = -1  # tell the others, so that every rank raises instead of hanging
            error = e
    group.comm.Bcast(size, root=src)
    if size[0] < 0:
        if group.rank == src:
            raise error
        raise FileNotFoundError(f"load_checkpoint: rank {src} could not read {os.fspath(path)}")
    if data is None:
        data = np.empty(int(size[0]), np.uint8)
    else:
        data = data.copy()  # MPI wants a writable buffer on the root too
    group.comm.Bcast(data, root=src)
    return nn.load(io.BytesIO(data.tobytes()))
