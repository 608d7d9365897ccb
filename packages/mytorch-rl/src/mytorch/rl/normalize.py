"""Running normalization of observations and of rewards (by the scale of discounted returns)."""

from __future__ import annotations

import numpy as np


class RunningMeanStd:
    """Mean and variance of every sample seen so far, merged batch by batch (Chan et al.)."""

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = float(epsilon)  # a tiny prior count keeps the first update well defined

    def update(self, batch: np.ndarray) -> None:
        """Fold in a batch of samples (B, *shape)."""
        batch = np.asarray(batch, dtype=np.float64)
        b_mean, b_var, b_count = batch.mean(0), batch.var(0), batch.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float64).reshape(self.mean.shape)
        self.var = np.asarray(state["var"], dtype=np.float64).reshape(self.var.shape)
        self.count = float(state["count"])


class ObservationNormalizer:
    """``clip((obs - mean) / sqrt(var + eps), -clip, clip)`` with running statistics.

    >>> norm = ObservationNormalizer((2,))
    >>> out = norm(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> np.round(out, 3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.rms = RunningMeanStd(shape)
        self.clip, self.epsilon = float(clip), float(epsilon)

    def __call__(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        """Normalize a batch (B, *shape); ``update`` folds it into the statistics first."""
        if update:
            self.rms.update(obs)
        out = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict:
        return self.rms.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.rms.load_state_dict(state)


class RewardNormalizer:
    """Rewards divided by the running standard deviation of each environment's discounted
    return (the scaling of gymnasium's ``NormalizeReward``), then clipped.

    The running return restarts at every episode end.
    """

    def __init__(
        self, num_envs: int, gamma: float = 0.99, clip: float = 10.0, epsilon: float = 1e-8
    ) -> None:
        self.rms = RunningMeanStd(())
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.gamma, self.clip, self.epsilon = float(gamma), float(clip), float(epsilon)

    def __call__(self, rewards: np.ndarray, dones: np.ndarray, update: bool = True) -> np.ndarray:
        """Scale one vector step of rewards (N,); ``dones`` (N,) marks episodes that ended."""
        self.returns = self.returns * self.gamma + rewards
        if update:
            self.rms.update(self.returns)
        self.returns[np.asarray(dones, dtype=bool)] = 0.0
        out = rewards / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict:
        return {**self.rms.state_dict(), "returns": self.returns.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.rms.load_state_dict(state)
        self.returns = np.asarray(state["returns"], dtype=np.float64).copy()
