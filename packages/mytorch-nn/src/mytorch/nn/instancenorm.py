"""Instance normalization: each channel of each sample normalized by its own statistics.

>>> import mytorch.core as mt
>>> norm = InstanceNorm2d(3)
>>> norm
InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
>>> y = norm(mt.randn(2, 3, 8, 8))
>>> bool(abs(y.mean((2, 3))).max() < 1e-5)
True
"""

from __future__ import annotations

import warnings

from mytorch.core import functional as F
from mytorch.core.tensor import Tensor
from mytorch.nn.batchnorm import _BatchNorm

__all__ = ["InstanceNorm1d", "InstanceNorm2d"]


class _InstanceNorm(_BatchNorm):
    """Shared by the InstanceNorm classes (parameters and buffers as in BatchNorm).

    Statistics come from each (sample, channel) slice. With ``track_running_stats`` the
    training batches update ``running_mean``/``running_var`` (averaged over the batch) and
    eval mode normalizes with them; ``momentum=None`` leaves them unchanged.
    ``num_batches_tracked`` is kept (for state_dict parity) but not counted, as in PyTorch.
    """

    _no_batch_dim: int = 0

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def _apply_instance_norm(self, input: Tensor) -> Tensor:
        return F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can "
                "silence this warning by not passing in num_features, which is not used "
                "because affine=False",
                stacklevel=2,
            )
        if input.ndim == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Normalize each channel of (N, C, L) or (C, L) input over L."""

    _expected_dims = (2, 3)
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Normalize each channel of (N, C, H, W) or (C, H, W) input over H and W."""

    _expected_dims = (3, 4)
    _no_batch_dim = 3
