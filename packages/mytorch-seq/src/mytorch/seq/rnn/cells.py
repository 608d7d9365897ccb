"""Single-step recurrent cells ``RNNCell``, ``LSTMCell`` and ``GRUCell`` (PyTorch's modules:
same arguments, parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` and results),
each one fused op of ``mytorch.core.ops.recurrent``."""

from __future__ import annotations

import math

from mytorch.core.creation import zeros
from mytorch.core.ops import recurrent as _ops
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter
from mytorch.seq.rnn.modules import _check_device

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters and checks shared by the cells: ``weight_ih`` (chunks*H, I), ``weight_hh``
    (chunks*H, H) and optional ``bias_ih``/``bias_hh`` (chunks*H,), all U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(zeros(gates, input_size, dtype=dtype))
        self.weight_hh = Parameter(zeros(gates, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(zeros(gates, dtype=dtype))
            self.bias_hh = Parameter(zeros(gates, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states, names: tuple[str, ...]):
        """Batch ``input`` (B, I) and ``states`` (each (B, H), zeros when None); checks shapes."""
        cls = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if states is not None:
            for name, s in zip(names, states):
                if s.ndim not in (1, 2):
                    raise ValueError(
                        f"{cls}: Expected {name} to be 1D or 2D, got {s.ndim}D instead"
                    )
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected "
                f"{self.input_size}"
            )
        batch = input.shape[0]
        if states is None:
            states = (zeros(batch, self.hidden_size, dtype=input.dtype),) * len(names)
        else:
            states = tuple(s if batched else s.unsqueeze(0) for s in states)
            for i, s in enumerate(states):
                if s.ndim != 2 or s.shape[0] != batch:
                    raise RuntimeError(
                        f"Input batch size {batch} doesn't match hidden{i} batch size "
                        f"{s.shape[0] if s.ndim == 2 else list(s.shape)}"
                    )
                if s.shape[1] != self.hidden_size:
                    raise RuntimeError(
                        f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, expected "
                        f"{self.hidden_size}"
                    )
        return input, states, batched

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act tanh or relu.

    >>> import mytorch.core as mt
    >>> RNNCell(10, 20)(mt.randn(3, 10)).shape
    (3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """input (B, I) or (I,), hx (B, H) or (H,) (zeros if None) -> h' of hx's shape."""
        input, (h,), batched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        cell = _ops.rnn_tanh_cell if self.nonlinearity == "tanh" else _ops.rnn_relu_cell
        out = cell(input, h, *self._weights())  # (B, H)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step with gates (i, f, g, o): returns (h', c').

    >>> import mytorch.core as mt
    >>> h, c = LSTMCell(10, 20)(mt.randn(3, 10))
    >>> h.shape, c.shape
    ((3, 20), (3, 20))
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """input (B, I) or (I,), hx (h, c) each (B, H) or (H,) (zeros if None) -> (h', c')."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, hx, ("hx[0]", "hx[1]"))
        h, c = _ops.lstm_cell(input, h, c, *self._weights())  # (B, H) each
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step with gates (r, z, n): ``h' = (1 - z) * n + z * h``.

    >>> import mytorch.core as mt
    >>> GRUCell(10, 20)(mt.randn(3, 10), mt.randn(3, 20)).shape
    (3, 20)
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """input (B, I) or (I,), hx (B, H) or (H,) (zeros if None) -> h' of hx's shape."""
        input, (h,), batched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        out = _ops.gru_cell(input, h, *self._weights())  # (B, H)
        return out if batched else out.squeeze(0)
