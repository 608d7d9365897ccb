"""Batch normalization: ``BatchNorm1d`` (and ``BatchNorm2d``/``BatchNorm3d``) over dim 1.

>>> import mytorch.core as mt
>>> bn = BatchNorm1d(3)
>>> _ = bn(mt.randn(8, 3))
>>> bn.num_batches_tracked.item()
1
"""

from __future__ import annotations

from mytorch.core import dtypes
from mytorch.core.creation import ones, tensor, zeros
from mytorch.core.ops.normalization import batch_norm
from mytorch.core.tensor import Tensor, increment_version
from mytorch.nn._affine import register_affine, reset_affine
from mytorch.nn._args import check_size
from mytorch.nn.linear import _check_device
from mytorch.nn.module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _BatchNorm(Module):
    """Shared by the BatchNorm classes: parameters, running statistics and forward."""

    _expected_dims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_device(device)
        num_features = check_size(type(self).__name__, "num_features", num_features)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_affine(self, num_features, affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self, self.affine)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            wanted = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"expected {wanted} input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            nbt.data += 1  # a counter, not a computation: no op (nothing for counters to see)
            increment_version(nbt)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Normalize (N, C) or (N, C, L) input per channel C.

    Training normalizes with the batch mean and biased variance and updates
    ``running_mean``/``running_var`` (unbiased variance) with ``momentum``
    (``None``: cumulative average); eval mode normalizes with the running statistics.
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Normalize (N, C, H, W) input per channel C (see BatchNorm1d)."""

    _expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Normalize (N, C, D, H, W) input per channel C (see BatchNorm1d)."""

    _expected_dims = (5,)
