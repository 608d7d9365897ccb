"""``DistributedDataParallel``: one model replica per rank, gradients averaged during backward.

At construction rank 0's parameters and buffers are broadcast to every rank. Parameters are
grouped, in reverse registration order (roughly the order backward produces their gradients),
into buckets: the first small (1 MiB, so communication starts early), the rest up to
``bucket_cap_mb``. A post-accumulate-grad hook on each parameter copies its gradient into its
bucket's flat buffer; when a bucket's last gradient arrives, its non-blocking allreduce starts
while backward goes on with earlier layers. Buckets start in the same order on every rank
(MPI's rule for non-blocking collectives). When the last bucket has started, backward waits
for all of them, divides by the world size and points each ``.grad`` at its slice of the
bucket, so ``optimizer.step()`` sees the averaged gradients.

>>> import mytorch.core as mt, mytorch.nn as nn
>>> import mytorch.distributed as dist
>>> dist.init_process_group("mpi")
>>> model = dist.DistributedDataParallel(nn.Linear(4, 2))
>>> model(mt.randn(8, 4)).sum().backward()  # .grad: the mean over the ranks
>>> model.module.weight.grad.shape
(2, 4)
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import numpy as np

from mytorch.core import Tensor, from_numpy
from mytorch.distributed.collectives import Work
from mytorch.distributed.process_group import _group
from mytorch.nn import Module, Parameter

__all__ = ["DistributedDataParallel", "GradBucket", "allreduce_hook", "DEFAULT_FIRST_BUCKET_BYTES"]

DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's: a small first bucket starts comms early


class GradBucket:
    """What a communication hook gets: one bucket's flat gradient buffer and its parameters."""

    def __init__(self, bucket: _Bucket, last: bool) -> None:
        self._bucket = bucket
        self._last = last

    def index(self) -> int:
        return self._bucket.index

    def buffer(self) -> Tensor:
        """The flat gradient buffer (a tensor sharing the bucket's memory)."""
        return from_numpy(self._bucket.buffer)

    def parameters(self) -> list[Parameter]:
        return list(self._bucket.params)

    def is_last(self) -> bool:
        return self._last


def allreduce_hook(state, bucket: GradBucket) -> Work:
    """The default communication hook: a non-blocking sum of the bucket across ranks."""
    from mytorch.distributed.collectives import all_reduce

    return all_reduce(bucket.buffer(), async_op=True)


class _Bucket:
    """Parameters whose gradients travel in one flat buffer and one allreduce."""

    def __init__(self, index: int, params: list[Parameter], names: list[str]) -> None:
        self.index = index
        self.params = params
        self.names = names
        dtype = params[0].data.dtype
        self.offsets = np.cumsum([0] + [p.numel() for p in params]).tolist()
        self.buffer = np.zeros(self.offsets[-1], dtype)  # (total elements,)
        self.pending = len(params)
        self.work: Work | None = None

    def slot(self, i: int) -> np.ndarray:
        return self.buffer[self.offsets[i] : self.offsets[i + 1]]

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes


def _assign_buckets(
    named: list[tuple[str, Parameter]], cap_bytes: int, first_cap_bytes: int
) -> list[tuple[list[Parameter], list[str]]]:
    """Group parameters (already in reverse order) by dtype into buckets of about ``cap`` bytes.

    A bucket is closed once it reaches its cap (so it may exceed it by one tensor), as PyTorch's
    ``compute_bucket_assignment_by_size`` does; the first bucket of each dtype uses
    ``first_cap_bytes``.
    """
    open_buckets: dict = {}  # dtype -> (params, names, bytes)
    closed: list = []
    first_done: set = set()
    for name, p in named:
        key = p.data.dtype
        params, names, size = open_buckets.get(key, ([], [], 0))
        params.append(p)
        names.append(name)
        size += p.data.nbytes
        cap = cap_bytes if key in first_done else first_cap_bytes
        if size >= cap:
            closed.append((params, names))
            first_done.add(key)
            open_buckets.pop(key, None)
        else:
            open_buckets[key] = (params, names, size)
    closed.extend((params, names) for params, names, _ in open_buckets.values())
    return closed


class DistributedDataParallel(Module):
    """Data-parallel training of ``module``: call it like the module, then backward and step.

    ``bucket_cap_mb`` sets the bucket size (PyTorch's default, 25 MiB); ``broadcast_buffers``
    re-broadcasts rank 0's buffers (BatchNorm running statistics) before each training forward;
    ``find_unused_parameters`` walks the output's graph after forward and marks the
    parameters it does not reach as ready, so a model that skips some parameters in some steps
    still synchronizes (without it, such a model raises on the next forward).
    ``no_sync()`` skips synchronization for gradient accumulation.
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        *,
        first_bucket_cap_mb: float | None = None,
    ) -> None:
        super().__init__()
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError(
                "DistributedDataParallel: only CPU modules; leave device_ids and output_device "
                f"unset (got {device_ids!r}, {output_device!r})"
            )
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group is supported")
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a mytorch.nn.Module, got "
                f"{type(module).__name__}"
            )
        group = _group()
        self.module = module
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        cap_mb = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        first_mb = (
            DEFAULT_FIRST_BUCKET_BYTES / 2**20
            if first_bucket_cap_mb is None
            else float(first_bucket_cap_mb)
        )
        if cap_mb <= 0 or first_mb <= 0:
            raise ValueError(
                f"DistributedDataParallel: bucket sizes must be positive, got bucket_cap_mb="
                f"{bucket_cap_mb}, first_bucket_cap_mb={first_bucket_cap_mb}"
            )
        self.__dict__["_comm"] = group.comm
        self.__dict__["_world"] = group.size

        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_model_everywhere(named)
        self._sync_module_states()
        assignment = _assign_buckets(named[::-1], int(cap_mb * 2**20), int(first_mb * 2**20))
        buckets = [_Bucket(i, params, names) for i, (params, names) in enumerate(assignment)]
        self.__dict__["_buckets"] = buckets
        self.__dict__["_where"] = {
            id(p): (b, i) for b in buckets for i, p in enumerate(b.params)
        }  # id(param) -> (bucket, index in bucket)
        self.__dict__["_hook_handles"] = handles = []
        me = weakref.ref(self)  # the hooks must not keep a discarded wrapper alive

        def grad_ready(p: Parameter) -> None:
            ddp = me()
            if ddp is not None:
                ddp._grad_ready(p)
            else:  # the wrapper is gone: the module may be wrapped anew
                for handle in handles:
                    handle.remove()

        handles.extend(p.register_post_accumulate_grad_hook(grad_ready) for _, p in named)
        self.__dict__["_marked"] = set()  # ids of parameters whose gradient is in its bucket
        self.__dict__["_unused"] = set()  # ids found unused by find_unused_parameters
        self.__dict__["_next_bucket"] = 0
        self.__dict__["_syncing"] = False  # whether the current iteration synchronizes
        self.__dict__["_reduced"] = False  # whether it has already been synchronized
        self.__dict__["_comm_hook"] = (None, allreduce_hook)  # (state, hook)

    # ------------------------------------------------------------------ construction
    def _check_same_model_everywhere(self, named: list[tuple[str, Parameter]]) -> None:
        """Every rank must wrap the same architecture: compare names, shapes and dtypes."""
        signature = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = self._comm.allgather(signature)
        for rank, other in enumerate(everyone):
            if other != signature:
                diff = next(
                    (f"{a} vs {b}" for a, b in zip(signature, other) if a != b),
                    f"{len(signature)} vs {len(other)} parameters",
                )
                raise RuntimeError(
                    f"DistributedDataParallel: rank {self._comm.Get_rank()} and rank {rank} "
                    f"wrap different models (first difference: {diff})"
                )

    def _sync_module_states(self) -> None:
        """Broadcast rank 0's parameters and buffers to every rank, in place."""
        if self._world == 1:
            return
        states = [t for _, t in self.module.state_dict(keep_vars=True).items()]
        for t in states:
            if isinstance(t, Tensor):
                self._comm.Bcast(_contiguous(t), root=0)

    def _broadcast_buffers(self) -> None:
        for buf in self.module.buffers():
            self._comm.Bcast(_contiguous(buf), root=0)

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self._next_bucket or self._marked:
            self._unfinished_reduction_error()
        if self.training and self.broadcast_buffers and self._world > 1:
            self._broadcast_buffers()
        syncing = self.training and self.require_backward_grad_sync
        self.__dict__["_syncing"] = syncing
        self.__dict__["_reduced"] = False
        output = self.module(*inputs, **kwargs)
        if syncing:
            for bucket in self._buckets:
                bucket.pending = len(bucket.params)
            if self.find_unused_parameters:
                self._mark_unused(output)
        return output

    def _mark_unused(self, output) -> None:
        """Mark ready the parameters that ``output``'s graph does not reach."""
        reached = _graph_leaves(output)
        self._unused.clear()
        for bucket in self._buckets:
            for p in bucket.params:
                if id(p) not in reached:
                    self._unused.add(id(p))
        for bucket in self._buckets:
            for p in bucket.params:
                if id(p) in self._unused:
                    self._mark_ready(p)

    def _unfinished_reduction_error(self) -> None:
        missing = [
            name
            for b in self._buckets
            for p, name in zip(b.params, b.names)
            if id(p) not in self._marked
        ]
        self._reset()
        raise RuntimeError(
            "DistributedDataParallel: expected to have finished reduction in the prior "
            "iteration before starting a new one. The module has parameters that were not "
            "used in producing the loss; pass find_unused_parameters=True, or make sure every "
            "output takes part in the loss. Parameters that did not receive a gradient: "
            + ", ".join(missing)
        )

    # ------------------------------------------------------------------ backward
    def _grad_ready(self, p: Parameter) -> None:
        """The post-accumulate hook: ``p.grad`` is complete for this backward."""
        if not self._syncing:
            if self._reduced:
                raise RuntimeError(
                    "DistributedDataParallel: a second backward after one forward; its "
                    "gradients would not be synchronized. Call the model again before each "
                    "backward (use no_sync() to accumulate without synchronizing)"
                )
            return
        if id(p) in self._marked:
            bucket, i = self._where[id(p)]
            raise RuntimeError(
                f"DistributedDataParallel: parameter {bucket.names[i]} received its gradient "
                "twice in one iteration (backward run twice after one forward?); call the "
                "model again before each backward, or use no_sync() for accumulation"
            )
        self._mark_ready(p)

    def _mark_ready(self, p: Parameter) -> None:
        bucket, i = self._where[id(p)]
        slot = bucket.slot(i)
        if p.grad is None:
            slot[...] = 0
        else:
            slot[...] = p.grad.data.reshape(-1)
        self._marked.add(id(p))
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready()

    def _launch_ready(self) -> None:
        """Start, in bucket order, every bucket whose gradients are all in."""
        buckets = self._buckets
        state, hook = self._comm_hook
        while self._next_bucket < len(buckets) and buckets[self._next_bucket].pending == 0:
            bucket = buckets[self._next_bucket]
            bucket.work = hook(state, GradBucket(bucket, bucket.index == len(buckets) - 1))
            if not isinstance(bucket.work, Work):
                raise TypeError(
                    f"DistributedDataParallel: the communication hook must return a Work "
                    f"(e.g. all_reduce(..., async_op=True)), got {type(bucket.work).__name__}"
                )
            self.__dict__["_next_bucket"] = self._next_bucket + 1
        if self._next_bucket == len(buckets):
            self._finish()

    def _finish(self) -> None:
        """Wait for every bucket, average, and point each ``.grad`` at its bucket slice."""
        scale = 1.0 / self._world
        for bucket in self._buckets:
            bucket.work.wait()
            bucket.work = None
            if self._world > 1:
                bucket.buffer *= bucket.buffer.dtype.type(scale)
            for i, p in enumerate(bucket.params):
                slot = bucket.slot(i)
                if id(p) in self._unused and p.grad is None and not slot.any():
                    continue  # unused on every rank: the gradient stays None, as in PyTorch
                p.grad = from_numpy(slot.reshape(p.shape))
        self._reset()
        self.__dict__["_reduced"] = True

    def _reset(self) -> None:
        self.__dict__["_syncing"] = False
        self._marked.clear()
        self._unused.clear()
        self.__dict__["_next_bucket"] = 0
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None

    # ------------------------------------------------------------------ public helpers
    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context forward/backward only accumulate local gradients.

        The first forward-backward after the context synchronizes the accumulated gradients.
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def register_comm_hook(self, state, hook) -> None:
        """Replace the bucket allreduce: ``hook(state, bucket: GradBucket)`` must start the
        communication and return its ``Work``; when that work is done the bucket's buffer must
        hold the sum over ranks (DDP then divides by the world size). Called in bucket order,
        from backward, as soon as each bucket's gradients are all in.
        """
        if not callable(hook):
            raise TypeError(f"register_comm_hook: hook must be callable, got {hook!r}")
        self.__dict__["_comm_hook"] = (state, hook)

    @property
    def bucket_sizes(self) -> list[int]:
        """Each bucket's size in bytes, in launch order."""
        return [b.nbytes for b in self._buckets]

    @property
    def bucket_parameter_names(self) -> list[list[str]]:
        """The parameter names in each bucket, in launch order."""
        return [list(b.names) for b in self._buckets]


def _contiguous(t: Tensor) -> np.ndarray:
    arr = t.data
    if not arr.flags.c_contiguous:
        raise ValueError(
            f"DistributedDataParallel: parameters and buffers must be contiguous, got shape "
            f"{list(t.shape)} with strides {t.stride()}"
        )
    return arr


def _graph_leaves(output) -> set[int]:
    """ids of the leaf tensors that ``output``'s autograd graph reaches."""
    roots = []
    stack = [output]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Tensor):
            roots.append(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
    leaves: set[int] = set()
    seen: set[int] = set()
    nodes = []
    for t in roots:
        if t.grad_fn is None:
            leaves.add(id(t))
        else:
            nodes.append(t.grad_fn)
    while nodes:
        node = nodes.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next_functions:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                leaves.add(id(target))
            else:
                nodes.append(target)
    return leaves
