"""In-place NumPy helpers shared by the optimizers' update rules."""

from __future__ import annotations

import numpy as np

from mytorch.core.tensor import Tensor


def lerp_(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """``a += weight * (b - a)`` in place, rounded as PyTorch's ``lerp_`` rounds."""
    w = np.asarray(weight, a.dtype)
    diff = b - a
    if abs(weight) < 0.5:
        diff *= w
        a += diff
    else:
        diff *= 1 - w
        np.subtract(b, diff, out=a)


def grad_array(p: Tensor, maximize: bool) -> np.ndarray:
    """The gradient of ``p`` as an array (negated, as a new array, when maximizing)."""
    g = p.grad.data
    return np.negative(g) if maximize else g


def zeros_state(p: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(p.data))


def step_counter() -> Tensor:
    """A float32 scalar step count, as PyTorch keeps ``state["step"]``."""
    return Tensor._make(np.zeros((), np.float32))


def bump(step_t: Tensor) -> float:
    """Add one to a step counter; returns the new count."""
    step_t.data += 1
    return float(step_t.data)
