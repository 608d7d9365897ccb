"""Vectorized gymnasium environments and what the learners need around them: seeding, the
true next observation at episode ends, and episode statistics.

The vector environments are gymnasium's own ``SyncVectorEnv``/``AsyncVectorEnv`` in the
same-step autoreset mode: when a sub-environment's episode ends, ``step`` returns the first
observation of its next episode and puts the last one in ``info["final_obs"]``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

import mytorch.core as mt


def seed_everything(seed: int) -> np.random.Generator:
    """Seed mytorch's global generator, NumPy's and Python's global ones; returns a NumPy
    generator seeded with ``seed`` for the caller's own draws (exploration, minibatches)."""
    mt.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return np.random.default_rng(seed)


def make_vec_env(
    env_id: str,
    num_envs: int = 1,
    asynchronous: bool = False,
    wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
    **make_kwargs,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id`` in a gymnasium vector env (same-step autoreset).

    Start it with ``seed_env(envs, seed)``: sub-environment i is reset with ``seed + i``
    and the action spaces are seeded too, so the whole run is reproducible.
    """
    if num_envs < 1:
        raise ValueError(f"make_vec_env: num_envs must be >= 1, got {num_envs}")

    def thunk() -> gym.Env:
        env = gym.make(env_id, **make_kwargs)
        for wrap in wrappers:
            env = wrap(env)
        return env

    cls = AsyncVectorEnv if asynchronous else SyncVectorEnv
    return cls([thunk] * num_envs, autoreset_mode=AutoresetMode.SAME_STEP)


def seed_env(env: gym.Env | gym.vector.VectorEnv, seed: int) -> np.ndarray:
    """Reset ``env`` with ``seed`` (vector envs: sub-env i gets seed + i) and seed its action
    and observation spaces; returns the first observation."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    if isinstance(env, gym.vector.VectorEnv):
        env.single_action_space.seed(seed)
    return obs


def final_observations(next_obs: np.ndarray, infos: dict) -> np.ndarray:
    """The observation each sub-environment's step actually reached: ``next_obs`` except where
    an episode ended, where it is ``info["final_obs"]`` (same-step autoreset)."""
    if "final_obs" not in infos:
        return next_obs
    real = np.array(next_obs, copy=True)
    for i in np.flatnonzero(infos["_final_obs"]):
        real[i] = infos["final_obs"][i]
    return real


class EpisodeTracker:
    """Sums rewards per sub-environment and reports each finished episode's return and length."""

    def __init__(self, num_envs: int) -> None:
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.lengths = np.zeros(num_envs, dtype=np.int64)

    def step(
        self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray
    ) -> list[tuple[float, int]]:
        """Add one vector step; returns ``(return, length)`` of the episodes that ended in it."""
        self.returns += rewards
        self.lengths += 1
        done = np.logical_or(terminated, truncated)
        finished = [(float(self.returns[i]), int(self.lengths[i])) for i in np.flatnonzero(done)]
        self.returns[done] = 0.0
        self.lengths[done] = 0
        return finished
