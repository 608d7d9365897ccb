"""``SyncBatchNorm``: batch normalization with statistics over the whole global batch.

In training each rank sums its inputs and their squares per channel; one allreduce of those
sums (and of the element counts) gives every rank the global mean and biased variance, so N
ranks with per-rank batch B normalize exactly as one process with batch N*B. The allreduce is
itself an autograd op (its backward is an allreduce of the gradients), so the backward pass
sends the gradient of the statistics across ranks too, and double backward works. Running
statistics are updated from the global ones (unbiased variance), as PyTorch does. In eval mode,
or in a job of one process, it is plain batch normalization.

>>> import mytorch.nn as nn
>>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
>>> model = SyncBatchNorm.convert_sync_batchnorm(model)
>>> type(model[1]).__name__
'SyncBatchNorm'
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
import mytorch.nn as nn
import mytorch.nn.functional as F
from mytorch.core import Function, Tensor, from_numpy
from mytorch.distributed.collectives import all_reduce
from mytorch.distributed.process_group import get_world_size, is_initialized

__all__ = ["SyncBatchNorm", "all_reduce_sum"]


class AllReduceSum(Function):
    """``y = sum over ranks of x`` on every rank; the adjoint is the same sum of the grads."""

    @staticmethod
    def forward(ctx, x):
        out = np.array(x, copy=True)  # (same shape as x)
        all_reduce(from_numpy(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        # every rank's y depends on every rank's x: d(loss)/dx_r = sum_s d(loss_s)/dy
        return AllReduceSum.apply(grad)


def all_reduce_sum(x: Tensor) -> Tensor:
    """The sum of ``x`` over all ranks, differentiable (a new tensor; ``x`` is unchanged)."""
    return AllReduceSum.apply(x)


class SyncBatchNorm(nn.BatchNorm1d):
    """Batch normalization over (N, C, *) input whose training statistics span all ranks.

    Arguments as PyTorch's ``SyncBatchNorm`` (``process_group`` must be None: the default
    group). Use ``convert_sync_batchnorm`` to swap it in for a model's BatchNorm layers.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
    ) -> None:
        if process_group is not None:
            raise ValueError("SyncBatchNorm: only the default process group is supported")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: expected input (N, {self.num_features}, *), got shape "
                f"{list(input.shape)}"
            )
        world = get_world_size() if is_initialized() else 1
        if not self.training or world == 1:
            return self._local(input)
        c = self.num_features
        dims = (0, *range(2, input.ndim))
        shape = (1, c) + (1,) * (input.ndim - 2)  # broadcasts over (N, C, *)
        sums = all_reduce_sum(mt.cat([input.sum(dim=dims), (input * input).sum(dim=dims)]))
        count = from_numpy(np.array([input.numel() // c], np.float64))
        all_reduce(count)  # elements per channel over all ranks
        n = count.item()
        if n <= 1:
            raise ValueError(
                f"SyncBatchNorm: expected more than 1 value per channel in training, got {n:g}"
            )
        mean = sums[:c] / n  # (C,)
        var = (sums[c:] / n - mean * mean).clamp(min=0.0)  # (C,) biased, as normalization uses
        out = (input - mean.reshape(shape)) * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            self._update_running(mean.detach(), var.detach() * (n / (n - 1)))
        return out

    def _local(self, input: Tensor) -> Tensor:
        """Plain batch normalization (eval mode, or a job of one process)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def _update_running(self, mean: Tensor, unbiased_var: Tensor) -> None:
        self.num_batches_tracked.data[...] += 1
        if self.momentum is None:  # cumulative moving average
            factor = 1.0 / float(self.num_batches_tracked.item())
        else:
            factor = self.momentum
        for buf, new in ((self.running_mean, mean), (self.running_var, unbiased_var)):
            buf.data[...] = (1 - factor) * buf.data + factor * new.data.astype(buf.data.dtype)

    @classmethod
    def convert_sync_batchnorm(cls, module: nn.Module, process_group=None) -> nn.Module:
        """``module`` with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm holding its
        parameters and running statistics (the same tensors)."""
        if process_group is not None:
            raise ValueError("convert_sync_batchnorm: only the default process group")
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and not isinstance(
            module, SyncBatchNorm
        ):
            sync = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
            )
            if module.affine:
                sync.weight = module.weight
                sync.bias = module.bias
            if module.track_running_stats:
                sync.running_mean = module.running_mean
                sync.running_var = module.running_var
                sync.num_batches_tracked = module.num_batches_tracked
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module
