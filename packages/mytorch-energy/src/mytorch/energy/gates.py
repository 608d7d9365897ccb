"""Hard-concrete L0 gates (Louizos, Welling and Kingma 2018) that switch whole channels off.

``L0Gate(C)`` multiplies channel ``c`` of its input (dim 1; ``(N, C)`` or ``(N, C, H, W, ...)``)
by a gate ``z_c`` in [0, 1] that is exactly 0 with a probability learned through ``log_alpha``.
Penalising ``expected_active()`` (the expected number of non-zero gates) drives channels to
exact zeros, which can then be pruned: ``mask()`` says which channels survive.

>>> import mytorch.core as mt
>>> gate = L0Gate(3).eval()
>>> gate(mt.ones(2, 3)).shape
(2, 3)
"""

from __future__ import annotations

import math

import numpy as np

import mytorch.core as mt
from mytorch.core.creation import from_numpy
from mytorch.core.random import rng
from mytorch.core.tensor import Tensor
from mytorch.nn import Module, Parameter

__all__ = ["L0Gate"]

# Uniform noise is drawn from U(_EPS, 1 - _EPS) so that log(u) - log(1 - u) stays finite.
_EPS = 1e-6


class L0Gate(Module):
    """Per-channel hard-concrete gates over dim 1 of the input.

    Args:
        num_features: number of channels C (the size of dim 1 of the input).
        init_keep: initial ``sigmoid(log_alpha)`` for every channel, in (0, 1): ``log_alpha``
            starts at ``log(init_keep / (1 - init_keep))``, the "1 - droprate_init" convention
            of the paper's code (without its small random jitter). With the defaults the initial
            eval gate is ``0.9 * 1.2 - 0.1 = 0.98`` and the probability of a non-zero gate 0.978.
        temperature: beta of the concrete distribution, > 0 (the paper uses 2/3).
        limits: ``(l, r)``, the interval the concrete sample is stretched to before clipping to
            [0, 1]; needs ``l < 0`` and ``r > 1`` so that exact zeros and ones occur.
        dtype: dtype of ``log_alpha`` (default: the default float dtype).

    Training forward: one noise sample per minibatch element and channel (as in the paper's
    code for convolutions), shared over the spatial positions:
    ``u ~ U(1e-6, 1 - 1e-6)`` from the global generator (``mt.manual_seed`` controls it),
    ``s = sigmoid((log u - log(1 - u) + log_alpha) / temperature)``,
    ``z = clamp(s * (r - l) + l, 0, 1)``, ``out = x * z``.
    Eval forward: deterministic ``z = clamp(sigmoid(log_alpha) * (r - l) + l, 0, 1)``.
    """

    def __init__(
        self,
        num_features: int,
        init_keep: float = 0.9,
        temperature: float = 2.0 / 3.0,
        limits: tuple[float, float] = (-0.1, 1.1),
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer):
            raise TypeError(
                f"L0Gate: num_features must be an int, got {type(num_features).__name__}"
            )
        if num_features < 1:
            raise ValueError(f"L0Gate: num_features must be >= 1, got {num_features}")
        if not 0.0 < float(init_keep) < 1.0:
            raise ValueError(f"L0Gate: init_keep must lie in (0, 1), got {init_keep}")
        if not (math.isfinite(float(temperature)) and float(temperature) > 0.0):
            raise ValueError(f"L0Gate: temperature must be a finite number > 0, got {temperature}")
        try:
            low, high = (float(v) for v in limits)
        except (TypeError, ValueError):
            raise ValueError(
                f"L0Gate: limits must be a pair (l, r) of numbers, got {limits!r}"
            ) from None
        if not (low < 0.0 and high > 1.0 and math.isfinite(low) and math.isfinite(high)):
            raise ValueError(
                f"L0Gate: limits (l, r) must satisfy l < 0 and r > 1 (finite), got {limits!r}"
            )
        self.num_features = int(num_features)
        self.init_keep = float(init_keep)
        self.temperature = float(temperature)
        self.limits = (low, high)
        init = math.log(self.init_keep) - math.log1p(-self.init_keep)
        self.log_alpha = Parameter(mt.full((self.num_features,), init, dtype=dtype))

    # ------------------------------------------------------------------ gate values
    def _stretch(self, s: Tensor) -> Tensor:
        low, high = self.limits
        return (s * (high - low) + low).clamp(0.0, 1.0)

    def deterministic_gate(self) -> Tensor:
        """The eval-mode gate, shape (C,): ``clamp(sigmoid(log_alpha) * (r - l) + l, 0, 1)``."""
        return self._stretch(self.log_alpha.sigmoid())

    def sample_gate(self, batch_size: int) -> Tensor:
        """Training-mode gates, shape (batch_size, C), one noise draw per element and channel."""
        u = rng().uniform(_EPS, 1.0 - _EPS, size=(int(batch_size), self.num_features))
        noise = from_numpy((np.log(u) - np.log1p(-u)).astype(self.log_alpha.dtype))
        return self._stretch(((noise + self.log_alpha) / self.temperature).sigmoid())

    def prob_nonzero(self) -> Tensor:
        """P(z_c != 0) per channel, differentiable: ``sigmoid(log_alpha - beta * log(-l / r))``."""
        low, high = self.limits
        return (self.log_alpha - self.temperature * math.log(-low / high)).sigmoid()

    def expected_active(self) -> Tensor:
        """Expected number of non-zero gates: the sum of ``prob_nonzero()`` (the L0 penalty)."""
        return self.prob_nonzero().sum()

    def mask(self) -> np.ndarray:
        """Bool array (C,): the channels whose eval-mode gate is > 0 (the ones to keep)."""
        return np.asarray(self.deterministic_gate().data > 0.0)

    # ------------------------------------------------------------------ forward
    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"L0Gate: input must be a Tensor, got {type(input).__name__}")
        if input.ndim < 2 or input.shape[1] != self.num_features:
            raise ValueError(
                f"L0Gate: expected input of shape (N, {self.num_features}, ...) with "
                f"{self.num_features} channels along dim 1, got shape {tuple(input.shape)}"
            )
        trailing = (1,) * (input.ndim - 2)
        if self.training:
            z = self.sample_gate(input.shape[0]).reshape(
                input.shape[0], self.num_features, *trailing
            )
        else:
            z = self.deterministic_gate().reshape(1, self.num_features, *trailing)
        return input * z

    def extra_repr(self) -> str:
        low, high = self.limits
        return (
            f"{self.num_features}, init_keep={self.init_keep}, "
            f"temperature={self.temperature:.4g}, limits=({low}, {high})"
        )
