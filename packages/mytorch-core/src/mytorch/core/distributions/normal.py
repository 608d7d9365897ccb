"""The normal (Gaussian) distribution with mean ``loc`` and standard deviation ``scale``."""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from mytorch.core import creation
from mytorch.core.distributions.distribution import Distribution
from mytorch.core.grad_mode import no_grad
from mytorch.core.random import rng
from mytorch.core.tensor import Tensor

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def _broadcast_all(*values) -> list[Tensor]:
    """Numbers and tensors as tensors of one broadcast shape (numbers take a tensor's dtype)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, Number)):
            raise ValueError(
                f"Input arguments must all be instances of numbers or Tensor, got {type(v)}"
            )
    dtype = tensors[0].dtype if tensors else None
    out = [v if isinstance(v, Tensor) else creation.tensor(float(v), dtype=dtype) for v in values]
    shape = np.broadcast_shapes(*(tuple(v.shape) for v in out))
    return [v if tuple(v.shape) == shape else v.expand(*shape) for v in out]


class Normal(Distribution):
    """A batch of univariate normal distributions N(loc, scale**2).

    ``loc`` and ``scale`` (> 0) are tensors or numbers that broadcast to ``batch_shape``.
    ``rsample`` draws ``loc + scale * eps`` so gradients reach both parameters.

    >>> import mytorch.core as mt
    >>> d = Normal(mt.tensor([0.0, 1.0]), mt.tensor([1.0, 2.0]))
    >>> d.batch_shape, d.rsample((5,)).shape
    ((2,), (5, 2))
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = _broadcast_all(loc, scale)
        self._scalar_args = isinstance(loc, Number) and isinstance(scale, Number)
        super().__init__(batch_shape=tuple(self.loc.shape), validate_args=validate_args)
        if self._validate_args:
            loc_np, scale_np = self.loc.detach().numpy(), self.scale.detach().numpy()
            if np.isnan(loc_np).any():
                raise self._invalid("parameter loc", loc_np, "Real()")
            if not np.all(scale_np > 0):
                raise self._invalid("parameter scale", scale_np, "GreaterThan(lower_bound=0.0)")

    def __repr__(self) -> str:
        def show(t: Tensor) -> str:
            return f"{t.reshape(-1)[0].item()}" if t.numel() == 1 else f"{tuple(t.shape)}"

        return f"Normal(loc: {show(self.loc)}, scale: {show(self.scale)})"

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def _eps(self, sample_shape) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return creation.from_numpy(rng().standard_normal(shape).astype(self.loc.dtype))

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape ``sample_shape + batch_shape``, without gradient."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()) -> Tensor:
        """Reparameterized draws ``loc + scale * eps``, eps ~ N(0, 1): differentiable."""
        return self.loc + self._eps(sample_shape) * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        """``-(value - loc)**2 / (2 scale**2) - log(scale) - log(sqrt(2 pi))``."""
        if not isinstance(value, Tensor):
            value = creation.tensor(float(value), dtype=self.loc.dtype)
        if self._validate_args:
            self._check_value_shape(value)
            v = value.detach().numpy()
            if np.isnan(v).any():
                raise ValueError(
                    f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be "
                    f"within the support (Real()) of the distribution {self!r}, but found "
                    f"invalid values:\n{v}"
                )
        var = self.scale.pow(2)
        return -((value - self.loc).pow(2)) / (2 * var) - self.scale.log() - _LOG_SQRT_2PI

    def entropy(self) -> Tensor:
        """``0.5 + 0.5 log(2 pi) + log(scale)``, shape ``batch_shape``."""
        return self.scale.log() + (0.5 + 0.5 * math.log(2 * math.pi))
