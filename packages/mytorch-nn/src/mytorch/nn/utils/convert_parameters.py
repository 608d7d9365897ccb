"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector and back.

>>> import mytorch.nn as nn
>>> model = nn.Linear(3, 2)
>>> vec = parameters_to_vector(model.parameters())
>>> vec.shape
(8,)
>>> vector_to_parameters(vec * 0, model.parameters())
>>> float(model.weight.abs().sum())
0.0
"""

from __future__ import annotations

from collections.abc import Iterable

from mytorch.core.grad_mode import no_grad
from mytorch.core.ops.movement import cat
from mytorch.core.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one 1-D tensor (differentiable)."""
    if isinstance(parameters, Tensor):
        raise TypeError(f"expected an iterable of Tensors, but got {type(parameters).__name__}")
    flat = [p.reshape(-1) for p in parameters]
    if not flat:
        raise RuntimeError("parameters_to_vector: got no parameters")
    if len(flat) == 1:
        return flat[0]
    return cat(flat)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, outside the graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    if isinstance(parameters, Tensor):
        raise TypeError(f"expected an iterable of Tensors, but got {type(parameters).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters: expected a 1-D vector of {total} elements, got shape "
            f"{list(vec.shape)}"
        )
    data = vec.data
    offset = 0
    for p in params:
        n = p.numel()
        with no_grad():
            p.copy_(data[offset : offset + n].reshape(p.shape))
        offset += n
