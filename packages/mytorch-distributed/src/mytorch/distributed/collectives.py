"""Collectives and point-to-point messages on mytorch tensors, through MPI.

Every operation works in place on the tensor's own NumPy buffer (no copy in or out): MPI reads
and writes ``tensor.data`` directly, so tensors must be contiguous. Each has a blocking form
and, with ``async_op=True``, returns a ``Work`` whose ``wait()`` finishes it (PyTorch's API).
A wait that outlasts the process group's timeout aborts the job with a message naming the
operation (see ``init_process_group``).
The reductions are ``ReduceOp.SUM``, ``AVG`` (a sum divided by the world size; floating point
only), ``PRODUCT``, ``MAX`` and ``MIN``.

>>> import mytorch.core as mt
>>> import mytorch.distributed as dist
>>> dist.init_process_group("mpi")
>>> t = mt.ones(3) * (dist.get_rank() + 1)
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)  # every rank now holds 1 + 2 + ... + N
>>> work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
>>> work.wait()
True
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

import numpy as np

from mytorch.core import Tensor
from mytorch.distributed.process_group import _group, describe

__all__ = [
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
]


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce_scatter`` combine the ranks' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


_MPI_OPS: dict = {}  # ReduceOp -> MPI.Op, filled on first use (importing MPI starts MPI)


def _mpi_op(op: ReduceOp, what: str):
    mpi_op = _MPI_OPS.get(op)
    if mpi_op is not None:
        return mpi_op
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a ReduceOp, got {op!r}")
    from mpi4py import MPI

    _MPI_OPS.update(
        {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,  # then divided by the world size
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MAX: MPI.MAX,
            ReduceOp.MIN: MPI.MIN,
        }
    )
    return _MPI_OPS[op]


class Work:
    """A started operation; ``wait()`` blocks until it is done (and returns True).

    A peer that died or never joined cannot hang a rank: past the process group's timeout the
    job is aborted with a message naming the operation (``wait(timeout=s)`` raises instead).
    """

    def __init__(self, request, what, finish: Callable[[], None] | None = None) -> None:
        self._request = request
        self._what = what
        self._finish = finish
        self._done = False

    def is_completed(self) -> bool:
        """True once the operation has finished (it does not block)."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done. Past the process group's timeout the job is aborted; past an
        explicit ``timeout`` (seconds) this raises ``RuntimeError`` instead."""
        if self._done:
            return True
        group = _group()
        if timeout is None:
            _wait(self._request, group, self._what)
        else:
            _poll(self._request, float(timeout), self._what, group.rank)
        self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()


def _wait(request, group, what, status=None) -> None:
    """``request.Wait()``, watched: the job is aborted if it outlasts the group's timeout."""
    token = group.watchdog.start(what, group.timeout)
    try:
        request.Wait(status)
    finally:
        group.watchdog.stop(token)


def _poll(request, limit: float, what, rank: int) -> None:
    """Wait by polling ``request.Test()``; raise ``RuntimeError`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    pause = 1e-5
    while not request.Test():
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"mytorch.distributed: {describe(what)} on rank {rank} did not complete within "
                f"{limit:g} s; another rank has probably failed or stopped before reaching it"
            )
        time.sleep(pause)
        pause = min(pause * 2, 1e-3)


def _buffer(tensor: Tensor, what: str, name: str = "tensor") -> np.ndarray:
    """The tensor's own array, checked: MPI reads and writes it in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: {name} must be a mytorch Tensor, got {type(tensor).__name__}")
    arr = tensor.data
    if not arr.flags.c_contiguous:
        raise ValueError(
            f"{what}: {name} must be contiguous (got strides {tensor.stride()} for shape "
            f"{list(tensor.shape)}); call .contiguous() first"
        )
    if not arr.flags.writeable:
        raise ValueError(f"{what}: {name} is read-only")
    return arr


def _run(request, what, async_op: bool, finish: Callable[[], None] | None = None):
    work = Work(request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _avg(arr: np.ndarray, size: int, what: str) -> Callable[[], None]:
    if arr.dtype.kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating point tensor, got {arr.dtype}")

    def divide() -> None:
        np.divide(arr, arr.dtype.type(size), out=arr)

    return divide


def barrier(async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this call."""
    group = _group()
    return _run(group.comm.Ibarrier(), "barrier", async_op)


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, async_op: bool = False):
    """Replace ``tensor`` on every rank by the reduction of all ranks' ``tensor`` (in place)."""
    from mpi4py import MPI

    group = _group()
    arr = _buffer(tensor, "all_reduce")
    finish = _avg(arr, group.size, "all_reduce") if op is ReduceOp.AVG else None
    request = group.comm.Iallreduce(MPI.IN_PLACE, arr, _mpi_op(op, "all_reduce"))
    # described only if it times out: formatting costs more than a small allreduce
    return _run(
        request, lambda: f"all_reduce({op.name}, {arr.size} x {arr.dtype})", async_op, finish
    )


def broadcast(tensor: Tensor, src: int = 0, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (in place)."""
    group = _group()
    _check_rank(src, group.size, "broadcast", "src")
    arr = _buffer(tensor, "broadcast")
    return _run(group.comm.Ibcast(arr, root=src), f"broadcast(src={src})", async_op)


def all_gather_into_tensor(output: Tensor, input: Tensor, async_op: bool = False):
    """Fill ``output`` (world_size * input.shape[0], ...) with every rank's ``input`` in rank order."""
    group = _group()
    src = _buffer(input, "all_gather_into_tensor", "input")
    dst = _buffer(output, "all_gather_into_tensor", "output")
    if dst.dtype != src.dtype or dst.size != src.size * group.size:
        raise ValueError(
            f"all_gather_into_tensor: output must hold world_size ({group.size}) x input "
            f"({src.size} x {src.dtype}), got {dst.size} x {dst.dtype}"
        )
    return _run(group.comm.Iallgather(src, dst), "all_gather_into_tensor", async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, async_op: bool = False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` on every rank.

    Gathered into one contiguous buffer, then copied out; ``all_gather_into_tensor`` skips the
    copy.
    """
    group = _group()
    src = _buffer(tensor, "all_gather")
    if len(tensor_list) != group.size:
        raise ValueError(
            f"all_gather: tensor_list must have world_size ({group.size}) tensors, "
            f"got {len(tensor_list)}"
        )
    outs = [_buffer(t, "all_gather", f"tensor_list[{i}]") for i, t in enumerate(tensor_list)]
    for i, out in enumerate(outs):
        if out.shape != src.shape or out.dtype != src.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] must match tensor ({list(src.shape)}, "
                f"{src.dtype}), got ({list(out.shape)}, {out.dtype})"
            )
    gathered = np.empty((group.size, *src.shape), src.dtype)

    def scatter_out() -> None:
        for i, out in enumerate(outs):
            out[...] = gathered[i]

    return _run(group.comm.Iallgather(src, gathered), "all_gather", async_op, scatter_out)


def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM, async_op: bool = False
):
    """Reduce ``input`` (world_size blocks) across ranks; rank r keeps block r in ``output``."""
    group = _group()
    src = _buffer(input, "reduce_scatter_tensor", "input")
    dst = _buffer(output, "reduce_scatter_tensor", "output")
    if dst.dtype != src.dtype or src.size != dst.size * group.size:
        raise ValueError(
            f"reduce_scatter_tensor: input must hold world_size ({group.size}) x output "
            f"({dst.size} x {dst.dtype}), got {src.size} x {src.dtype}"
        )
    finish = _avg(dst, group.size, "reduce_scatter_tensor") if op is ReduceOp.AVG else None
    mpi_op = _mpi_op(op, "reduce_scatter_tensor")
    request = group.comm.Ireduce_scatter_block(src, dst, mpi_op)
    return _run(request, f"reduce_scatter_tensor({op.name})", async_op, finish)


def reduce_scatter(
    output: Tensor,
    input_list: list[Tensor],
    op: ReduceOp = ReduceOp.SUM,
    async_op: bool = False,
):
    """Reduce ``input_list[r]`` across ranks into ``output`` on rank r."""
    group = _group()
    dst = _buffer(output, "reduce_scatter", "output")
    if len(input_list) != group.size:
        raise ValueError(
            f"reduce_scatter: input_list must have world_size ({group.size}) tensors, "
            f"got {len(input_list)}"
        )
    blocks = [_buffer(t, "reduce_scatter", f"input_list[{i}]") for i, t in enumerate(input_list)]
    for i, b in enumerate(blocks):
        if b.shape != dst.shape or b.dtype != dst.dtype:
            raise ValueError(
                f"reduce_scatter: input_list[{i}] must match output ({list(dst.shape)}, "
                f"{dst.dtype}), got ({list(b.shape)}, {b.dtype})"
            )
    packed = np.stack(blocks)  # (world_size, *output.shape): MPI needs one send buffer
    finish = _avg(dst, group.size, "reduce_scatter") if op is ReduceOp.AVG else None
    request = group.comm.Ireduce_scatter_block(packed, dst, _mpi_op(op, "reduce_scatter"))
    return _run(request, f"reduce_scatter({op.name})", async_op, finish)


def _check_rank(peer: int, size: int, what: str, name: str) -> None:
    if not isinstance(peer, int) or not 0 <= peer < size:
        raise ValueError(f"{what}: {name} must be a rank in [0, {size - 1}], got {peer!r}")


def isend(tensor: Tensor, dst: int, tag: int = 0) -> Work:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` before changing the tensor."""
    group = _group()
    _check_rank(dst, group.size, "isend", "dst")
    arr = _buffer(tensor, "isend")
    return Work(group.comm.Isend(arr, dest=dst, tag=tag), f"isend(dst={dst}, tag={tag})")


def irecv(tensor: Tensor, src: int | None = None, tag: int = 0) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank)."""
    from mpi4py import MPI

    group = _group()
    if src is not None:
        _check_rank(src, group.size, "irecv", "src")
    arr = _buffer(tensor, "irecv")
    source = MPI.ANY_SOURCE if src is None else src
    return Work(group.comm.Irecv(arr, source=source, tag=tag), f"irecv(src={src}, tag={tag})")


def send(tensor: Tensor, dst: int, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst`` and wait until the buffer may be reused."""
    isend(tensor, dst, tag).wait()


def recv(tensor: Tensor, src: int | None = None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (None: any); returns the sender's rank."""
    from mpi4py import MPI

    group = _group()
    if src is not None:
        _check_rank(src, group.size, "recv", "src")
    arr = _buffer(tensor, "recv")
    status = MPI.Status()
    source = MPI.ANY_SOURCE if src is None else src
    request = group.comm.Irecv(arr, source=source, tag=tag)
    _wait(request, group, f"recv(src={src}, tag={tag})", status)
    return status.Get_source()
