"""Checks of layer constructors' size arguments: an error that names the layer and the argument
(instead of NumPy's "negative dimensions are not allowed" from deep inside)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence


def check_size(layer: str, name: str, value, minimum: int = 0) -> int:
    """``value`` as an int, if it is an integer >= ``minimum``; else TypeError / ValueError.

    >>> check_size("Linear", "in_features", -1)
    Traceback (most recent call last):
    ...
    ValueError: Linear: in_features must be a non-negative integer, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        wanted = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{layer}: {name} must be {wanted}, got {value}")
    return int(value)


def check_sizes(layer: str, name: str, values: Sequence, minimum: int = 0) -> tuple[int, ...]:
    """Each entry of ``values`` checked by :func:`check_size` (the message shows them all)."""
    try:
        return tuple(check_size(layer, name, v, minimum) for v in values)
    except ValueError:
        wanted = "non-negative integers" if minimum == 0 else f"integers >= {minimum}"
        raise ValueError(f"{layer}: {name} must be {wanted}, got {tuple(values)}") from None
