"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mytorch.core.optim._kernels import bump, grad_array, step_counter
from mytorch.core.optim.optimizer import Optimizer
from mytorch.core.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``sum += g * g``;  ``p -= clr * g / (sqrt(sum) + eps)`` with ``clr = lr / (1 + (t-1) * lr_decay)``.

    g includes ``weight_decay * p``; ``sum`` starts at ``initial_accumulator_value``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group["initial_accumulator_value"])

    def _init_state(self, p: Tensor, initial_value: float) -> None:
        state = self.state[p]
        state["step"] = step_counter()
        state["sum"] = Tensor._make(np.full_like(p.data, initial_value))

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
            eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # added later through add_param_group
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                step = bump(state["step"])
                g = grad_array(p, maximize)
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                clr = lr / (1 + (step - 1) * lr_decay)
                acc = state["sum"].data
                acc += g * g
                std = np.sqrt(acc)
                std += eps
                update = -clr * g
                update /= std
                p.data += update
                p._version += 1
        return loss
