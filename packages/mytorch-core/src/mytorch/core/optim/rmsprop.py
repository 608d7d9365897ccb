"""RMSprop: gradients scaled by a running root mean square, optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mytorch.core.optim._kernels import bump, grad_array, lerp_, step_counter, zeros_state
from mytorch.core.optim.optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``v = alpha * v + (1 - alpha) * g * g``;  ``p -= lr * g / (sqrt(v) + eps)``.

    ``centered`` subtracts the square of a running mean of g (``lerp(mean, g, 1 - alpha)``)
    from v under the root; ``momentum`` > 0 accumulates ``buf = momentum * buf + g / denom``
    and steps by ``lr * buf``. g includes ``weight_decay * p``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = grad_array(p, maximize)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = step_counter()
                    state["square_avg"] = zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_state(p)
                    if centered:
                        state["grad_avg"] = zeros_state(p)
                bump(state["step"])
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                sq = state["square_avg"].data
                sq *= alpha
                sq += (1 - alpha) * g * g
                if centered:
                    mean = state["grad_avg"].data
                    lerp_(mean, g, 1 - alpha)
                    avg = np.sqrt(sq - mean * mean)
                else:
                    avg = np.sqrt(sq)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"].data
                    buf *= momentum
                    buf += g / avg
                    p.data -= lr * buf
                else:
                    update = -lr * g
                    update /= avg
                    p.data += update
                p._version += 1
        return loss
