"""Every op core registers, driven by the registry (``python -m mytorch.core.ops``):

- has a sample in ``SAMPLES`` that really runs it (checked with ``observe_ops``);
- passes float64 ``gradcheck`` and ``gradgradcheck``, or declares its backward
  ``once_differentiable`` and then refuses double backward with one clear error;
- keeps backward state only through ``save_for_backward``: no array on a ctx attribute, and
  with the loss and the outputs still alive after ``backward()``, every node's saved values
  are freed and no array an op saved is still referenced;
- has a complete formula line: ``out = ...;  d... = ...`` on the first docstring line.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.autograd import (
    Function,
    is_once_differentiable,
    observe_ops,
    registry,
)
from mytorch.core.ops.pool import PoolGather
from mytorch.core.ops.recurrent import (
    gru_cell,
    gru_layer,
    lstm_cell,
    lstm_layer,
    rnn_layer,
)
from mytorch.core.testing import gradcheck, gradgradcheck

_rng = np.random.default_rng(0)


def R(*shape, lo: float | None = None, hi: float | None = None, grad: bool = True):
    """A float64 tensor of uniform (lo, hi) or normal values that requires grad."""
    if lo is None:
        a = _rng.standard_normal(shape)
    else:
        a = _rng.uniform(lo, hi, shape)
    return mt.tensor(a, dtype=mt.float64, requires_grad=grad)


def apart(*shape, grad: bool = True):
    """Distinct values at least 0.1 apart (no ties for max/min/sort-like ops)."""
    n = int(np.prod(shape))
    a = _rng.permutation(n).reshape(shape) * 0.1 - n * 0.05 + 0.013
    return mt.tensor(a, dtype=mt.float64, requires_grad=grad)


def I(*values):  # noqa: E743 - an index tensor
    return mt.tensor(np.array(values, dtype=np.int64))


def _sparse_sample(values):
    """A 3 x 4 sparse matrix with 5 entries, one of them a duplicate (they add up)."""
    indices = np.array([[0, 0, 2, 2, 1], [1, 3, 0, 0, 2]])
    return mt.sparse.sparse_coo_tensor(indices, values, (3, 4))


def first_grad(fn, n_wrt: int | None = None):
    """``x -> d <fn(x), v> / dx`` with create_graph, so a backward op is in the graph."""
    vs: list = []

    def g(*xs):
        with mt.enable_grad():  # gradcheck evaluates under no_grad
            return grads(*xs)

    def grads(*xs):
        out = fn(*xs)
        outs = list(out) if isinstance(out, tuple) else [out]
        outs = [o for o in outs if o.requires_grad]
        if not vs:
            r = np.random.default_rng(1)
            vs.extend(mt.tensor(r.standard_normal(o.shape), dtype=o.dtype) for o in outs)
        wrt = [x for x in xs[:n_wrt] if isinstance(x, mt.Tensor) and x.requires_grad]
        return mt.autograd.grad(outs, wrt, vs, create_graph=True, allow_unused=True)

    return g


def _fixed_dropout(x, p):
    mt.manual_seed(0)
    return F.dropout(x, p, training=True)


def _fixed_rrelu(x):
    mt.manual_seed(0)
    return F.rrelu(x, 0.1, 0.3, training=True)


def _pool_gather(x):
    """x gathered at the indices of a 2x2 max pool of a fixed input (PoolScatter's adjoint)."""
    idx = F.max_pool2d(mt.tensor(np.arange(32.0).reshape(1, 2, 4, 4)), 2, 1, return_indices=True)[1]
    return PoolGather.apply(x, idx.data.reshape(2, 3, 3), (1, 2, 3, 3), False)


def _sdpa(**kw):
    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw)


def _ln(x, w, b):
    return F.layer_norm(x, (4,), w, b)


def _bn(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def _bn_eval(x, w, b):
    rm, rv = mt.tensor(np.zeros(3)), mt.tensor(np.ones(3) * 2.0)
    return F.batch_norm(x, rm, rv, w, b, training=False)


def _gn(x, w, b):
    return F.group_norm(x, 2, w, b)


def _rms(x, w):
    return F.rms_norm(x, (4,), w)


def _lstm_params(i: int, h: int) -> list:
    return [R(4 * h, i), R(4 * h, h), R(4 * h), R(4 * h)]


def _gru_params(i: int, h: int) -> list:
    return [R(3 * h, i), R(3 * h, h), R(3 * h), R(3 * h)]


def _rnn_params(i: int, h: int) -> list:
    return [R(h, i), R(h, h), R(h), R(h)]


# op name -> () -> (fn, inputs[, gradcheck options]). Inputs that require grad are checked.
SAMPLES = {
    # activation
    "Relu": lambda: (F.relu, [apart(3, 4)]),
    "LeakyRelu": lambda: (lambda x: F.leaky_relu(x, 0.1), [apart(3, 4)]),
    "Rrelu": lambda: (_fixed_rrelu, [apart(3, 4)]),
    "Hardtanh": lambda: (lambda x: F.hardtanh(x, -0.5, 0.5), [apart(3, 4)]),
    "Hardsigmoid": lambda: (F.hardsigmoid, [R(3, 4, lo=-2.9, hi=2.9)]),
    "Threshold": lambda: (lambda x: F.threshold(x, 0.05, -1.0), [apart(3, 4)]),
    "Hardshrink": lambda: (lambda x: F.hardshrink(x, 0.25), [apart(3, 4)]),
    "Softshrink": lambda: (lambda x: F.softshrink(x, 0.25), [apart(3, 4)]),
    "Prelu": lambda: (F.prelu, [apart(2, 3, 4), R(3)]),
    "Elu": lambda: (F.elu, [apart(3, 4)]),
    "EluBackward": lambda: (first_grad(F.elu), [apart(3, 4)]),
    "Gelu": lambda: (F.gelu, [R(3, 4)]),
    "GeluBackward": lambda: (first_grad(lambda x: F.gelu(x, approximate="tanh")), [R(3, 4)]),
    "Silu": lambda: (F.silu, [R(3, 4)]),
    "SiluBackward": lambda: (first_grad(F.silu), [R(3, 4)]),
    "Mish": lambda: (F.mish, [R(3, 4)]),
    "MishBackward": lambda: (first_grad(F.mish), [R(3, 4)]),
    "Softplus": lambda: (lambda x: F.softplus(x, 2.0), [R(3, 4)]),
    "SoftplusBackward": lambda: (first_grad(lambda x: F.softplus(x, 2.0)), [R(3, 4)]),
    "Logsigmoid": lambda: (F.logsigmoid, [R(3, 4)]),
    "LogsigmoidBackward": lambda: (first_grad(F.logsigmoid), [R(3, 4)]),
    "Hardswish": lambda: (F.hardswish, [R(3, 4, lo=-2.9, hi=2.9)]),
    "HardswishBackward": lambda: (first_grad(F.hardswish), [R(3, 4, lo=-2.9, hi=2.9)]),
    "Softmax": lambda: (lambda x: F.softmax(x, 1), [R(3, 4)]),
    "SoftmaxBackward": lambda: (first_grad(lambda x: F.softmax(x, 1)), [R(3, 4)]),
    "LogSoftmax": lambda: (lambda x: F.log_softmax(x, 1), [R(3, 4)]),
    "LogSoftmaxBackward": lambda: (first_grad(lambda x: F.log_softmax(x, 1)), [R(3, 4)]),
    # attention
    "ScaledDotProductAttention": lambda: (
        _sdpa(is_causal=True),
        [R(2, 3, 4), R(2, 5, 4), R(2, 5, 3)],
    ),
    "AttentionBackward": lambda: (
        first_grad(_sdpa(attn_mask=mt.tensor(np.tril(np.ones((3, 5), bool), 2)))),
        [R(1, 3, 2), R(1, 5, 2), R(1, 5, 2)],
    ),
    # conv
    "Convolution": lambda: (
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        [R(1, 2, 4, 4), R(3, 2, 3, 3), R(3)],
    ),
    "ConvTranspose": lambda: (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
        [R(1, 2, 3, 3), R(2, 3, 2, 2), R(3)],
    ),
    "ConvWeightGrad": lambda: (
        first_grad(lambda x, w: F.conv1d(x, w, stride=2)),
        [R(2, 2, 7), R(3, 2, 3)],
    ),
    # dropout
    "Dropout": lambda: (lambda x: _fixed_dropout(x, 0.3), [R(3, 4)]),
    # elementwise
    "Add": lambda: (lambda a, b: mt.add(a, b, alpha=2.0), [R(3, 4), R(4)]),
    "Sub": lambda: (lambda a, b: mt.sub(a, b, alpha=0.5), [R(3, 4), R(3, 1)]),
    "Mul": lambda: (lambda a, b: a * b, [R(3, 4), R(4)]),
    "Div": lambda: (lambda a, b: a / b, [R(3, 4), R(4, lo=0.5, hi=2.0)]),
    "DivRounded": lambda: (
        lambda a, b: mt.div(a, b, rounding_mode="floor"),
        [R(3, 4, lo=0.1, hi=0.9), R(4, lo=1.1, hi=2.0)],
    ),
    "Remainder": lambda: (
        lambda a, b: mt.remainder(a, b),
        [R(3, 4, lo=0.1, hi=0.9), R(4, lo=1.1, hi=2.0)],
    ),
    "Pow": lambda: (lambda a, b: a**b, [R(3, 4, lo=0.5, hi=2.0), R(4)]),
    "Neg": lambda: (lambda a: -a, [R(3, 4)]),
    "Abs": lambda: (mt.abs, [apart(3, 4)]),
    "Sign": lambda: (mt.sign, [apart(3, 4)]),
    "Square": lambda: (mt.square, [R(3, 4)]),
    "Reciprocal": lambda: (mt.reciprocal, [R(3, 4, lo=0.5, hi=2.0)]),
    "Exp": lambda: (mt.exp, [R(3, 4)]),
    "Exp2": lambda: (mt.exp2, [R(3, 4)]),
    "Expm1": lambda: (mt.expm1, [R(3, 4)]),
    "Log": lambda: (mt.log, [R(3, 4, lo=0.5, hi=2.0)]),
    "Log2": lambda: (mt.log2, [R(3, 4, lo=0.5, hi=2.0)]),
    "Log10": lambda: (mt.log10, [R(3, 4, lo=0.5, hi=2.0)]),
    "Log1p": lambda: (mt.log1p, [R(3, 4, lo=0.5, hi=2.0)]),
    "Sqrt": lambda: (mt.sqrt, [R(3, 4, lo=0.5, hi=2.0)]),
    "Rsqrt": lambda: (mt.rsqrt, [R(3, 4, lo=0.5, hi=2.0)]),
    "Sin": lambda: (mt.sin, [R(3, 4)]),
    "Cos": lambda: (mt.cos, [R(3, 4)]),
    "Tan": lambda: (mt.tan, [R(3, 4, lo=-1.0, hi=1.0)]),
    "Tanh": lambda: (mt.tanh, [R(3, 4)]),
    "Sigmoid": lambda: (mt.sigmoid, [R(3, 4)]),
    "Floor": lambda: (mt.floor, [R(3, 4, lo=0.1, hi=0.9)]),
    "Ceil": lambda: (mt.ceil, [R(3, 4, lo=0.1, hi=0.9)]),
    "Trunc": lambda: (mt.trunc, [R(3, 4, lo=0.1, hi=0.9)]),
    "Round": lambda: (mt.round, [R(3, 4, lo=0.1, hi=0.4)]),
    "Clamp": lambda: (
        lambda a, lo, hi: mt.clamp(a, lo, hi),
        [apart(3, 4), R(4, lo=-0.52, hi=-0.48), R(4, lo=0.48, hi=0.52)],
    ),
    "Maximum": lambda: (mt.maximum, [apart(3, 4), R(3, 4)]),
    "Minimum": lambda: (mt.minimum, [apart(3, 4), R(3, 4)]),
    "Where": lambda: (
        lambda a, b: mt.where(mt.tensor(np.eye(3, 4, dtype=bool)), a, b),
        [R(3, 4), R(4)],
    ),
    # through float32 and back: finite differences need a step far above float32's rounding
    "Cast": lambda: (
        lambda a: a.to(mt.float32).to(mt.float64),
        [R(3, 4)],
        {"eps": 1e-2, "atol": 1e-4},
    ),
    # embedding
    "Embedding": lambda: (lambda w: F.embedding(I(0, 2, 2, 4), w), [R(5, 3)]),
    "EmbeddingBackward": lambda: (
        first_grad(lambda w: F.embedding(I(0, 2, 2, 4), w) ** 2),
        [R(5, 3)],
    ),
    # indexing
    "Index": lambda: (lambda a: a[I(0, 2, 2), 1:], [R(3, 4)]),
    "IndexBackward": lambda: (first_grad(lambda a: a[I(0, 2, 2)] ** 2), [R(3, 4)]),
    "IndexPut": lambda: (
        lambda a, v: mt.index_put(a, (I(0, 2),), v, accumulate=False),
        [R(3, 4), R(2, 4)],
    ),
    "Gather": lambda: (
        lambda a: mt.gather(a, 1, mt.tensor(np.array([[0, 1], [3, 3], [2, 0]]))),
        [R(3, 4)],
    ),
    "ScatterAdd": lambda: (
        lambda a, s: mt.scatter_add(a, 1, mt.tensor(np.array([[0, 1], [3, 3], [2, 0]])), s),
        [R(3, 4), R(3, 2)],
    ),
    "Scatter": lambda: (
        lambda a, s: mt.scatter(a, 1, mt.tensor(np.array([[0, 1], [3, 2], [2, 0]])), s),
        [R(3, 4), R(3, 2)],
    ),
    "IndexSelect": lambda: (lambda a: mt.index_select(a, 1, I(3, 0, 0)), [R(3, 4)]),
    "IndexAdd": lambda: (
        lambda a, s: mt.index_add(a, 0, I(2, 0, 2), s, alpha=2.0),
        [R(3, 4), R(3, 4)],
    ),
    # scatter and sparse (message passing): duplicate indices, an empty segment
    "ScatterReduce": lambda: (
        lambda a, s: mt.scatter_reduce(
            a, 1, mt.tensor(np.array([[0, 1], [3, 3], [0, 0]])), s, "mean"
        ),
        [R(3, 4), R(3, 2)],
    ),
    "SegmentSoftmax": lambda: (lambda s: mt.segment_softmax(s, I(0, 0, 2, 2, 2), 4), [R(5, 2)]),
    "SparseMM": lambda: (
        lambda v, d: mt.sparse.mm(_sparse_sample(v), d),
        [R(5), R(4, 2)],
    ),
    "SampledDot": lambda: (
        first_grad(lambda v, d: mt.sparse.mm(_sparse_sample(v), d) ** 2),
        [R(5), R(4, 2)],
    ),
    "MaskedFill": lambda: (
        lambda a, v: mt.masked_fill(a, mt.tensor(np.eye(3, 4, dtype=bool)), v),
        [R(3, 4), R()],
    ),
    # linalg
    "MatMul": lambda: (mt.matmul, [R(2, 3, 4), R(4, 5)]),
    "Einsum": lambda: (lambda a, b: mt.einsum("bij,jk->bik", a, b), [R(2, 3, 4), R(4, 2)]),
    "Linear": lambda: (F.linear, [R(2, 3, 4), R(5, 4), R(5)]),
    # loss
    "MseLoss": lambda: (F.mse_loss, [R(3, 4), R(3, 4)]),
    "L1Loss": lambda: (F.l1_loss, [apart(3, 4), R(3, 4, grad=False) * 0.01]),
    "SmoothL1Loss": lambda: (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), [R(3, 4), R(3, 4)]),
    "BinaryCrossEntropy": lambda: (
        lambda x, y: F.binary_cross_entropy(x, y, weight=mt.tensor(np.linspace(0.5, 1.5, 4))),
        [R(3, 4, lo=0.2, hi=0.8), R(3, 4, lo=0.0, hi=1.0)],
    ),
    "BinaryCrossEntropyWithLogits": lambda: (
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, pos_weight=mt.tensor(np.linspace(0.5, 2, 4))
        ),
        [R(3, 4), R(3, 4, lo=0.0, hi=1.0)],
    ),
    "NllLoss": lambda: (
        lambda x: F.nll_loss(x, I(0, 3, 1), weight=mt.tensor(np.linspace(0.5, 2, 4))),
        [R(3, 4)],
    ),
    "CrossEntropy": lambda: (
        lambda x: F.cross_entropy(x, I(0, 3, -100), label_smoothing=0.1),
        [R(3, 4)],
    ),
    "SoftTargetCrossEntropy": lambda: (
        lambda x, q: F.cross_entropy(x, q),
        [R(3, 4), R(3, 4, lo=0.0, hi=1.0)],
    ),
    "KlDiv": lambda: (
        lambda x, y: F.kl_div(x, y, reduction="batchmean"),
        [R(3, 4), R(3, 4, lo=0.1, hi=1.0)],
    ),
    # movement
    "Reshape": lambda: (lambda a: a.reshape(4, 3), [R(3, 4)]),
    "Permute": lambda: (lambda a: a.permute(2, 0, 1), [R(2, 3, 4)]),
    "Expand": lambda: (lambda a: a.expand(2, 3, 4), [R(3, 1)]),
    "Repeat": lambda: (lambda a: a.repeat(2, 1, 2), [R(3, 2)]),
    "Flip": lambda: (lambda a: a.flip(0, 1), [R(3, 4)]),
    "Roll": lambda: (lambda a: a.roll(1, 1), [R(3, 4)]),
    "Cat": lambda: (lambda a, b: mt.cat([a, b], 1), [R(3, 2), R(3, 4)]),
    "Split": lambda: (lambda a: mt.split(a, [1, 3], 1), [R(3, 4)]),
    "Stack": lambda: (lambda a, b: mt.stack([a, b], 1), [R(3, 4), R(3, 4)]),
    "Unbind": lambda: (lambda a: mt.unbind(a, 1), [R(3, 4)]),
    "ConstantPad": lambda: (lambda a: F.pad(a, (1, 2, -1, 0)), [R(3, 4)]),
    "Clone": lambda: (mt.clone, [R(3, 4)]),
    "Tril": lambda: (lambda a: mt.tril(a, 1), [R(3, 4)]),
    "Triu": lambda: (lambda a: mt.triu(a, -1), [R(3, 4)]),
    # normalization
    "BatchNorm": lambda: (_bn_eval, [R(4, 3, 2), R(3), R(3)]),
    "BatchNormBackward": lambda: (first_grad(_bn), [R(4, 3, 2), R(3), R(3)]),
    "LayerNorm": lambda: (_ln, [R(2, 3, 4), R(4), R(4)]),
    "LayerNormBackward": lambda: (first_grad(_ln), [R(2, 3, 4), R(4), R(4)]),
    "GroupNorm": lambda: (_gn, [R(2, 4, 3), R(4), R(4)]),
    "GroupNormBackward": lambda: (first_grad(_gn), [R(2, 4, 3), R(4), R(4)]),
    "RMSNorm": lambda: (_rms, [R(2, 3, 4), R(4)]),
    "RMSNormBackward": lambda: (first_grad(_rms), [R(2, 3, 4), R(4)]),
    # pool
    "MaxPool": lambda: (lambda x: F.max_pool2d(x, 2, 1), [apart(1, 2, 4, 4)]),
    "PoolScatter": lambda: (first_grad(lambda x: F.max_pool2d(x, 2, 1) ** 2), [apart(1, 2, 4, 4)]),
    "PoolGather": lambda: (_pool_gather, [apart(1, 2, 4, 4)]),
    "AvgPool": lambda: (lambda x: F.avg_pool2d(x, 2, 1, padding=1), [R(1, 2, 4, 4)]),
    "AvgPoolBackward": lambda: (first_grad(lambda x: F.avg_pool2d(x, 2, 1) ** 2), [R(1, 2, 4, 4)]),
    "AdaptiveMaxPool": lambda: (lambda x: F.adaptive_max_pool2d(x, (2, 3)), [apart(1, 2, 5, 4)]),
    # recurrent (first-order only)
    "LstmLayer": lambda: (
        lambda x, *w: lstm_layer(x, None, None, *w)[0],
        [R(3, 2, 3), *_lstm_params(3, 2)],
    ),
    "GruLayer": lambda: (lambda x, *w: gru_layer(x, None, *w)[0], [R(3, 2, 3), *_gru_params(3, 2)]),
    "RnnLayer": lambda: (lambda x, *w: rnn_layer(x, None, *w)[0], [R(3, 2, 3), *_rnn_params(3, 2)]),
    "LstmCell": lambda: (
        lambda x, h, c, *w: lstm_cell(x, h, c, *w)[0],
        [R(2, 3), R(2, 2), R(2, 2), *_lstm_params(3, 2)],
    ),
    "GruCell": lambda: (
        lambda x, h, *w: gru_cell(x, h, *w),
        [R(2, 3), R(2, 2), *_gru_params(3, 2)],
    ),
    "RnnCell": lambda: (
        lambda x, h, *w: F.rnn_tanh_cell(x, h, *w),
        [R(2, 3), R(2, 2), *_rnn_params(3, 2)],
    ),
    # reduce
    "Sum": lambda: (lambda a: a.sum(1), [R(3, 4)]),
    "Mean": lambda: (lambda a: a.mean((0, 2), keepdim=True), [R(2, 3, 4)]),
    "Var": lambda: (lambda a: a.var(1), [R(3, 4)]),
    "Std": lambda: (lambda a: a.std(1), [R(3, 4)]),
    "TakeAlongDim": lambda: (lambda a: a.max(1)[0], [apart(3, 4)]),
    "ScatterAlongDim": lambda: (first_grad(lambda a: a.max(1)[0] ** 2), [apart(3, 4)]),
    "AMax": lambda: (lambda a: mt.amax(a, 1), [apart(3, 4)]),
    "AMin": lambda: (lambda a: mt.amin(a, (0, 1)), [apart(3, 4)]),
    "LogSumExp": lambda: (lambda a: mt.logsumexp(a, 1), [R(3, 4)]),
    "Prod": lambda: (lambda a: a.prod(1), [R(3, 4)]),
    "Cumsum": lambda: (lambda a: a.cumsum(1), [R(3, 4)]),
    "ReverseCumsum": lambda: (first_grad(lambda a: a.cumsum(1) ** 2), [R(3, 4)]),
    "Norm": lambda: (lambda a: mt.norm(a, 3.0, 1), [R(3, 4)]),
    # resample
    "AxisTaps": lambda: (lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [R(1, 2, 3, 4)]),
    "AxisTapsBackward": lambda: (
        first_grad(lambda x: F.interpolate(x, size=(5, 3), mode="bilinear") ** 2),
        [R(1, 2, 3, 4)],
    ),
}

# core's own ops (packages built on core test the ops they register themselves)
OPS = {
    op.__name__: op
    for ops in registry().values()
    for op in ops
    if op.__module__.startswith("mytorch.core.")
}
# engine bookkeeping on every node; everything else on a ctx is the op's own
_ENGINE_ATTRS = {
    "next_functions",
    "needs_input_grad",
    "_seq",
    "_meta",
    "_saved",
    "_hooks",
    "_non_diff",
    "_to_save",
}


def test_every_registered_op_has_a_sample():
    missing = sorted(set(OPS) - set(SAMPLES))
    assert not missing, f"registered ops without a gradcheck sample in SAMPLES: {missing}"
    stale = sorted(set(SAMPLES) - set(OPS))
    assert not stale, f"SAMPLES names ops that are not registered: {stale}"


def _run(name: str):
    """Run the sample of op ``name``; return (fn, inputs, output, {node: arg arrays})."""
    fn, inputs, *_ = SAMPLES[name]()
    seen: dict = {}

    def observer(cls, ctx, arrays, kwargs, out):
        seen.setdefault(cls.__name__, []).append(ctx)
        ctx_args[id(ctx)] = [a for a in arrays if isinstance(a, np.ndarray)]

    ctx_args: dict = {}
    with observe_ops(observer):
        out = fn(*inputs)
    assert name in seen, f"the sample of {name} does not run it (ran: {sorted(seen)})"
    return fn, inputs, out, seen[name], ctx_args


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_and_gradgradcheck(name):
    fn, inputs, _, _, _ = _run(name)
    opts = SAMPLES[name]()[2] if len(SAMPLES[name]()) > 2 else {}
    assert gradcheck(fn, inputs, **opts)
    if is_once_differentiable(OPS[name]):
        with pytest.raises(RuntimeError, match=f"{name}: double backward is not supported"):
            gradgradcheck(fn, inputs, **opts)
    else:
        assert gradgradcheck(fn, inputs, **opts)


def _arrays_in(value, depth: int = 0):
    """Arrays and tensors in ``value``, looking into tuples, lists and dicts."""
    if isinstance(value, (np.ndarray, mt.Tensor)):
        yield value
    elif depth < 3 and isinstance(value, (tuple, list)):
        for v in value:
            yield from _arrays_in(v, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for v in value.values():
            yield from _arrays_in(v, depth + 1)


def _nodes(roots) -> list:
    out, stack, seen = [], [r.grad_fn for r in roots if r.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(
            e[0] for e in node.next_functions if e is not None and isinstance(e[0], Function)
        )
    return out


def _held_on_ctx(node) -> list[str]:
    """The ctx attributes of ``node`` (beyond the engine's own) that hold arrays or tensors."""
    own = {k: v for k, v in vars(node).items() if k not in _ENGINE_ATTRS}
    return [k for k, v in own.items() if any(True for _ in _arrays_in(v))]


def _watch(nodes: list, ctx_args: dict) -> list:
    """(op name, weak reference) for every array a node saved that is neither one of its
    arguments nor one of its outputs: nothing but the node may hold those."""
    watched = []
    for node in nodes:
        args = ctx_args.get(id(node), [])
        for rec in node._saved or ():
            a = rec.array
            if isinstance(a, np.ndarray) and rec.output_nr < 0 and not any(a is b for b in args):
                watched.append((type(node).__name__, weakref.ref(a)))
    return watched


@pytest.mark.parametrize("name", sorted(OPS))
def test_saved_state_is_freed_after_backward(name):
    _, _, out, ctxs, ctx_args = _run(name)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    loss = sum((o * o).sum() for o in outs)
    nodes = _nodes([loss])
    assert any(n in nodes for n in ctxs), f"{name} is not in the graph of its sample"
    for node in nodes:
        held = _held_on_ctx(node)
        assert not held, (
            f"{type(node).__name__} keeps arrays on ctx attributes {held}: backward state "
            f"goes through save_for_backward"
        )
    watched = _watch(nodes, ctx_args)
    ctx_args.clear()
    loss.backward()
    gc.collect()
    for node in nodes:  # the loss and the outputs are still alive here
        assert not node._saved, f"{type(node).__name__} still holds its saved values"
    alive = sorted({op for op, ref in watched if ref() is not None})
    assert not alive, f"arrays saved by {alive} are still referenced after backward"
    assert loss.requires_grad and all(o.data is not None for o in outs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_formula_line_is_complete(name):
    doc = (OPS[name].__doc__ or "").strip()
    line = doc.splitlines()[0] if doc else ""
    assert ";  " in line, f"{name}: the first docstring line must read 'out = ...;  d... = ...'"
    rule = line.split(";  ", 1)[1].rstrip()
    assert rule and not rule.endswith((",", ";", "(", "=", "+", "-", "*", "/")), (
        f"{name}: the formula line is cut: {line!r}"
    )
    assert line.count("(") == line.count(")"), f"{name}: unbalanced parentheses in {line!r}"


class _Leaky(Function):
    """An op that breaks the contract: its mask lives on a ctx attribute (not registered)."""

    @staticmethod
    def forward(ctx, x):
        ctx.mask = x > 0
        ctx.save_for_backward(x * 2)
        return x * ctx.mask

    @staticmethod
    def backward(ctx, g):
        return g * mt.tensor(ctx.mask)


def test_the_checks_catch_a_leaky_op():
    x = R(3, 4)
    seen: dict = {}
    with observe_ops(lambda cls, ctx, arrays, kw, out: seen.setdefault(id(ctx), list(arrays))):
        y = _Leaky.apply(x)
    (node,) = _nodes([y])
    assert _held_on_ctx(node) == ["mask"]
    watched = _watch([node], seen)
    assert len(watched) == 1
    kept = node._saved  # something other than the node keeps the saved array alive
    y.sum().backward()
    gc.collect()
    assert [op for op, ref in watched if ref() is not None] == ["_Leaky"]
    assert kept[0].array is not None
