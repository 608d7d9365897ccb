"""Multi-layer recurrent layers ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's modules, same
arguments, parameter names, shapes and results), run one layer and direction at a time by the
fused whole-sequence ops of ``mytorch.core.ops.recurrent``."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from mytorch.core.creation import zeros
from mytorch.core.functional import dropout as _dropout
from mytorch.core.ops import recurrent as _ops
from mytorch.core.ops.movement import cat, stack
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter
from mytorch.seq.packing import PackedSequence, _gather_rows, _packed_slots, _scatter_rows

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_device(device) -> None:
    if device not in (None, "cpu"):
        raise RuntimeError(f"mytorch runs on the CPU only, got device {device!r}")


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU``: parameters, argument checks and the
    layer/direction loop. ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".

    Parameters per layer k and direction (suffix "_reverse" for the backward one), as in
    PyTorch: ``weight_ih_l{k}`` (gates*H, in), ``weight_hh_l{k}`` (gates*H, H) and, with
    ``bias``, ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (gates*H,), all starting as
    U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError(
                f"LSTM: proj_size is not supported by mytorch (got proj_size={proj_size}); "
                "use proj_size=0 and, if needed, a Linear layer on the outputs"
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0

        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": (gate_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(zeros(*shape, dtype=dtype)))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    # ------------------------------------------------------------------ parameters
    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Kept for compatibility (PyTorch packs weights for cuDNN here); does nothing."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks
    @property
    def _num_states(self) -> int:
        return 2 if self.mode == "LSTM" else 1

    def _check_input(self, input: Tensor, expected_dim: int) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        if input.ndim != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )

    def _state_tuple(self, hx) -> tuple[Tensor, ...] | None:
        """``hx`` as a tuple of state tensors (h,) or (h, c); None stays None."""
        if hx is None:
            return None
        name = type(self).__name__
        if self.mode == "LSTM":
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = tuple(hx)
        else:
            states = (hx,)
        for s in states:
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(s).__name__}")
        return states

    def _initial_states(self, states, batch: int) -> tuple[Tensor, ...] | None:
        """Checks the shapes of given initial states; None (zeros) stays None."""
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if states is not None:
            for i, s in enumerate(states):
                if tuple(s.shape) != expected:
                    what = f"hidden[{i}]" if self.mode == "LSTM" else "hidden"
                    raise RuntimeError(f"Expected {what} size {expected}, got {list(s.shape)}")
        return states

    @staticmethod
    def _check_lengths(lengths, steps: int, batch: int) -> np.ndarray:
        lens = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
        if lens.ndim != 1 or lens.size != batch:
            raise ValueError(
                f"lengths must hold one length per sequence: expected shape [{batch}], got "
                f"{list(lens.shape)}"
            )
        lens = lens.astype(np.int64)
        if lens.size and (lens.min() < 1 or lens.max() > steps):
            raise ValueError(
                f"lengths must lie in [1, {steps}] (the padded sequence length; every sequence "
                f"needs a step, as for pack_padded_sequence: lengths greater than 0), got "
                f"{lens.tolist()}"
            )
        return lens

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None, lengths=None):
        """Run the layers over a sequence.

        ``input``: (T, B, input_size) ((B, T, input_size) with ``batch_first``), unbatched
        (T, input_size), or a ``PackedSequence``. ``hx``: initial state(s) of shape
        (num_layers * num_directions, B, hidden_size) (a tuple (h_0, c_0) for LSTM), zeros if
        None. ``lengths`` (B,) optionally gives each padded sequence's valid length: padded steps
        leave the state unchanged and output zeros, as a PackedSequence would.

        Returns (output, h_n) ((output, (h_n, c_n)) for LSTM): output (T, B, D * hidden_size)
        (a PackedSequence for packed input), h_n (num_layers * D, B, hidden_size).
        """
        states = self._state_tuple(hx)
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError(
                    f"{type(self).__name__}: lengths= cannot be combined with a PackedSequence, "
                    "which carries its own lengths"
                )
            return self._forward_packed(input, states)
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{type(self).__name__}: input must be a Tensor or PackedSequence, got "
                f"{type(input).__name__}"
            )
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D "
                "tensor instead"
            )
        batched = input.ndim == 3
        if states is not None:
            want = 3 if batched else 2
            if any(s.ndim != want for s in states):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                if self.mode == "LSTM":
                    dims = ", ".join(f"{s.ndim}-D" for s in states)
                    got = f"hx and cx should also be {want}-D but got ({dims}) tensors"
                else:
                    got = f"hx should also be {want}-D but got {states[0].ndim}-D tensor"
                raise RuntimeError(f"For {kind} input, {got}")
            if not batched:
                states = tuple(s.unsqueeze(1) for s in states)
        if batched:
            self._check_input(input, 3)
            x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        else:
            self._check_input(input, 2)
            x = input.unsqueeze(1)  # (T, 1, I)
        steps, batch = x.shape[0], x.shape[1]
        lens = None if lengths is None else self._check_lengths(lengths, steps, batch)
        states = self._initial_states(states, batch)
        output, final = self._run(x, states, lens)  # (T, B, D * H)
        if not batched:
            output = output.squeeze(1)
            final = tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (final if self.mode == "LSTM" else final[0])

    def _forward_packed(self, packed: PackedSequence, states):
        data = packed.data  # (N, I)
        self._check_input(data, 2)
        steps, batch_index, lens = _packed_slots(packed)  # lens in original batch order
        n_steps, batch = int(packed.batch_sizes.shape[0]), lens.size
        rows = steps * batch + batch_index
        x = _scatter_rows(data, rows, (n_steps, batch), 0.0)  # (T, B, I)
        states = self._initial_states(states, batch)
        output, final = self._run(x, states, lens)  # (T, B, D * H)
        out = PackedSequence(
            _gather_rows(output, rows), packed.batch_sizes, packed.sorted_indices,
            packed.unsorted_indices,
        )  # fmt: skip
        return out, (final if self.mode == "LSTM" else final[0])

    def _run(self, x: Tensor, states, lengths) -> tuple[Tensor, tuple]:
        """All layers and directions over time-major ``x`` (T, B, I) from ``states``, each
        (L * D, B, H) (None: zeros); returns (output (T, B, D * H), final states, each
        (L * D, B, H))."""
        num_directions = 2 if self.bidirectional else 1
        n_states = self._num_states
        if states is None:
            initial = [[None] * (self.num_layers * num_directions)] * n_states
        else:
            initial = [s.unbind(0) for s in states]  # per state: L * D tensors (B, H)
        finals: list[list[Tensor]] = [[] for _ in range(n_states)]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                weights = self._direction_weights(k)
                out, *new_states = self._run_one(
                    layer_input, [s[k] for s in initial], weights, direction == 1, lengths
                )
                outputs.append(out)
                for store, s in zip(finals, new_states):
                    store.append(s)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, 2)  # (T, B, D*H)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout, True)
        return layer_input, tuple(stack(store, 0) for store in finals)

    def _direction_weights(self, k: int) -> tuple:
        names = self._all_weights[k]
        params = [getattr(self, name) for name in names]
        if len(params) == 2:
            params += [None, None]
        return tuple(params)

    def _run_one(self, x, states, weights, reverse: bool, lengths):
        """One layer and direction: (output (T, B, H), *final states (B, H))."""
        mode = self.mode
        if mode == "LSTM":
            return _ops.lstm_layer(x, states[0], states[1], *weights, reverse=reverse,
                                   lengths=lengths)  # fmt: skip
        if mode == "GRU":
            return _ops.gru_layer(x, states[0], *weights, reverse=reverse, lengths=lengths)
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
        return _ops.rnn_layer(x, states[0], *weights, nonlinearity=nonlinearity, reverse=reverse,
                              lengths=lengths)  # fmt: skip


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    >>> import mytorch.core as mt
    >>> rnn = RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(mt.randn(5, 3, 10), mt.randn(2, 3, 20))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected argument: {next(iter(kwargs))!r}")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, device=device, dtype=dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) in that order as in PyTorch:
    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``. ``proj_size`` is not supported.

    >>> import mytorch.core as mt
    >>> lstm = LSTM(10, 20, batch_first=True, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(mt.randn(3, 5, 10))
    >>> output.shape, h_n.shape, c_n.shape
    ((3, 5, 40), (2, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device=device, dtype=dtype,
        )  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) as in PyTorch:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h_t = (1 - z) * n + z * h_{t-1}``.

    >>> import mytorch.core as mt
    >>> output, h_n = GRU(10, 20, num_layers=2)(mt.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected argument: {next(iter(kwargs))!r}")
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, device=device, dtype=dtype,
        )  # fmt: skip
