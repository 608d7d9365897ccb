"""Policy heads: a linear layer from features to an action distribution.

``CategoricalHead`` gives a ``Categorical`` over discrete actions; ``DiagGaussianHead`` gives a
``DiagNormal``: independent normals per action dimension whose ``log_prob`` and ``entropy`` sum
over that dimension (PyTorch's ``Independent(Normal(mean, std), 1)``).
"""

from __future__ import annotations

import math

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core.distributions import Categorical, Normal


def layer_init(layer: nn.Linear, std: float = math.sqrt(2), bias: float = 0.0) -> nn.Linear:
    """Orthogonal weights with gain ``std`` and a constant bias (the usual PPO initialization)."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class DiagNormal:
    """Independent normals over the last dimension: one distribution per row of actions."""

    has_rsample = True

    def __init__(self, mean: mt.Tensor, std: mt.Tensor) -> None:
        self.base = Normal(mean, std, validate_args=False)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.base.batch_shape[:-1]

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.base.batch_shape[-1:]

    @property
    def mean(self) -> mt.Tensor:
        return self.base.mean

    @property
    def mode(self) -> mt.Tensor:
        return self.base.mean

    @property
    def stddev(self) -> mt.Tensor:
        return self.base.stddev

    def sample(self, sample_shape=()) -> mt.Tensor:
        return self.base.sample(sample_shape)

    def rsample(self, sample_shape=()) -> mt.Tensor:
        return self.base.rsample(sample_shape)

    def log_prob(self, value: mt.Tensor) -> mt.Tensor:
        """Sum over the action dimension of the per-dimension log-densities: (*batch,)."""
        return self.base.log_prob(value).sum(-1)

    def entropy(self) -> mt.Tensor:
        return self.base.entropy().sum(-1)


class CategoricalHead(nn.Module):
    """Features (B, F) -> ``Categorical`` over ``n_actions``; the small initial gain ``std``
    starts the policy near uniform."""

    def __init__(self, in_features: int, n_actions: int, std: float = 0.01) -> None:
        super().__init__()
        self.linear = layer_init(nn.Linear(in_features, n_actions), std)

    def forward(self, features: mt.Tensor) -> Categorical:
        return Categorical(logits=self.linear(features), validate_args=False)


class DiagGaussianHead(nn.Module):
    """Features (B, F) -> ``DiagNormal`` over ``action_dim`` dimensions: a linear mean and a
    learned, state-independent log standard deviation starting at ``log_std_init``."""

    def __init__(
        self, in_features: int, action_dim: int, std: float = 0.01, log_std_init: float = 0.0
    ) -> None:
        super().__init__()
        self.mean = layer_init(nn.Linear(in_features, action_dim), std)
        self.log_std = nn.Parameter(mt.full((action_dim,), float(log_std_init)))

    def forward(self, features: mt.Tensor) -> DiagNormal:
        mean = self.mean(features)  # (B, A)
        return DiagNormal(mean, self.log_std.exp().expand_as(mean))
