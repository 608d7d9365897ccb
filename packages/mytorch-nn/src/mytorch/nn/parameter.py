"""``Parameter``: a Tensor that a Module registers as a learnable weight.

>>> import mytorch.core as mt
>>> p = Parameter(mt.ones(2))
>>> p.requires_grad, p.is_leaf
(True, True)
"""

from __future__ import annotations

import numpy as np

from mytorch.core import dtypes
from mytorch.core.tensor import Tensor, as_array


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and shares its data with ``data``.

    Assigning a Parameter as a Module attribute registers it, so it appears in
    ``module.parameters()`` and ``module.state_dict()``.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty((0,), dtype=dtypes.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.data
        elif isinstance(data, np.ndarray) and data.dtype == dtypes.infer_dtype(data):
            array = data
        else:
            array = as_array(data)
        self.data = array
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
