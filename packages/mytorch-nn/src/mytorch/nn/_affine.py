"""The optional per-feature scale (``weight``) and shift (``bias``) of the normalization layers."""

from __future__ import annotations

from mytorch.core.creation import ones, zeros
from mytorch.nn import init
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter


def register_affine(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """``module.weight`` (ones) and ``module.bias`` (zeros) of ``shape``; each is None when not
    ``affine``, and the bias also when not ``bias``."""
    if affine:
        module.weight = Parameter(ones(shape, dtype=dtype))
        if bias:
            module.bias = Parameter(zeros(shape, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine(module: Module, affine: bool) -> None:
    """Set the weight back to ones and the bias (if any) to zeros."""
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)
