"""The networks the algorithms train: MLPs, a Q-network and an actor-critic."""

from __future__ import annotations

import math
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.rl.heads import CategoricalHead, DiagGaussianHead, layer_init

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    output_std: float | None = None,
    orthogonal: bool = True,
) -> nn.Sequential:
    """Linear layers of widths ``sizes`` (input first) with ``activation`` between them.

    With ``orthogonal`` the hidden layers get orthogonal weights of gain sqrt(2) and the last
    ``output_std`` (1 when None); otherwise PyTorch's default initialization is kept.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"mlp: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        )
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        linear = nn.Linear(n_in, n_out)
        if orthogonal:
            layer_init(
                linear, (1.0 if output_std is None else output_std) if last else math.sqrt(2)
            )
        layers.append(linear)
        if not last:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def trunk(sizes: Sequence[int], activation: str = "tanh") -> nn.Sequential:
    """Hidden layers only: each Linear (orthogonal, gain sqrt(2)) followed by ``activation``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [layer_init(nn.Linear(n_in, n_out)), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def space_dims(space: gym.Space) -> tuple[int, ...]:
    """The shape of an observation space (Box) or the size of a Discrete one as (n,)."""
    if isinstance(space, gym.spaces.Box):
        return tuple(space.shape)
    raise ValueError(f"only Box observation spaces are supported, got {space}")


class QNetwork(nn.Module):
    """Observations (B, obs_dim) -> action values (B, n_actions) by an MLP with ReLU."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: Sequence[int] = (120, 84)) -> None:
        super().__init__()
        self.net = mlp([obs_dim, *hidden, n_actions], "relu", orthogonal=False)

    def forward(self, obs: mt.Tensor) -> mt.Tensor:
        return self.net(obs)


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (no shared trunk), for discrete or continuous actions.

    The actor ends in a ``CategoricalHead`` for a ``Discrete`` action space and a
    ``DiagGaussianHead`` for a ``Box`` one; the critic outputs V(s) of shape (B,).

    >>> import gymnasium as gym
    >>> ac = ActorCritic(4, gym.spaces.Discrete(2))
    >>> action, log_prob, entropy, value = ac.get_action_and_value(mt.zeros(3, 4))
    >>> action.shape, value.shape
    ((3,), (3,))
    """

    def __init__(
        self,
        obs_dim: int,
        action_space: gym.Space,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
        log_std_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.critic = mlp([obs_dim, *hidden, 1], activation, output_std=1.0)
        self.actor_body = trunk([obs_dim, *hidden], activation)
        feat = hidden[-1] if hidden else obs_dim
        if isinstance(action_space, gym.spaces.Discrete):
            self.actor_head = CategoricalHead(feat, int(action_space.n))
            self.continuous = False
        elif isinstance(action_space, gym.spaces.Box):
            self.actor_head = DiagGaussianHead(
                feat, int(np.prod(action_space.shape)), log_std_init=log_std_init
            )
            self.continuous = True
        else:
            raise ValueError(f"ActorCritic: unsupported action space {action_space}")

    def get_value(self, obs: mt.Tensor) -> mt.Tensor:
        """V(obs), shape (B,)."""
        return self.critic(obs).squeeze(-1)

    def distribution(self, obs: mt.Tensor):
        """The policy's action distribution at ``obs`` (batch shape (B,))."""
        return self.actor_head(self.actor_body(obs))

    def get_action_and_value(
        self, obs: mt.Tensor, action: mt.Tensor | None = None
    ) -> tuple[mt.Tensor, mt.Tensor, mt.Tensor, mt.Tensor]:
        """(action, log_prob(action), entropy, value), sampling the action when none is given."""
        dist = self.distribution(obs)
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.get_value(obs)

    def act(self, obs: mt.Tensor, deterministic: bool = True) -> mt.Tensor:
        """The mode (most likely action / mean) or a sample of the policy at ``obs``."""
        dist = self.distribution(obs)
        return dist.mode if deterministic else dist.sample()
