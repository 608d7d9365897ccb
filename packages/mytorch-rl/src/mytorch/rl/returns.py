"""Advantage and return estimates from rollouts: GAE(lambda), n-step and Monte Carlo returns.

Episode ends follow gymnasium's two flags. ``terminated`` means the MDP reached a terminal state:
the value after it is 0. ``truncated`` means the episode was cut (a time limit): the state after
it still has value, so the return bootstraps from V(final observation). Either flag ends the
episode, so nothing flows back across it into the steps before.
"""

from __future__ import annotations

import numpy as np


def _check_shapes(**arrays: np.ndarray) -> tuple[int, ...]:
    shapes = {name: np.shape(a) for name, a in arrays.items()}
    first = next(iter(shapes.values()))
    for name, shape in shapes.items():
        if shape != first:
            raise ValueError(f"{name} has shape {shape}, expected {first} like the rewards")
    return first


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float = 0.99,
    gae_lambda: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """GAE(lambda) advantages and lambda-returns, each of shape (T, *batch).

    ``rewards[t]``, ``terminated[t]``, ``truncated[t]`` come from the step taken in state ``t``;
    ``values[t]`` = V(s_t); ``next_values[t]`` = V(s'_t) of the state that step reached (the
    final observation when the episode ended there). Then
        delta_t = r_t + gamma * (1 - terminated_t) * next_values_t - values_t
        A_t     = delta_t + gamma * lambda * (1 - (terminated_t or truncated_t)) * A_{t+1}
    and the returns are ``A + values``. ``gae_lambda=1`` gives n-step returns, 0 one-step TD.

    >>> adv, ret = compute_gae(np.ones(2), np.zeros(2), np.zeros(2), np.array([0, 1]),
    ...                        np.zeros(2), gamma=0.5, gae_lambda=1.0)
    >>> adv.tolist()
    [1.5, 1.0]
    """
    _check_shapes(
        rewards=rewards,
        values=values,
        next_values=next_values,
        terminated=terminated,
        truncated=truncated,
    )
    rewards = np.asarray(rewards, dtype=np.float64)
    not_terminal = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = not_terminal * (1.0 - np.asarray(truncated, dtype=np.float64))
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = np.zeros_like(deltas)
    last = np.zeros_like(deltas[0]) if deltas.ndim else 0.0
    for t in reversed(range(len(rewards))):
        last = deltas[t] + gamma * gae_lambda * not_done[t] * last
        advantages[t] = last
    returns = advantages + values
    return advantages.astype(np.float32), returns.astype(np.float32)


def n_step_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float = 0.99,
) -> np.ndarray:
    """Discounted returns over a rollout of T steps, bootstrapped where the rollout stops.

    ``R_t = r_t + gamma * R_{t+1}`` inside an episode; at an episode end
    ``R_t = r_t + gamma * (1 - terminated_t) * next_values_t`` (the final observation's value
    after a truncation), and at the rollout's last step ``R_{T-1}`` bootstraps from
    ``next_values[T-1]``. Equal to ``compute_gae(..., gae_lambda=1)``'s returns when the
    values are consistent (``values[t+1] == next_values[t]`` inside an episode); only the
    ``next_values`` at episode ends and at the last step are read.
    """
    _check_shapes(
        rewards=rewards, next_values=next_values, terminated=terminated, truncated=truncated
    )
    not_terminal = 1.0 - np.asarray(terminated, dtype=np.float64)
    done = (np.asarray(terminated) + np.asarray(truncated)) > 0
    returns = np.zeros(np.shape(rewards), dtype=np.float64)
    running = np.zeros(np.shape(rewards)[1:])
    for t in reversed(range(len(rewards))):
        bootstrap = not_terminal[t] * np.asarray(next_values[t], dtype=np.float64)
        running = rewards[t] + gamma * np.where(
            done[t] | (t == len(rewards) - 1), bootstrap, running
        )
        returns[t] = running
    return returns.astype(np.float32)


def discounted_returns(
    rewards: np.ndarray, gamma: float = 0.99, bootstrap: float = 0.0
) -> np.ndarray:
    """Monte Carlo returns-to-go of one episode: ``G_t = sum_k gamma^k r_{t+k}`` (+ the
    discounted ``bootstrap`` value of the state after the last reward, for a truncated episode).

    >>> discounted_returns(np.array([1.0, 1.0, 1.0]), gamma=0.5).tolist()
    [1.75, 1.5, 1.0]
    """
    out = np.zeros(len(rewards), dtype=np.float64)
    running = float(bootstrap)
    for t in reversed(range(len(rewards))):
        running = float(rewards[t]) + gamma * running
        out[t] = running
    return out.astype(np.float32)
