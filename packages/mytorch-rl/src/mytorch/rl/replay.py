"""Experience replay for off-policy learning: a uniform ring buffer and a prioritized one.

Transitions are stored as NumPy arrays (observations float32) and sampled as NumPy arrays;
the learner turns a batch into tensors. ``terminated`` is stored, not ``truncated``: a target
bootstraps from ``next_obs`` unless the state was terminal, and after a truncation
``next_obs`` is the episode's final observation (gymnasium's ``info["final_obs"]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ReplayBatch:
    """A sampled batch; ``weights`` are importance weights (all ones for uniform sampling)."""

    obs: np.ndarray  # (B, *obs_shape) float32
    actions: np.ndarray  # (B, *action_shape)
    rewards: np.ndarray  # (B,) float32
    next_obs: np.ndarray  # (B, *obs_shape) float32
    terminated: np.ndarray  # (B,) float32, 1.0 where next_obs is terminal
    weights: np.ndarray  # (B,) float32
    indices: np.ndarray  # (B,) int64 positions in the buffer


class ReplayBuffer:
    """A ring buffer of the last ``capacity`` transitions, sampled uniformly with replacement.

    >>> buf = ReplayBuffer(100, obs_shape=(4,), action_dtype=np.int64)
    >>> _ = buf.add(np.zeros((2, 4)), np.array([0, 1]), np.ones(2), np.ones((2, 4)), np.zeros(2))
    >>> len(buf), buf.sample(3, np.random.default_rng(0)).obs.shape
    (2, (3, 4))
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...] = (),
        action_dtype=np.int64,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"ReplayBuffer: capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.obs_shape, self.action_shape = tuple(obs_shape), tuple(action_shape)
        self.obs = np.zeros((capacity, *obs_shape), dtype=np.float32)
        self.next_obs = np.zeros((capacity, *obs_shape), dtype=np.float32)
        self.actions = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0  # next slot to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
    ) -> np.ndarray:
        """Store a batch of N transitions (one per environment); returns their slots (N,)."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.shape[1:] != self.obs_shape:
            raise ValueError(
                f"ReplayBuffer.add: obs must have shape (N, *{self.obs_shape}), got {obs.shape}"
            )
        n = obs.shape[0]
        for name, value, shape in (
            ("next_obs", next_obs, obs.shape),
            ("actions", actions, (n, *self.action_shape)),
            ("rewards", rewards, (n,)),
            ("terminated", terminated, (n,)),
        ):
            if np.shape(value) != shape:
                raise ValueError(
                    f"ReplayBuffer.add: {name} must have shape {shape}, got {np.shape(value)}"
                )
        slots = (self.pos + np.arange(n)) % self.capacity
        self.obs[slots] = obs
        self.next_obs[slots] = next_obs
        self.actions[slots] = actions
        self.rewards[slots] = rewards
        self.terminated[slots] = terminated
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        return slots

    def _batch(self, idx: np.ndarray, weights: np.ndarray) -> ReplayBatch:
        return ReplayBatch(
            self.obs[idx],
            self.actions[idx],
            self.rewards[idx],
            self.next_obs[idx],
            self.terminated[idx],
            weights.astype(np.float32),
            idx.astype(np.int64),
        )

    def sample(self, batch_size: int, rng: np.random.Generator) -> ReplayBatch:
        """``batch_size`` transitions drawn uniformly (with replacement) from what is stored."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = rng.integers(0, self.size, batch_size)
        return self._batch(idx, np.ones(batch_size))

    _FIELDS = ("obs", "next_obs", "actions", "rewards", "terminated")

    def state_dict(self) -> dict:
        """The stored transitions and write position (arrays trimmed to what is filled)."""
        state = {name: getattr(self, name)[: self.size].copy() for name in self._FIELDS}
        state.update(pos=self.pos, size=self.size, capacity=self.capacity)
        return state

    def load_state_dict(self, state: dict) -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(
                f"ReplayBuffer.load_state_dict: capacity {state['capacity']} saved, "
                f"this buffer has {self.capacity}"
            )
        self.size, self.pos = int(state["size"]), int(state["pos"])
        for name in self._FIELDS:
            getattr(self, name)[: self.size] = np.asarray(state[name])


class SumTree:
    """Binary tree over ``capacity`` leaves where each node holds the sum of its children, so
    setting a leaf and finding the leaf at a prefix sum both cost O(log capacity)."""

    def __init__(self, capacity: int) -> None:
        self.leaves = 1 << max(int(capacity) - 1, 0).bit_length()  # a power of two >= capacity
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)  # node i has children 2i, 2i+1

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def __getitem__(self, idx: np.ndarray) -> np.ndarray:
        return self.tree[self.leaves + np.asarray(idx)]

    def update(self, idx: np.ndarray, values: np.ndarray) -> None:
        nodes = self.leaves + np.asarray(idx, dtype=np.int64)
        self.tree[nodes] = values
        nodes = np.unique(nodes // 2)
        while nodes[0] >= 1:  # recompute each touched parent from its two children
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """For each prefix sum, the leaf ``i`` with ``sum(leaves[:i]) <= prefix < sum(leaves[:i+1])``."""
        prefix = np.array(prefix, dtype=np.float64)
        nodes = np.ones(prefix.shape, dtype=np.int64)
        while nodes[0] < self.leaves:
            left = 2 * nodes
            go_right = prefix >= self.tree[left]
            prefix = np.where(go_right, prefix - self.tree[left], prefix)
            nodes = np.where(go_right, left + 1, left)
        return nodes - self.leaves


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al., 2016).

    Transition i is drawn with probability ``P(i) = p_i**alpha / sum_k p_k**alpha`` where
    ``p_i = |TD error| + eps`` (new transitions get the largest priority seen so far), and its
    importance weight ``w_i = (N * P(i))**-beta / max_k w_k`` corrects the bias this sampling
    introduces (``beta`` annealed to 1 over training; the max runs over all stored transitions).
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...] = (),
        action_dtype=np.int64,
        alpha: float = 0.6,
        eps: float = 1e-6,
    ) -> None:
        super().__init__(capacity, obs_shape, action_shape, action_dtype)
        if alpha < 0:
            raise ValueError(f"PrioritizedReplayBuffer: alpha must be >= 0, got {alpha}")
        self.alpha, self.eps = float(alpha), float(eps)
        self.tree = SumTree(capacity)
        self.max_priority = 1.0

    def add(self, obs, actions, rewards, next_obs, terminated) -> np.ndarray:
        slots = super().add(obs, actions, rewards, next_obs, terminated)
        self.tree.update(slots, np.full(len(slots), self.max_priority**self.alpha))
        return slots

    def probabilities(self) -> np.ndarray:
        """P(i) of every stored transition, shape (len(self),)."""
        p = self.tree[np.arange(self.size)]
        return p / p.sum()

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 0.4) -> ReplayBatch:
        """Stratified proportional sampling: one draw from each of ``batch_size`` equal slices
        of the total priority; ``weights`` are the normalized importance weights."""
        if self.size == 0:
            raise ValueError("PrioritizedReplayBuffer.sample: the buffer is empty")
        total = self.tree.total
        bounds = np.arange(batch_size + 1) * (total / batch_size)
        prefix = rng.uniform(bounds[:-1], bounds[1:])
        idx = np.minimum(self.tree.find(prefix), self.size - 1)
        probs = self.tree[idx] / total
        p_min = self.tree[np.arange(self.size)].min() / total
        weights = (probs / p_min) ** -beta  # (N P(i))^-beta / (N P_min)^-beta
        return self._batch(idx, weights)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """New priorities ``|td_errors| + eps`` for the transitions at ``indices``."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(indices, priorities**self.alpha)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(priorities=self.tree[np.arange(self.size)], max_priority=self.max_priority)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.max_priority = float(state["max_priority"])
        self.tree.update(np.arange(self.size), np.asarray(state["priorities"], dtype=np.float64))
