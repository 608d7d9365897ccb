"""Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mytorch.core.optim._kernels import grad_array
from mytorch.core.optim.optimizer import Optimizer
from mytorch.core.tensor import Tensor

__all__ = ["SGD", "Momentum"]


class SGD(Optimizer):
    """``p -= lr * g`` where g is the gradient plus ``weight_decay * p``, through momentum.

    With momentum ``mu`` and dampening ``tau``: ``buf = mu * buf + (1 - tau) * g`` (the first
    step sets ``buf = g``), then g is ``buf``, or ``g + mu * buf`` when ``nesterov``.

    >>> import mytorch.core as mt
    >>> w = mt.zeros(1, requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = grad_array(p, maximize)
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = Tensor._make(np.array(g, copy=True))
                        state["momentum_buffer"] = buf
                    else:
                        b = buf.data
                        b *= momentum
                        b += (1 - dampening) * g
                    g = g + momentum * buf.data if nesterov else buf.data
                p.data -= lr * g
                p._version += 1
        return loss


class Momentum(SGD):
    """SGD with heavy-ball momentum (0.9 by default); see ``SGD`` for the update rule."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.9,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
            maximize=maximize,
            foreach=foreach,
        )
