"""Optimizers (``SGD``, ``Momentum``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``), gradient
clipping, and learning-rate schedulers in ``mytorch.core.optim.lr_scheduler``.

>>> import mytorch.core as mt
>>> from mytorch.core import optim
>>> w = mt.tensor([1.0, 2.0], requires_grad=True)
>>> opt = optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step(); opt.zero_grad()
>>> [round(v, 4) for v in w.tolist()]
[0.9, 1.9]
"""

from mytorch.core.optim import lr_scheduler
from mytorch.core.optim.adagrad import Adagrad
from mytorch.core.optim.adam import Adam, AdamW
from mytorch.core.optim.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from mytorch.core.optim.optimizer import Optimizer, required
from mytorch.core.optim.rmsprop import RMSprop
from mytorch.core.optim.sgd import SGD, Momentum

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "lr_scheduler",
    "required",
]
