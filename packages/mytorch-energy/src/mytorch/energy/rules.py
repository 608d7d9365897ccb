"""What one op costs: multiply-accumulates, other FLOPs and its kind, from the shapes it ran on.

The conventions are those of torchvision's GFLOPS column and fvcore: a MAC is one multiply and
one add of a convolution, linear layer, matrix product, attention or recurrent layer, without
the bias; FLOPs of those layers are 2 x MACs. Everything else (bias, normalization, activations,
pooling, elementwise arithmetic, reductions, losses) is counted apart: one FLOP per output
element of elementwise ops and activations (softmax 3), one per input element of pooling and
reductions, 3 per input element of losses, 2 per output element of each axis pass of
resampling (interpolation weights times values), and for normalization 2 per element to
normalize, 2 for the affine map (RMSNorm 1) and 3 more when statistics come from the batch.
Shape movement, indexing and casts cost nothing.

>>> import numpy as np
>>> from mytorch.core.ops.linalg import MatMul
>>> op_cost(MatMul, None, (np.ones((2, 3)), np.ones((3, 4))), {}, np.ones((2, 4)))
Cost(kind='matmul', macs=24, flops=0, bias_flops=0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# The op families (autograd registry names) that move or select data without arithmetic.
_FREE_FAMILIES = {"movement", "indexing", "embedding"}
_FREE_OPS = {"Cast", "Where", "Clone", "Sign", "Floor", "Ceil", "Trunc", "Round", "DivRounded"}
# Ops with several FLOPs per output element: softmax is exp, sum and divide.
_PER_ELEMENT = {"Softmax": 3, "LogSoftmax": 3, "LogSumExp": 3}
_NORM_OPS = {"BatchNorm", "LayerNorm", "GroupNorm", "RMSNorm"}
# Elementwise-family ops that are activations when a model uses them as one.
_ACTIVATIONS = {"Tanh", "Sigmoid"}
# Gate counts per hidden unit of the fused recurrent layers and cells.
_GATES = {"Lstm": 4, "Gru": 3, "Rnn": 1}
# Elementwise work per hidden unit and step after the gate products: nonlinearities and
# products of the cell update (LSTM: 3 sigmoid, 2 tanh, 3 mul, 1 add; GRU: 2 sigmoid,
# 1 tanh, 3 mul, 3 add/sub; RNN: the nonlinearity).
_CELL_FLOPS = {"Lstm": 9, "Gru": 9, "Rnn": 1}

MAC_KINDS = ("conv", "linear", "matmul", "attention", "recurrent")


class Cost(NamedTuple):
    """The cost of one op run: ``kind`` names its category; ``flops`` excludes MACs and bias."""

    kind: str
    macs: int
    flops: int
    bias_flops: int


def _size(a) -> int:
    return int(np.size(a)) if a is not None else 0


def _first(outputs) -> np.ndarray:
    return outputs[0] if isinstance(outputs, tuple) else outputs


def _family(cls) -> str:
    return cls.__module__.rsplit(".", 1)[-1]


def recurrent_w_ih_at(name: str) -> int:
    """Where ``w_ih`` sits among a fused recurrent op's arguments: after x, h (and c for LSTM);
    ``w_hh``, ``b_ih`` and ``b_hh`` follow it."""
    return 3 if name.startswith("Lstm") else 2


def _recurrent(name: str, ctx, arrays, outputs) -> Cost:
    """Fused recurrent layers ``XxxLayer`` (x (T, B, E)) and cells ``XxxCell`` (x (B, E))."""
    base = name.removesuffix("Layer").removesuffix("Cell")
    gates = _GATES[base]
    x = arrays[0]
    w_at = recurrent_w_ih_at(name)
    w_ih = arrays[w_at]
    n_in, hidden = w_ih.shape[1], w_ih.shape[0] // gates
    if name.endswith("Layer"):
        t, b = x.shape[0], x.shape[1]
        lengths = arrays[-1]
        steps = int(np.minimum(np.asarray(lengths), t).sum()) if lengths is not None else t * b
    else:
        steps = x.shape[0] if x.ndim == 2 else 1
    macs = steps * gates * hidden * (n_in + hidden)
    biases = sum(a is not None for a in arrays[w_at + 2 : w_at + 4])  # b_ih, b_hh
    return Cost(
        "recurrent", macs, steps * hidden * _CELL_FLOPS[base], biases * steps * gates * hidden
    )


def _attention(arrays, out) -> Cost:
    """q (..., L, E), k (..., S, E), v (..., S, Ev): scores and weighted sum are MACs."""
    q, k, v, mask = arrays[0], arrays[1], arrays[2], arrays[3]
    length, source = q.shape[-2], k.shape[-2]
    batch = int(np.prod(q.shape[:-2], dtype=np.int64))
    macs = batch * length * source * (q.shape[-1] + v.shape[-1])
    scores = batch * length * source
    # scale, softmax (exp, sum, divide), and the additive mask when there is one
    flops = scores * (4 + (mask is not None))
    return Cost("attention", macs, flops, 0)


def op_cost(cls, ctx, arrays, kwargs, outputs) -> Cost:
    """The cost of one forward run of the op ``cls`` on ``arrays`` giving ``outputs``."""
    name = cls.__name__
    out = _first(outputs)
    if name == "Convolution":  # x (N, C, *), w (O, C/g, *k), y (N, O, *)
        x, w, b = arrays[0], arrays[1], arrays[2]
        return Cost(
            "conv", _size(out) * int(np.prod(w.shape[1:])), 0, _size(out) if b is not None else 0
        )
    if name == "ConvTranspose":  # x (N, C, *), w (C, O/g, *k)
        x, w, b = arrays[0], arrays[1], arrays[2]
        return Cost(
            "conv", _size(x) * int(np.prod(w.shape[1:])), 0, _size(out) if b is not None else 0
        )
    if name == "ConvWeightGrad":  # x (N, C, *), g (N, O, *o): every output of dw sums N * prod(o)
        g = arrays[1]
        return Cost("conv", _size(out) * (_size(g) // g.shape[1]), 0, 0)
    if name == "Linear":  # x (*, in), w (out, in)
        w, b = arrays[1], arrays[2]
        return Cost("linear", _size(out) * w.shape[1], 0, _size(out) if b is not None else 0)
    if name == "MatMul":
        a = arrays[0]
        return Cost("matmul", _size(out) * a.shape[-1], 0, 0)
    if name == "Einsum":
        if len(arrays) == 1:
            return Cost("elementwise", 0, _size(arrays[0]), 0)
        sizes = {c: n for s, a in zip(ctx.subs, arrays) for c, n in zip(s, a.shape)}
        return Cost("matmul", int(np.prod(list(sizes.values()), dtype=np.int64)), 0, 0)
    if name == "ScaledDotProductAttention":
        return _attention(arrays, out)
    if name.endswith(("Layer", "Cell")) and _family(cls) == "recurrent":
        return _recurrent(name, ctx, arrays, outputs)
    family = _family(cls)
    if name in _NORM_OPS:
        # normalize (subtract, scale) 2, the affine map 2 (RMSNorm: 1), batch statistics 3
        per = 2 + (arrays[1] is not None) * (1 if name == "RMSNorm" else 2)
        if name != "BatchNorm" or arrays[5]:  # BatchNorm in eval uses running statistics
            per += 3
        return Cost("normalization", 0, per * _size(out), 0)
    if family in _FREE_FAMILIES or name in _FREE_OPS:
        return Cost("data", 0, 0, 0)
    if family == "pool":
        return Cost("pooling", 0, _size(arrays[0]), 0)
    if family == "activation" or name in _ACTIVATIONS:
        return Cost("activation", 0, _PER_ELEMENT.get(name, 1) * _size(out), 0)
    if family == "reduce":
        return Cost("reduction", 0, _PER_ELEMENT.get(name, 1) * _size(arrays[0]), 0)
    if family == "loss":
        return Cost("loss", 0, 3 * _size(arrays[0]), 0)
    if family == "resample":
        return Cost("resample", 0, 2 * _size(out), 0)
    return Cost("elementwise", 0, _size(out), 0)


def backward_macs(name: str, cost: Cost, needs: tuple, arrays) -> int:
    """MACs the backward pass of a MAC op spends, given which inputs need gradients.

    A product ``y = a b`` costs one product of the same size per operand needing a gradient.
    Attention: ``dv`` and ``dP`` cost the ``P v`` product each, ``dq`` and ``dk`` the ``q k^T``
    one each. Recurrent layers: the input part for ``dx`` and ``dW_ih``, the hidden part for
    ``dW_hh`` and for the gradient through time, which any gradient needs.
    """
    if cost.kind == "attention":
        q, v = arrays[0], arrays[2]
        qk = cost.macs * q.shape[-1] // (q.shape[-1] + v.shape[-1])
        pv = cost.macs - qk
        return pv * (needs[2] + (needs[0] or needs[1])) + qk * (needs[0] + needs[1])
    if cost.kind == "recurrent":
        x_at, w_at = 0, recurrent_w_ih_at(name)
        w_ih = arrays[w_at]
        n_in, hidden = w_ih.shape[1], arrays[w_at + 1].shape[1]
        part_in = cost.macs * n_in // (n_in + hidden)
        part_h = cost.macs - part_in
        return part_in * (needs[x_at] + needs[w_at]) + part_h * (1 + needs[w_at + 1])
    return cost.macs * (bool(needs[0]) + (len(needs) > 1 and bool(needs[1])))
