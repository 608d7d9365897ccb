"""Initializers used by the graph layers (PyTorch Geometric's ``glorot`` and ``zeros``)."""

from __future__ import annotations

import math

from mytorch.core import Tensor
from mytorch.nn import init


def glorot(tensor: Tensor) -> Tensor:
    """U(-a, a) with a = sqrt(6 / (size(-2) + size(-1))), in place (the last two dims are the
    fans, so a (1, heads, channels) attention vector is scaled by heads + channels)."""
    bound = math.sqrt(6.0 / (tensor.shape[-2] + tensor.shape[-1]))
    return init.uniform_(tensor, -bound, bound)


def zeros(tensor: Tensor | None) -> Tensor | None:
    return None if tensor is None else init.zeros_(tensor)
