"""Schedules of a hyperparameter over training steps: constant, linear and exponential decay."""

from __future__ import annotations

import numpy as np


class ConstantSchedule:
    """The same ``value`` at every step."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def __call__(self, step: int) -> float:
        return self.value


class LinearSchedule:
    """From ``start`` at step 0 to ``end`` at step ``duration``, then ``end`` forever.

    >>> eps = LinearSchedule(1.0, 0.05, 100)
    >>> eps(0), eps(50), eps(1000)
    (1.0, 0.525, 0.05)
    """

    def __init__(self, start: float, end: float, duration: int) -> None:
        if duration <= 0:
            raise ValueError(f"LinearSchedule: duration must be positive, got {duration}")
        self.start, self.end, self.duration = float(start), float(end), int(duration)

    def __call__(self, step: int) -> float:
        fraction = max(step, 0) / self.duration
        if fraction >= 1.0:
            return self.end
        return self.start + fraction * (self.end - self.start)


class ExponentialSchedule:
    """``start * decay**step``, never below ``end``."""

    def __init__(self, start: float, end: float, decay: float) -> None:
        if not 0 < decay <= 1:
            raise ValueError(f"ExponentialSchedule: decay must be in (0, 1], got {decay}")
        self.start, self.end, self.decay = float(start), float(end), float(decay)

    def __call__(self, step: int) -> float:
        return max(self.end, self.start * self.decay ** max(step, 0))


def epsilon_greedy(
    greedy_actions: np.ndarray, n_actions: int, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """Each action replaced, with probability ``epsilon``, by one uniform over ``n_actions``."""
    greedy_actions = np.asarray(greedy_actions)
    explore = rng.random(greedy_actions.shape) < epsilon
    random_actions = rng.integers(0, n_actions, greedy_actions.shape)
    return np.where(explore, random_actions, greedy_actions)
