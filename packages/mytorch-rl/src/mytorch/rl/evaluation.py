"""Evaluation of a policy: N full episodes on fresh environments, mean and std of the returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np


@dataclass
class EvalResult:
    mean: float  # mean undiscounted return over the episodes
    std: float  # population standard deviation of the returns
    returns: list[float]
    lengths: list[int]

    def __str__(self) -> str:
        return f"{self.mean:.1f} +- {self.std:.1f} over {len(self.returns)} episodes"


def evaluate(
    policy: Callable[[np.ndarray], np.ndarray],
    env_id: str,
    n_episodes: int = 20,
    seed: int = 0,
    max_steps: int | None = None,
    **make_kwargs,
) -> EvalResult:
    """Run ``n_episodes`` episodes of ``env_id`` (episode k reset with ``seed + k``), all at once.

    ``policy`` maps a batch of observations (B, *obs_shape) to a batch of actions (B, ...);
    pass a deterministic one (greedy / distribution mode) for a deterministic evaluation, and
    apply any observation normalization inside it. Continuous actions are clipped to the
    action space's bounds, as during training.
    """
    if n_episodes < 1:
        raise ValueError(f"evaluate: n_episodes must be >= 1, got {n_episodes}")
    envs = [gym.make(env_id, **make_kwargs) for _ in range(n_episodes)]
    space = envs[0].action_space
    obs = np.stack([env.reset(seed=seed + k)[0] for k, env in enumerate(envs)])
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    alive = np.ones(n_episodes, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        actions = np.asarray(policy(obs[idx]))
        if isinstance(space, gym.spaces.Box):
            actions = np.clip(actions, space.low, space.high)
        for j, i in enumerate(idx):
            o, r, term, trunc, _ = envs[i].step(actions[j])
            obs[i] = o
            returns[i] += r
            lengths[i] += 1
            if term or trunc or (max_steps is not None and lengths[i] >= max_steps):
                alive[i] = False
    for env in envs:
        env.close()
    return EvalResult(
        float(returns.mean()), float(returns.std()), returns.tolist(), lengths.tolist()
    )
