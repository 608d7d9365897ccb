"""On-policy storage: T steps of N environments, then advantages and returns by GAE(lambda)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mytorch.rl.returns import compute_gae


class RolloutBuffer:
    """Fixed-size storage of one rollout of ``num_steps`` steps in ``num_envs`` environments.

    Fill it with ``add`` once per vector step, call ``compute_returns_and_advantages`` with the
    value of the observation after the last step, then iterate ``minibatches`` (or read the
    flattened ``data()``), and ``reset``. Episode ends follow gymnasium's flags (see
    ``mytorch.rl.returns``): pass ``final_values`` = V(final observation) for environments that
    were truncated at that step, so their return bootstraps across the cut.

    >>> buf = RolloutBuffer(2, 1, obs_shape=(3,))
    >>> for _ in range(2):
    ...     buf.add(np.zeros((1, 3)), np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1),
    ...             np.zeros(1), np.zeros(1))
    >>> buf.compute_returns_and_advantages(np.zeros(1), gamma=0.5, gae_lambda=1.0)
    >>> buf.returns[:, 0].tolist()
    [1.5, 1.0]
    """

    def __init__(
        self,
        num_steps: int,
        num_envs: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...] = (),
        action_dtype=np.int64,
    ) -> None:
        self.num_steps, self.num_envs = int(num_steps), int(num_envs)
        t, n = self.num_steps, self.num_envs
        self.obs = np.zeros((t, n, *obs_shape), dtype=np.float32)
        self.actions = np.zeros((t, n, *action_shape), dtype=action_dtype)
        self.log_probs = np.zeros((t, n), dtype=np.float32)
        self.rewards = np.zeros((t, n), dtype=np.float32)
        self.terminated = np.zeros((t, n), dtype=np.float32)
        self.truncated = np.zeros((t, n), dtype=np.float32)
        self.values = np.zeros((t, n), dtype=np.float32)
        self.final_values = np.zeros((t, n), dtype=np.float32)
        self.advantages = np.zeros((t, n), dtype=np.float32)
        self.returns = np.zeros((t, n), dtype=np.float32)
        self.step = 0

    @property
    def full(self) -> bool:
        return self.step == self.num_steps

    def reset(self) -> None:
        self.step = 0

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        log_probs: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        values: np.ndarray,
        final_values: np.ndarray | None = None,
    ) -> None:
        """Record one vector step: ``obs`` is what the actions were taken in (N, *obs_shape)."""
        if self.full:
            raise RuntimeError(
                f"RolloutBuffer.add: the buffer already holds {self.num_steps} steps; "
                "call reset() after using them"
            )
        t = self.step
        self.obs[t] = obs
        self.actions[t] = actions
        self.log_probs[t] = log_probs
        self.rewards[t] = rewards
        self.terminated[t] = terminated
        self.truncated[t] = truncated
        self.values[t] = values
        self.final_values[t] = 0.0 if final_values is None else final_values
        self.step += 1

    def next_values(self, last_values: np.ndarray) -> np.ndarray:
        """V of the state each step reached, (T, N): the next step's value inside an episode,
        ``last_values`` after the rollout's last step, ``final_values`` where an episode ended."""
        nxt = np.empty_like(self.values)
        nxt[:-1] = self.values[1:]
        nxt[-1] = last_values
        done = (self.terminated + self.truncated) > 0
        nxt[done] = self.final_values[done]
        return nxt

    def compute_returns_and_advantages(
        self, last_values: np.ndarray, gamma: float = 0.99, gae_lambda: float = 0.95
    ) -> None:
        """Fill ``advantages`` and ``returns`` (T, N) by GAE(lambda)."""
        if not self.full:
            raise RuntimeError(
                f"RolloutBuffer: only {self.step} of {self.num_steps} steps were added"
            )
        self.advantages[:], self.returns[:] = compute_gae(
            self.rewards,
            self.values,
            self.next_values(np.asarray(last_values, dtype=np.float32)),
            self.terminated,
            self.truncated,
            gamma,
            gae_lambda,
        )

    def data(self) -> dict[str, np.ndarray]:
        """Every field flattened over (T, N) to a batch of T * N samples."""
        b = self.num_steps * self.num_envs
        fields = ("obs", "actions", "log_probs", "values", "advantages", "returns")
        return {k: getattr(self, k).reshape(b, *getattr(self, k).shape[2:]) for k in fields}

    def minibatches(
        self, batch_size: int, rng: np.random.Generator
    ) -> Iterator[dict[str, np.ndarray]]:
        """One shuffled pass over the flattened rollout in minibatches of ``batch_size``."""
        data = self.data()
        order = rng.permutation(self.num_steps * self.num_envs)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            yield {k: v[idx] for k, v in data.items()}
