"""The categorical distribution over ``{0, ..., K-1}``, parameterized by ``probs`` or ``logits``."""

from __future__ import annotations

import numpy as np

from mytorch.core import creation
from mytorch.core.distributions.distribution import Distribution
from mytorch.core.ops.activation import softmax
from mytorch.core.random import rng
from mytorch.core.tensor import Tensor


class Categorical(Distribution):
    """A batch of categorical distributions over the last dimension of ``probs`` or ``logits``.

    Exactly one of ``probs`` (non-negative, normalized along the last dimension) or ``logits``
    (unnormalized log-probabilities) is given; the other is derived. ``batch_shape`` is the
    parameter's shape without its last dimension, and samples are int64 indices.

    >>> import mytorch.core as mt
    >>> d = Categorical(probs=mt.tensor([0.25, 0.75]))
    >>> round(d.log_prob(mt.tensor(1)).exp().item(), 4)
    0.75
    """

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        param = probs if probs is not None else logits
        if not isinstance(param, Tensor):
            param = creation.as_tensor(param)
            param = param.float() if param.dtype.kind != "f" else param
        if param.ndim < 1:
            name = "probs" if probs is not None else "logits"
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self._probs = param / param.sum(-1, keepdim=True)
            self._logits = None
        else:
            self._logits = param - param.logsumexp(-1, keepdim=True)
            self._probs = None
        self._param = param
        self._num_events = param.shape[-1]
        super().__init__(batch_shape=tuple(param.shape[:-1]), validate_args=validate_args)
        if self._validate_args:
            self._validate_parameters(probs is not None)

    def _validate_parameters(self, from_probs: bool) -> None:
        if from_probs:
            p = self._probs.detach().numpy()
            ok = np.all(p >= 0, axis=-1) & (np.abs(p.sum(-1) - 1) < 1e-6)
            if not np.all(ok):
                raise self._invalid("parameter probs", p, "Simplex()")
        else:
            raw = self._param.detach().numpy()
            if np.isnan(raw).any():
                raise self._invalid("parameter logits", raw, "IndependentConstraint(Real(), 1)")

    def __repr__(self) -> str:
        name = "probs" if self._logits is None else "logits"
        return f"Categorical({name}: {tuple(self._param.shape)})"

    @property
    def probs(self) -> Tensor:
        """Normalized probabilities, shape ``batch_shape + (K,)``."""
        if self._probs is None:
            self._probs = softmax(self._logits, -1)
        return self._probs

    @property
    def logits(self) -> Tensor:
        """Normalized log-probabilities (they log-sum-exp to 0), shape ``batch_shape + (K,)``."""
        if self._logits is None:
            # PyTorch clamps probabilities into [eps, 1 - eps] before the log
            eps = float(np.finfo(self._probs.dtype).eps)
            self._logits = self._probs.clamp(eps, 1 - eps).log()
        return self._logits

    @property
    def param_shape(self) -> tuple[int, ...]:
        return tuple(self._param.shape)

    @property
    def mean(self) -> Tensor:
        """Undefined for a categorical: NaN, as in PyTorch."""
        return creation.full(self.batch_shape, float("nan"), dtype=self._param.dtype)

    @property
    def variance(self) -> Tensor:
        return creation.full(self.batch_shape, float("nan"), dtype=self._param.dtype)

    @property
    def mode(self) -> Tensor:
        """The most likely category of each distribution, int64 of shape ``batch_shape``."""
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()) -> Tensor:
        """Int64 indices of shape ``sample_shape + batch_shape``, drawn from the global generator."""
        shape = self._extended_shape(sample_shape)
        p = self.probs.detach().numpy().astype(np.float64)  # (*batch, K)
        cdf = np.cumsum(p, axis=-1)
        cdf /= cdf[..., -1:]  # rounding must not leave the last bin short of 1
        u = rng().random(shape)[..., None]  # (*sample, *batch, 1)
        index = (u >= cdf).sum(-1)  # inverse CDF: the first bin whose cdf exceeds u
        return creation.from_numpy(np.minimum(index, self._num_events - 1).astype(np.int64))

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(value): ``value`` holds indices broadcastable with ``batch_shape``."""
        if not isinstance(value, Tensor):
            value = creation.as_tensor(value)
        if self._validate_args:
            self._check_value_shape(value)
            v = value.detach().numpy()
            ok = (np.mod(v, 1) == 0) & (v >= 0) & (v <= self._num_events - 1)
            if not np.all(ok):
                raise ValueError(
                    f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be "
                    f"within the support (IntegerInterval(lower_bound=0, upper_bound="
                    f"{self._num_events - 1})) of the distribution {self!r}, but found invalid "
                    f"values:\n{v}"
                )
        index = value.long().unsqueeze(-1)  # (*value, 1)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(index.shape[:-1]), self.batch_shape)
        if tuple(logits.shape[:-1]) != shape:
            logits = logits.expand(*shape, self._num_events)
        if tuple(index.shape[:-1]) != shape:
            index = index.expand(*shape, 1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """``-sum p log p`` over the categories, shape ``batch_shape``."""
        min_real = float(np.finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=min_real) * self.probs).sum(-1)
