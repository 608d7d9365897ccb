"""Utilities over parameters: gradient clipping and flattening parameters into one vector."""

from mytorch.core.optim.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from mytorch.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
