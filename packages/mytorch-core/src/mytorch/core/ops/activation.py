"""Activation ops: ReLU family, ELU family, GELU, SiLU, Mish, softplus, hard* and softmax.

Each smooth activation is one node whose backward multiplies by its derivative. The derivative
is itself a differentiable op (``*Backward``) so that double backward works; when no graph is
being recorded (a plain ``.backward()``) it is computed directly in NumPy instead.

>>> import mytorch.core as mt
>>> x = mt.tensor([-1.0, 0.5, 2.0], requires_grad=True)
>>> relu(x).tolist()
[0.0, 0.5, 2.0]
>>> softmax(mt.tensor([1.0, 1.0]), dim=0).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.ops.elementwise import sigmoid, tanh
from mytorch.core.tensor import Tensor

__all__ = [
    "celu",
    "celu_",
    "elu",
    "elu_",
    "gelu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "leaky_relu",
    "leaky_relu_",
    "log_softmax",
    "logsigmoid",
    "mish",
    "prelu",
    "relu",
    "relu6",
    "relu_",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "silu",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "threshold_",
]

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ----------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------


def _times_const(g: Tensor, d: np.ndarray) -> Tensor:
    """``g * d`` for a constant array ``d`` (a derivative whose own derivative is zero)."""
    return g * Tensor._make(d)


def _chain(g: Tensor, x: Tensor, op: type[Function], *args) -> Tensor:
    """``g * f'(x)``, with ``f'`` given by the derivative op ``op``."""
    return g * op.apply(x, *args)


def _apply(op: type[Function], input: Tensor, *args) -> Tensor:
    """``op.apply(input, *args)``, on a 1-element view for 0-d input (where NumPy ufuncs return
    scalars that the in-place steps of the kernels cannot write into)."""
    if input.data.ndim == 0:
        return op.apply(input.reshape(1), *args).reshape(())
    return op.apply(input, *args)


def _check_float(input: Tensor, name: str) -> None:
    if input.data.dtype.kind != "f":
        raise RuntimeError(f'"{name}" not implemented for {input.dtype} input; expected a float')


def _result(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    return input._inplace(out) if inplace else out


class _Derivative(Function):
    """Base of the ops ``out = f'(x)`` that make activations twice differentiable.

    A subclass gives ``value(x, *args)`` (the NumPy derivative, also used directly when not
    recording) and ``backward``; ``forward`` keeps ``x`` and ``args`` (as ``ctx.args``).
    """

    @staticmethod
    def forward(ctx, x, *args):
        ctx.save_for_backward(x)
        ctx.args = args
        return ctx.value(x, *args)


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow warnings for very negative x."""
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


def _polevl(x: np.ndarray, coefs: tuple) -> np.ndarray:
    out = np.full_like(x, coefs[0])
    for c in coefs[1:]:
        out *= x
        out += c
    return out


def _p1evl(x: np.ndarray, coefs: tuple) -> np.ndarray:
    out = x + coefs[0]
    for c in coefs[1:]:
        out *= x
        out += c
    return out


# Rational approximations of erf/erfc (Cephes ndtr.c, public domain), accurate to double precision.
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


# A float32 rational approximation of erf on [-4, 4] (erf is +-1 in float32 beyond): odd
# numerator x * P(x^2), even denominator Q(x^2); accurate to a few float32 ulps.
_ERF32_P = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF32_Q = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)


def _ndtr(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF Phi(x) = (1 + erf(x / sqrt(2))) / 2."""
    if x.dtype != np.float64:
        v = x * _SQRT1_2
        np.clip(v, -4, 4, out=v)
        v2 = v * v
        p = _polevl(v2, _ERF32_P)
        p *= v
        p /= _polevl(v2, _ERF32_Q)
        p += 1
        p *= 0.5
        return p
    return _ndtr64(x)


def _ndtr64(x: np.ndarray) -> np.ndarray:
    """Phi(x) in double precision, accurate in both tails (Cephes' erf/erfc)."""
    a = x * _SQRT1_2
    z = np.abs(a)
    small = z < 1
    out = np.empty_like(x)
    s = a[small]
    s2 = s * s
    out[small] = 0.5 + 0.5 * s * _polevl(s2, _ERF_T) / _p1evl(s2, _ERF_U)
    big = ~small
    b = z[big]
    if b.size:
        mid = b < 8
        pq = np.empty_like(b)
        bm = b[mid]
        pq[mid] = _polevl(bm, _ERFC_P) / _p1evl(bm, _ERFC_Q)
        bt = b[~mid]
        pq[~mid] = _polevl(bt, _ERFC_R) / _p1evl(bt, _ERFC_S)
        with np.errstate(under="ignore"):
            tail = 0.5 * np.exp(-b * b) * pq  # = Phi(-|x|)
        out[big] = np.where(a[big] > 0, 1 - tail, tail)
    return out


# ----------------------------------------------------------------------------------------------
# ReLU family (piecewise linear: the derivative is a constant mask)
# ----------------------------------------------------------------------------------------------


class Relu(Function):
    """out = max(x, 0);  dx = g * (out > 0)"""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return _times_const(g, ~(out.data <= 0))  # NaN passes g on, as in PyTorch


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) elementwise."""
    return _result(input, _apply(Relu, input), inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def _slope_factor(pos: np.ndarray, slope, dtype) -> np.ndarray:
    """1 where pos, else slope (a scalar or an array broadcasting against pos)."""
    d = pos.astype(dtype)
    d *= 1 - slope
    d += slope
    return d


class LeakyRelu(Function):
    """out = x if x > 0 else slope * x;  dx = g * (1 if x > 0 else slope)"""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        # max(x, slope x) is x for x > 0 and slope x for x < 0 whenever slope <= 1
        return (np.maximum if slope <= 1 else np.minimum)(x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _times_const(g, _slope_factor(x.data > 0, ctx.slope, g.dtype)), None


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    _check_float(input, "leaky_relu")
    return _result(input, _apply(LeakyRelu, input, float(negative_slope)), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


class Rrelu(Function):
    """out = x if x > 0 else a * x (a: a given slope per element);  dx = g * (1 or a)"""

    @staticmethod
    def forward(ctx, x, slopes):
        d = _slope_factor(x > 0, slopes, x.dtype)
        ctx.save_for_backward(d)
        return x * d

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        return _times_const(g, d.data), None


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: slopes ~ U(lower, upper) in training, (lower + upper) / 2 otherwise."""
    _check_float(input, "rrelu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from mytorch.core.random import rng

    slopes = rng().uniform(lower, upper, input.shape).astype(input.dtype)
    return _result(input, _apply(Rrelu, input, slopes), inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


class Hardtanh(Function):
    """out = clip(x, lo, hi);  dx = g * (lo < x < hi)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xd = x.data
        return _times_const(g, ~((xd <= ctx.lo) | (xd >= ctx.hi))), None, None  # NaN: g


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """Clamp to [min_val, max_val]; the gradient is zero outside the open interval."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
            f"max_val={max_val}"
        )
    return _result(input, _apply(Hardtanh, input, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Hardsigmoid(Function):
    """out = clip(x / 6 + 1/2, 0, 1);  dx = g / 6 where -3 < x < 3"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = x / 6
        out += 0.5
        return np.clip(out, 0, 1, out=out)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xd = x.data
        d = ((xd > -3) & (xd < 3)).astype(xd.dtype)
        d /= 6
        return _times_const(g, d)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """A piecewise-linear sigmoid: 0 below -3, 1 above 3, x / 6 + 1/2 between."""
    _check_float(input, "hardsigmoid")
    return _result(input, _apply(Hardsigmoid, input), inplace)


class Threshold(Function):
    """out = x if x > th else value;  dx = g * (x > th)"""

    @staticmethod
    def forward(ctx, x, th, value):
        keep = x > th
        ctx.save_for_backward(keep)
        return np.where(keep, x, np.asarray(value, x.dtype))

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return _times_const(g, keep.data), None, None


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value."""
    return _result(input, _apply(Threshold, input, threshold, value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return input._inplace(_apply(Threshold, input, threshold, value))


class Hardshrink(Function):
    """out = x if |x| > lambd else 0;  dx = g * (|x| > lambd)"""

    @staticmethod
    def forward(ctx, x, lambd):
        keep = ~((x >= -lambd) & (x <= lambd))  # NaN is kept (and its gradient passes)
        ctx.save_for_backward(keep)
        return x * keep

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return _times_const(g, keep.data), None


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    return _apply(Hardshrink, input, lambd)


class Softshrink(Function):
    """out = x - lambd * sign(x) if |x| > lambd else 0;  dx = g * (|x| > lambd)"""

    @staticmethod
    def forward(ctx, x, lambd):
        keep = ~((x >= -lambd) & (x <= lambd))  # NaN is kept (and its gradient passes)
        ctx.save_for_backward(keep)
        return (x - np.sign(x) * x.dtype.type(lambd)) * keep

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return _times_const(g, keep.data), None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrink toward zero by lambd; values within [-lambd, lambd] become 0."""
    if lambd < 0:
        raise RuntimeError(
            f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}."
        )
    return _apply(Softshrink, input, lambd)


class Prelu(Function):
    """out = x if x > 0 else w * x;  dx = g * (1 if x > 0 else w),  dw = g * x where x <= 0"""

    @staticmethod
    def forward(ctx, x, w):
        pos = x > 0
        ctx.save_for_backward(x, w, pos)
        return x * _slope_factor(pos, w, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, w, pos = ctx.saved_tensors
        neg = Tensor._make(~pos.data)
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = g * (Tensor._make(pos.data.astype(g.dtype)) + w * neg)
        if ctx.needs_input_grad[1]:
            gw = g * x * neg
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; weight has 1 element or one per channel (dim 1)."""
    _check_float(input, "prelu")
    n = weight.data.size
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or (n != 1 and n != channels):
        raise RuntimeError(
            f"prelu: mismatch in parameter count between weight and input: weight has {n} "
            f"elements, input has {channels} channels (dim 1 of shape {list(input.shape)})"
        )
    if n != 1 and input.ndim > 2:
        weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        weight = weight.reshape(())
    return Prelu.apply(input, weight)


# ----------------------------------------------------------------------------------------------
# ELU family: elu, selu, celu
# ----------------------------------------------------------------------------------------------


class Elu(Function):
    """out = s * x if x > 0 else s * a * (exp(k * x) - 1);  dx = g * elu'(x)"""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.args = (alpha, scale, input_scale)
        out = np.minimum(x, 0)  # the two parts below are never both non-zero
        out *= input_scale
        np.expm1(out, out=out)
        out *= alpha * scale
        pos = np.maximum(x, 0)
        if scale != 1:
            pos *= scale
        out += pos
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, EluBackward, *ctx.args), None, None, None


class EluBackward(_Derivative):
    """out = elu'(x) = s if x > 0 else s * a * k * exp(k * x);  dx = g * s * a * k^2 * exp(k * x)"""

    @staticmethod
    def value(x, alpha, scale, input_scale):
        pos = x > 0
        e = np.minimum(x, 0)
        e *= input_scale
        np.exp(e, out=e)
        e *= alpha * scale * input_scale
        e *= ~pos
        e += pos * x.dtype.type(scale)
        return e

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, k = ctx.args
        neg = Tensor._make((x.data <= 0).astype(x.dtype))
        d2 = (x * neg * k).exp() * neg * (alpha * scale * k * k)
        return g * d2, None, None, None


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    _check_float(input, "elu")
    return _result(input, _apply(Elu, input, float(alpha), 1.0, 1.0), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants alpha=1.6733, scale=1.0507."""
    _check_float(input, "selu")
    return _result(input, _apply(Elu, input, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _check_float(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    return _result(input, _apply(Elu, input, float(alpha), 1.0, 1.0 / alpha), inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


# ----------------------------------------------------------------------------------------------
# Smooth activations: gelu, silu, mish, softplus, logsigmoid, hardswish
# ----------------------------------------------------------------------------------------------


def _gelu_tanh_t(x: np.ndarray) -> np.ndarray:
    """tanh(u) with u = k (x + c x^3), the inner term of the tanh approximation."""
    u = x * x
    u *= _GELU_C
    u += 1
    u *= x
    u *= _GELU_K
    return np.tanh(u, out=u)


def _gelu_tanh_du(x: np.ndarray) -> np.ndarray:
    """u' = k (1 + 3 c x^2)."""
    du = x * x
    du *= 3 * _GELU_C
    du += 1
    du *= _GELU_K
    return du


class Gelu(Function):
    """out = x * Phi(x) (or its tanh approximation);  dx = g * gelu'(x)"""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = _gelu_tanh_t(x)
            t += 1
            t *= 0.5
            return t * x
        return x * _ndtr(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, GeluBackward, ctx.approximate), None


class GeluBackward(_Derivative):
    """out = gelu'(x) = Phi(x) + x * phi(x);  dx = g * phi(x) * (2 - x^2) (or the tanh forms)"""

    @staticmethod
    def value(x, approximate):
        if approximate == "tanh":
            t = _gelu_tanh_t(x)
            sech2 = 1 - t * t
            sech2 *= _gelu_tanh_du(x)
            sech2 *= x
            t += 1
            t += sech2
            t *= 0.5
            return t
        pdf = x * x
        pdf *= -0.5
        np.exp(pdf, out=pdf)
        pdf *= _INV_SQRT_2PI
        pdf *= x
        pdf += _ndtr(x)
        return pdf

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        x2 = x * x
        if ctx.args[0] == "tanh":
            u = (x + x2 * x * _GELU_C) * _GELU_K
            du = (x2 * (3 * _GELU_C) + 1) * _GELU_K
            t = tanh(u)
            d2 = (1 - t * t) * (du + x * 0.5 * (x * (6 * _GELU_K * _GELU_C) - t * du * du * 2))
        else:
            d2 = (x2 * -0.5).exp() * (2 - x2) * _INV_SQRT_2PI
        return g * d2, None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"gelu: approximate argument must be either none or tanh, got {approximate!r}"
        )
    _check_float(input, "gelu")
    return _apply(Gelu, input, approximate)


class Silu(Function):
    """out = x * sigmoid(x);  dx = g * s * (1 + x * (1 - s))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _sigmoid_np(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, SiluBackward)


class SiluBackward(_Derivative):
    """out = s * (1 + x * (1 - s)), s = sigmoid(x);  dx = g * s (1 - s) (2 + x (1 - 2 s))"""

    @staticmethod
    def value(x):
        s = _sigmoid_np(x)
        d = 1 - s
        d *= x
        d += 1
        d *= s
        return d

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return g * (s * (1 - s) * (2 + x * (1 - 2 * s)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    _check_float(input, "silu")
    return _result(input, _apply(Silu, input), inplace)


def _softplus_np(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), without overflow."""
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def _tanh_softplus(x: np.ndarray) -> np.ndarray:
    """tanh(softplus(x)) = n (n + 2) / (n (n + 2) + 2) with n = exp(x)."""
    n = np.minimum(x, 20)  # beyond, the result is 1 in double precision too
    np.exp(n, out=n)
    a = n + 2
    a *= n
    n = a + 2
    a /= n
    return a


class Mish(Function):
    """out = x * tanh(softplus(x));  dx = g * (T + x * s * (1 - T^2))"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _tanh_softplus(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, MishBackward)


class MishBackward(_Derivative):
    """out = T + x s (1 - T^2), T = tanh(softplus(x));  dx = g s (1 - T^2)(2 + x (1 - s - 2 T s))"""

    @staticmethod
    def value(x):
        t = _tanh_softplus(x)
        d = t * t
        np.subtract(1, d, out=d)
        d *= _sigmoid_np(x)
        d *= x
        d += t
        return d

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        t = tanh(softplus(x))
        return g * (s * (1 - t * t) * (2 + x * (1 - s - 2 * t * s)))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _check_float(input, "mish")
    return _result(input, _apply(Mish, input), inplace)


class Softplus(Function):
    """out = log(1 + exp(b x)) / b (x where b x > threshold);  dx = g * sigmoid(b x)"""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.args = (beta, threshold)
        bx = x * beta
        out = _softplus_np(bx)
        if beta != 1:
            out /= beta
        linear = bx > threshold
        if linear.any():
            np.copyto(out, x, where=linear)
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, SoftplusBackward, *ctx.args), None, None


class SoftplusBackward(_Derivative):
    """out = sigmoid(b x) (1 where b x > threshold);  dx = g * b * s * (1 - s)"""

    @staticmethod
    def value(x, beta, threshold):
        bx = x * beta
        s = _sigmoid_np(bx)
        s[bx > threshold] = 1
        return s

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.args
        live = Tensor._make((x.data * beta <= threshold).astype(x.dtype) * x.dtype.type(beta))
        s = sigmoid(x * beta)
        return g * (s * (1 - s) * live), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, reverting to x where beta * x > threshold."""
    _check_float(input, "softplus")
    return _apply(Softplus, input, beta, threshold)


class Logsigmoid(Function):
    """out = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|));  dx = g * sigmoid(-x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -_softplus_np(-x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, LogsigmoidBackward)


class LogsigmoidBackward(_Derivative):
    """out = sigmoid(-x);  dx = -g * s * (1 - s)"""

    @staticmethod
    def value(x):
        return _sigmoid_np(-x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return -g * s * (1 - s)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow."""
    _check_float(input, "log_sigmoid")
    return _apply(Logsigmoid, input)


class Hardswish(Function):
    """out = x * clip(x + 3, 0, 6) / 6;  dx = g * (0 | x/3 + 1/2 | 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        r = x + 3
        np.clip(r, 0, 6, out=r)
        r *= x
        r /= 6
        return r

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _chain(g, x, HardswishBackward)


class HardswishBackward(_Derivative):
    """out = 0 (x <= -3), x/3 + 1/2 (-3 < x < 3), 1 (x >= 3);  dx = g / 3 on (-3, 3)"""

    @staticmethod
    def value(x):
        d = np.clip(x, -3, 3)  # the clip makes d 1.5 at x >= 3 and -0.5 at x <= -3
        d /= 3
        d += 0.5
        d[x <= -3] = 0
        d[~(x < 3)] = 1  # NaN too, as in PyTorch
        return d

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xd = x.data
        d2 = ((xd > -3) & (xd < 3)).astype(xd.dtype)
        d2 /= 3
        return g * Tensor._make(d2)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    _check_float(input, "hardswish")
    return _result(input, _apply(Hardswish, input), inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - tanh(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: a * sigmoid(b), where a and b are the two halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(
            f"glu: Halving dimension must be even, but dimension {dim % input.ndim} is size {n}"
        )
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


# ----------------------------------------------------------------------------------------------
# Softmax family
# ----------------------------------------------------------------------------------------------


def _softmax_np(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return np.empty_like(x)
    e = x - x.max(axis=dim, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _log_softmax_np(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return np.empty_like(x)
    z = x - x.max(axis=dim, keepdims=True)
    lse = np.exp(z).sum(axis=dim, keepdims=True)
    z -= np.log(lse, out=lse)
    return z


class Softmax(Function):
    """out = exp(x) / sum(exp(x), dim);  dx = out * (g - sum(g * out, dim))"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = _softmax_np(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return SoftmaxBackward.apply(g, y, ctx.dim), None


class SoftmaxBackward(Function):
    """out = y * (g - sum(g * y, dim)) (softmax's gradient, y the softmax);  dg = SoftmaxBackward(u, y),  dy = u g - u sum(g y) - g sum(u y)"""

    @staticmethod
    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        gy = g * y
        gy -= y * gy.sum(axis=dim, keepdims=True)
        return gy

    @staticmethod
    def backward(ctx, u):
        g, y = ctx.saved_tensors
        dim = ctx.dim
        need_g, need_y = ctx.needs_input_grad[:2]
        dg = SoftmaxBackward.apply(u, y, dim) if need_g else None
        dy = None
        if need_y:
            dy = u * (g - (g * y).sum(dim, keepdim=True)) - g * (u * y).sum(dim, keepdim=True)
        return dg, dy, None


class LogSoftmax(Function):
    """out = x - logsumexp(x, dim);  dx = g - exp(out) * sum(g, dim)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = _log_softmax_np(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return LogSoftmaxBackward.apply(g, y, ctx.dim), None


class LogSoftmaxBackward(Function):
    """out = g - exp(y) * sum(g, dim) (log_softmax's gradient, y the log_softmax);  dg = u - sum(u exp(y), dim),  dy = -u exp(y) sum(g, dim)"""

    @staticmethod
    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        p = np.exp(y)
        p *= g.sum(axis=dim, keepdims=True)
        return g - p

    @staticmethod
    def backward(ctx, u):
        g, y = ctx.saved_tensors
        dim = ctx.dim
        need_g, need_y = ctx.needs_input_grad[:2]
        p = y.exp()
        dg = u - (u * p).sum(dim, keepdim=True) if need_g else None
        dy = -(u * p) * g.sum(dim, keepdim=True) if need_y else None
        return dg, dy, None


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        f"dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(input: Tensor, dim, dtype, name: str, stacklevel: int) -> tuple[Tensor, int]:
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: expected a floating point input, got {input.dtype} (pass dtype= to convert)"
        )
    n = input.ndim
    if dim is None:
        dim = _softmax_dim(name, n, stacklevel + 1)
    lo, hi = -max(n, 1), max(n, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of [{lo}, {hi}], but got "
            f"{dim})"
        )
    return input, dim % max(n, 1)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable for large inputs; ``dtype`` casts first.

    >>> import mytorch.core as mt
    >>> softmax(mt.tensor([[0.0, 0.0, 0.0]]), dim=1).tolist()  # doctest: +ELLIPSIS
    [[0.333..., 0.333..., 0.333...]]
    """
    input, dim = _prepare(input, dim, dtype, "softmax", _stacklevel)
    return _apply(Softmax, input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``; ``dtype`` casts first."""
    input, dim = _prepare(input, dim, dtype, "log_softmax", _stacklevel)
    return _apply(LogSoftmax, input, dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    input, dim = _prepare(input, dim, dtype, "softmin", _stacklevel)
    return _apply(Softmax, -input, dim)
