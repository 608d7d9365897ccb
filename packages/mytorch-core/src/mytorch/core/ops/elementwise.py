"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, rounding, comparisons, logic.

Binary ops broadcast like NumPy/PyTorch and accept a Tensor, a Python/NumPy scalar or an
ndarray on either side; the result dtype follows PyTorch's promotion (``result_type``).
Their backward returns gradients of the broadcast shape and the engine sums them back to
each input's shape.

>>> import mytorch.core as mt
>>> x = mt.tensor([1, 2, 3])
>>> (x / 2).dtype, (x * 2).dtype, (x > 1).dtype
(dtype('float32'), dtype('int64'), dtype('bool'))
"""

from __future__ import annotations

import builtins
import math
from numbers import Number

import numpy as np

from mytorch.core import dtypes
from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor

__all__ = [
    "result_type",
    "add",
    "sub",
    "subtract",
    "mul",
    "multiply",
    "div",
    "divide",
    "true_divide",
    "floor_divide",
    "remainder",
    "pow",
    "neg",
    "negative",
    "abs",
    "absolute",
    "sign",
    "exp",
    "exp2",
    "log",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "floor",
    "ceil",
    "round",
    "trunc",
    "clamp",
    "clip",
    "maximum",
    "minimum",
    "where",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "isnan",
    "isinf",
    "isfinite",
    "cast",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TORCH_NAMES = {
    "b": {1: "Bool"},
    "u": {1: "Byte"},
    "i": {1: "Char", 2: "Short", 4: "Int", 8: "Long"},
    "f": {2: "Half", 4: "Float", 8: "Double"},
}


def torch_dtype_name(dtype: np.dtype) -> str:
    """PyTorch's name for a dtype in error messages (``Long`` for int64, ``Float`` for float32)."""
    return _TORCH_NAMES.get(dtype.kind, {}).get(dtype.itemsize, str(dtype))


# ----------------------------------------------------------------------------------------------
# Type promotion
# ----------------------------------------------------------------------------------------------


def _promote_types(d1: np.dtype | None, d2: np.dtype | None) -> np.dtype | None:
    """PyTorch's promote_types: like NumPy's, but integer with float gives that float."""
    if d1 is None:
        return d2
    if d2 is None or d1 == d2:
        return d1
    f1, f2 = d1.kind == "f", d2.kind == "f"
    if f1 != f2:
        return d1 if f1 else d2
    return np.promote_types(d1, d2)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Let a lower-priority group change the dtype only when it is of a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote_types(higher, lower)
    return higher


def _scalar_dtype(x) -> np.dtype:
    if isinstance(x, bool):
        return dtypes.bool_
    if isinstance(x, int):
        return dtypes.int64
    return dtypes.get_default_dtype()


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an elementwise op on ``operands`` (Tensors, arrays or numbers).

    Tensors with dimensions outrank 0-d tensors, which outrank Python numbers; a lower group
    only matters when its category (bool < integer < float) is higher.

    >>> import mytorch.core as mt
    >>> mt.result_type(mt.tensor([1, 2]), 2.5), mt.result_type(mt.tensor([1.0]), mt.tensor(2.0).double())
    (dtype('float32'), dtype('float32'))
    """
    dim = zero = wrapped = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, Tensor):
            x = x.data
        if isinstance(x, np.ndarray):
            if x.ndim:
                dim = _promote_types(dim, x.dtype)
            else:
                zero = _promote_types(zero, x.dtype)
        else:
            wrapped = _promote_types(wrapped, _scalar_dtype(x))
    return _combine(dim, _combine(zero, wrapped))


def _as(x, dtype: np.dtype):
    """``x`` in ``dtype``: arrays are converted, Python scalars stay weakly typed."""
    if isinstance(x, np.ndarray) and x.dtype != dtype:
        return x.astype(dtype)
    return x


def _coerce(a, b) -> tuple:
    """Both operands in their common PyTorch dtype, and that dtype (fast for the usual cases)."""
    if type(a) is np.ndarray:
        da = a.dtype
        tb = type(b)
        if tb is np.ndarray:
            if da == b.dtype:
                return a, b, da
        elif tb is float:
            if da.kind == "f":
                return a, b, da
        elif tb is int and da.kind in "iuf":
            return a, b, da
    elif type(b) is np.ndarray:
        db = b.dtype
        ta = type(a)
        if ta is float:
            if db.kind == "f":
                return a, b, db
        elif ta is int and db.kind in "iuf":
            return a, b, db
    dt = result_type(a, b)
    return _as(a, dt), _as(b, dt), dt


def _fix_dtype(r: np.ndarray, a, b) -> np.ndarray:
    """``r`` (computed by NumPy from ``a`` and ``b``) converted to PyTorch's result dtype."""
    dt = result_type(a, b)
    return r if r.dtype == dt else r.astype(dt)


def _float(a: np.ndarray) -> np.ndarray:
    """Integer and bool inputs of float functions (exp, log, sin...) become the default float."""
    return a if a.dtype.kind == "f" else a.astype(dtypes.get_default_dtype())


# ----------------------------------------------------------------------------------------------
# Argument checking
# ----------------------------------------------------------------------------------------------


def _operand(x, op: str, name: str):
    if isinstance(x, (Tensor, np.ndarray)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, bool):
        return builtins.bool(x)
    if isinstance(x, int):
        return builtins.int(x)
    if isinstance(x, float):
        return builtins.float(x)
    raise TypeError(f"{op}(): argument '{name}' must be Tensor or Number, not {type(x).__name__}")


def _operands(a, b, op: str) -> tuple:
    """Validate the two operands of a binary op: Tensor, Python/NumPy number or ndarray."""
    if isinstance(a, Tensor):
        tb = type(b)
        if tb is float or tb is int or isinstance(b, Tensor):
            return a, b
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int):
        return a, b
    a, b = _operand(a, op, "input"), _operand(b, op, "other")
    if not isinstance(a, (Tensor, np.ndarray)) and not isinstance(b, (Tensor, np.ndarray)):
        raise TypeError(
            f"{op}(): expected at least one Tensor argument, got {type(a).__name__} and "
            f"{type(b).__name__}"
        )
    return a, b


def _tensor(x, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _broadcast_error(op: str, a, b, err: Exception) -> Exception:
    """PyTorch's message when the shapes of ``a`` and ``b`` do not broadcast, else ``err``."""
    sa, sb = np.shape(_data(a)), np.shape(_data(b))
    n = builtins.max(len(sa), len(sb))
    for i in range(1, n + 1):
        da = sa[-i] if i <= len(sa) else 1
        db = sb[-i] if i <= len(sb) else 1
        if da != db and da != 1 and db != 1:
            return RuntimeError(
                f"{op}(): The size of tensor a ({da}) must match the size of tensor b ({db}) "
                f"at non-singleton dimension {n - i}"
            )
    return err


def _binary(cls, op: str, a, b, **kwargs) -> Tensor:
    a, b = _operands(a, b, op)
    try:
        return cls.apply(a, b, **kwargs)
    except ValueError as e:
        raise _broadcast_error(op, a, b, e) from None


# ----------------------------------------------------------------------------------------------
# Saving operands that may be Python scalars
# ----------------------------------------------------------------------------------------------


def _save(ctx, *items) -> None:
    """``save_for_backward`` that also keeps Python scalars (and None) as they are."""
    if True not in ctx.needs_input_grad:
        return
    ctx.scalars = tuple(None if isinstance(x, np.ndarray) else x for x in items)
    ctx.save_for_backward(*items)


def _saved(ctx) -> tuple:
    return tuple(t if s is None else s for s, t in zip(ctx.scalars, ctx.saved_tensors))


def _zeros(shape: tuple, dtype) -> Tensor:
    return Tensor._make(np.zeros(shape, dtype))


def _arr(r) -> np.ndarray:
    """NumPy ufuncs return scalars for 0-d inputs; outputs saved for backward must be arrays."""
    return r if type(r) is np.ndarray else np.asarray(r)


_quiet = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def _zero_grad(ctx, g):
    """Backward of the piecewise-constant ops (sign, rounding): a zero gradient."""
    return _zeros(g.shape, g.dtype)


def _unary_float(name: str, rule: str, fn, grad, *, saves: str = "out", quiet: bool = False):
    """A float function ``out = fn(a)`` (integer input becomes the default float) as a Function.

    ``saves`` is ``"out"`` to keep the output for backward or ``"in"`` to keep the input;
    ``grad(g, saved)`` gives the input gradient; ``quiet`` silences divide/invalid warnings.
    """
    if saves == "out" and quiet:

        def forward(ctx, a):
            with np.errstate(**_quiet):
                out = _arr(fn(_float(a)))
            ctx.save_for_backward(out)
            return out

    elif saves == "out":

        def forward(ctx, a):
            out = _arr(fn(_float(a)))
            ctx.save_for_backward(out)
            return out

    elif quiet:

        def forward(ctx, a):
            a = _float(a)
            ctx.save_for_backward(a)
            with np.errstate(**_quiet):
                return fn(a)

    else:

        def forward(ctx, a):
            a = _float(a)
            ctx.save_for_backward(a)
            return fn(a)

    def backward(ctx, g):
        (saved,) = ctx.saved_tensors
        return grad(g, saved)

    return _function_class(name, rule, forward, backward)


def _rounding(name: str, rule: str, fn, op: str):
    """A rounding Function: integers round to themselves (bool is refused); zero gradient."""

    def forward(ctx, a):
        return a.copy() if _rounding_input(a, op) else fn(a)

    return _function_class(name, rule, forward, _zero_grad)


def _function_class(name: str, rule: str, forward, backward) -> type[Function]:
    namespace = {
        "__doc__": rule,
        "__module__": __name__,
        "__qualname__": name,
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
    }
    return type(name, (Function,), namespace)


def _unary_api(cls: type[Function], op: str, doc: str):
    """The public ``op(input)`` of a unary Function ``cls``."""

    def function(input) -> Tensor:
        return cls.apply(_tensor(input, op))

    function.__name__ = function.__qualname__ = op
    function.__doc__ = doc
    return function


# ----------------------------------------------------------------------------------------------
# Arithmetic
# ----------------------------------------------------------------------------------------------


def _check_alpha(alpha, a, b, op: str) -> None:
    if isinstance(alpha, float) and result_type(_data(a), _data(b)).kind in "biu":
        raise RuntimeError(
            f"{op}(): For integral input tensors, argument alpha must not be a floating point "
            f"number."
        )


def _scaled(b, alpha):
    """alpha * b, keeping a Python ``b`` a (weakly typed) Python number."""
    return b * alpha if not isinstance(b, np.ndarray) else np.multiply(b, alpha)


class Add(Function):
    """out = a + alpha * b;  da = g,  db = alpha * g"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        a, b, _ = _coerce(a, b)
        return np.add(a, b) if alpha == 1 else np.add(a, _scaled(b, alpha))

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (g if need_a else None), (
            (g if ctx.alpha == 1 else g * ctx.alpha) if need_b else None
        )


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other, broadcast.

    >>> import mytorch.core as mt
    >>> mt.add(mt.tensor([1.0, 2.0]), mt.tensor([10.0, 20.0]), alpha=2).tolist()
    [21.0, 42.0]
    """
    if alpha != 1:
        _check_alpha(alpha, input, other, "add")
    return _binary(Add, "add", input, other, alpha=alpha)


class Sub(Function):
    """out = a - alpha * b;  da = g,  db = -alpha * g"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        a, b, dt = _coerce(a, b)
        if dt.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead."
            )
        return np.subtract(a, b) if alpha == 1 else np.subtract(a, _scaled(b, alpha))

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (g if need_a else None), (
            (-g if ctx.alpha == 1 else g * -ctx.alpha) if need_b else None
        )


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other, broadcast; ``sub(2.0, t)`` is ``2.0 - t``."""
    if alpha != 1:
        _check_alpha(alpha, input, other, "sub")
    return _binary(Sub, "sub", input, other, alpha=alpha)


subtract = sub


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a"""

    @staticmethod
    def forward(ctx, a, b):
        _save(ctx, a, b)
        a, b, _ = _coerce(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = _saved(ctx)
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


def mul(input, other) -> Tensor:
    """input * other, broadcast."""
    return _binary(Mul, "mul", input, other)


multiply = mul


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * out / b"""

    @staticmethod
    def forward(ctx, a, b):
        b_orig = b
        a, b, dt = _coerce(a, b)
        if dt.kind != "f":
            dt = dtypes.get_default_dtype()
            a, b = _as(a, dt), _as(b, dt)
        with np.errstate(**_quiet):
            out = _arr(np.true_divide(a, b))
        _save(ctx, b_orig, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = _saved(ctx)
        need_a, need_b = ctx.needs_input_grad
        return (g / b if need_a else None), (-(g * out) / b if need_b else None)


def _int_div_check(b, dt: np.dtype) -> None:
    if dt.kind in "iu" and not np.all(b):
        raise RuntimeError("ZeroDivisionError")


class DivRounded(Function):
    """out = a / b rounded toward zero ('trunc') or down ('floor');  da = 0,  db = 0"""

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        ctx.shapes = (np.shape(a), np.shape(b))
        a, b, dt = _coerce(a, b)
        if dt.kind == "b":
            raise NotImplementedError(f"\"div_{rounding_mode}\" not implemented for 'Bool'")
        _int_div_check(b, dt)
        with np.errstate(**_quiet):
            if rounding_mode == "floor":
                out = np.floor_divide(a, b)
            elif dt.kind == "f":
                out = np.trunc(np.true_divide(a, b))
            else:  # integer division rounding toward zero
                out = np.floor_divide(a, b)
                out += (np.remainder(a, b) != 0) & ((np.less(a, 0)) != (np.less(b, 0)))
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        return (
            (_zeros(sa, g.dtype) if need_a else None),
            (_zeros(sb, g.dtype) if need_b else None),
        )


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """input / other, broadcast; integers divide to the default float dtype.

    ``rounding_mode='trunc'`` rounds toward zero and ``'floor'`` rounds down (both keep integer
    dtypes and have zero gradient).

    >>> import mytorch.core as mt
    >>> mt.div(mt.tensor([-7, 7]), 2, rounding_mode="floor").tolist()
    [-4, 3]
    """
    if rounding_mode is None:
        return _binary(Div, "div", input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )
    return _binary(DivRounded, "div", input, other, rounding_mode=rounding_mode)


divide = div


def true_divide(input, other) -> Tensor:
    """input / other (always true division); same as ``div(input, other)``."""
    return _binary(Div, "true_divide", input, other)


def floor_divide(input, other) -> Tensor:
    """input // other rounded down (Python's ``//``), broadcast; zero gradient."""
    return _binary(DivRounded, "floor_divide", input, other, rounding_mode="floor")


class Remainder(Function):
    """out = a - b * floor(a / b) (sign of b);  da = g,  db = -g * floor(a / b)"""

    @staticmethod
    def forward(ctx, a, b):
        _save(ctx, a, b)
        a, b, dt = _coerce(a, b)
        _int_div_check(b, dt)
        with np.errstate(**_quiet):
            return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        db = None
        if need_b:
            a, b = _saved(ctx)
            a, b, _ = _coerce(_data(a), _data(b))
            with np.errstate(**_quiet):
                q = np.floor_divide(a, b)
            db = g * Tensor._make(np.negative(q).astype(g.dtype, copy=False))
        return (g if need_a else None), db


def remainder(input, other) -> Tensor:
    """Python-style modulus: the result has the sign of ``other``."""
    return _binary(Remainder, "remainder", input, other)


def _int_power(a, b) -> np.ndarray:
    """Integer ``a ** b`` with negative exponents as PyTorch gives it: 1 ** b = 1,
    (-1) ** b = +-1 by the parity of b, any other base (0 too) ** negative b = 0."""
    neg = np.less(b, 0)
    out = np.power(a, np.where(neg, 0, b))
    a = np.broadcast_to(a, out.shape)
    odd = np.remainder(b, 2) != 0
    small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, small, out).astype(out.dtype, copy=False)


class Pow(Function):
    """out = a ** b;  da = g * b * a ** (b - 1) (0 where b == 0),  db = g * out * log(a) (0 where a == 0 and b >= 0)"""

    @staticmethod
    def forward(ctx, a, b):
        a2, b2, _ = _coerce(a, b)
        with np.errstate(**_quiet):
            if np.result_type(a2, b2).kind in "iu" and np.any(np.less(b2, 0)):
                out = _arr(_int_power(a2, b2))
            else:
                out = _arr(np.square(a2) if type(b2) is int and b2 == 2 else np.power(a2, b2))
        _save(ctx, a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = _saved(ctx)
        need_a, need_b = ctx.needs_input_grad
        da = db = None
        if need_a:
            if not isinstance(b, Tensor):  # a Python exponent
                if b == 0:
                    da = _zeros(g.shape, g.dtype)
                elif b == 2:
                    da = g * (a * 2.0)
                else:
                    da = g * (pow(a, b - 1) * b)
            else:
                zero = b.data == 0
                if zero.any():  # b * a ** (b - 1) with b == 0 is 0, even where a == 0
                    safe = Where.apply(zero, 1.0, b)
                    da = Where.apply(zero, 0.0, g * (b * pow(a, safe - 1)))
                else:
                    da = g * (b * pow(a, b - 1))
        if need_b:
            if not isinstance(a, Tensor):  # a Python base
                if a == 0:  # out * log(0): 0 where b >= 0, -inf where out is inf
                    db = g * Tensor._make(np.where(b.data >= 0, 0.0, -math.inf).astype(g.dtype))
                else:
                    db = g * (out * (math.log(a) if a > 0 else math.nan))
            else:
                mask = (a.data == 0) & (b.data >= 0)
                if mask.any():  # 0 where a == 0 and b >= 0 (log(0) never computed there)
                    db = Where.apply(mask, 0.0, g * (out * log(Where.apply(mask, 1.0, a))))
                else:
                    db = g * (out * log(a))
        return da, db


def pow(input, exponent) -> Tensor:
    """input ** exponent, broadcast; either side may be a Python number.

    >>> import mytorch.core as mt
    >>> mt.pow(mt.tensor([1.0, 2.0, 3.0]), 2).tolist(), mt.pow(2, mt.tensor([1, 2])).tolist()
    ([1.0, 4.0, 9.0], [2, 4])
    """
    input, exponent = _operands(input, exponent, "pow")
    if (
        type(exponent) is int
        and exponent < 0
        and isinstance(input, (Tensor, np.ndarray))
        and input.dtype.kind in "biu"
    ):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        return Pow.apply(input, exponent)
    except ValueError as e:
        raise _broadcast_error("pow", input, exponent, e) from None


# ----------------------------------------------------------------------------------------------
# Unary arithmetic
# ----------------------------------------------------------------------------------------------


class Neg(Function):
    """out = -a;  da = -g"""

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                "to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


def neg(input) -> Tensor:
    """-input."""
    return Neg.apply(_tensor(input, "neg"))


negative = neg


class Abs(Function):
    """out = |a|;  da = g * sign(a)"""

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "b":
            raise NotImplementedError("\"abs\" not implemented for 'Bool'")
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * sign(a)


def abs(input) -> Tensor:
    """|input| elementwise."""
    return Abs.apply(_tensor(input, "abs"))


absolute = abs


class Sign(Function):
    """out = -1, 0 or 1 by the sign of a (0 for NaN);  da = 0"""

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "b":
            return a.copy()
        out = np.sign(a)
        if a.dtype.kind == "f":
            out = np.nan_to_num(_arr(out), copy=False, nan=0.0)
        return out

    backward = staticmethod(_zero_grad)


def sign(input) -> Tensor:
    """-1, 0 or 1 by the sign of each element (zero gradient)."""
    return Sign.apply(_tensor(input, "sign"))


class Square(Function):
    """out = a * a;  da = 2 * a * g"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.square(a if a.dtype.kind != "b" else a.astype(dtypes.int64))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (a * 2.0)


def square(input) -> Tensor:
    """input ** 2 (integers stay integers)."""
    return Square.apply(_tensor(input, "square"))


Reciprocal = _unary_float(
    "Reciprocal",
    "out = 1 / a;  da = -g * out * out",
    np.reciprocal,
    lambda g, out: -g * (out * out),
    quiet=True,
)
reciprocal = _unary_api(
    Reciprocal, "reciprocal", "1 / input (integers become the default float dtype)."
)


# ----------------------------------------------------------------------------------------------
# Exponentials and logarithms
# ----------------------------------------------------------------------------------------------


def _rsqrt(x: np.ndarray) -> np.ndarray:
    return np.reciprocal(np.sqrt(x))


# fmt: off
Exp = _unary_float(
    "Exp", "out = exp(a);  da = g * out", np.exp, lambda g, out: g * out
)
Exp2 = _unary_float(
    "Exp2", "out = 2 ** a;  da = g * out * ln 2", np.exp2, lambda g, out: g * (out * _LN2)
)
Expm1 = _unary_float(
    "Expm1", "out = exp(a) - 1;  da = g * (out + 1)", np.expm1, lambda g, out: g * (out + 1.0)
)
Log = _unary_float(
    "Log", "out = ln(a);  da = g / a", np.log, lambda g, a: g / a, saves="in", quiet=True
)
Log2 = _unary_float(
    "Log2", "out = log2(a);  da = g / (a * ln 2)", np.log2, lambda g, a: g / (a * _LN2),
    saves="in", quiet=True,
)
Log10 = _unary_float(
    "Log10", "out = log10(a);  da = g / (a * ln 10)", np.log10, lambda g, a: g / (a * _LN10),
    saves="in", quiet=True,
)
Log1p = _unary_float(
    "Log1p", "out = ln(1 + a);  da = g / (1 + a)", np.log1p, lambda g, a: g / (a + 1.0),
    saves="in", quiet=True,
)
Sqrt = _unary_float(
    "Sqrt", "out = sqrt(a);  da = g / (2 * out)", np.sqrt, lambda g, out: g / (out * 2.0),
    quiet=True,
)
Rsqrt = _unary_float(
    "Rsqrt", "out = 1 / sqrt(a);  da = -0.5 * g * out ** 3", _rsqrt,
    lambda g, out: g * (out * out * out * -0.5), quiet=True,
)
# fmt: on

exp = _unary_api(Exp, "exp", "e ** input.")
exp2 = _unary_api(Exp2, "exp2", "2 ** input.")
expm1 = _unary_api(Expm1, "expm1", "exp(input) - 1, accurate near 0.")
log = _unary_api(Log, "log", "Natural logarithm (-inf at 0, NaN below).")
log2 = _unary_api(Log2, "log2", "Base-2 logarithm.")
log10 = _unary_api(Log10, "log10", "Base-10 logarithm.")
log1p = _unary_api(Log1p, "log1p", "ln(1 + input), accurate near 0.")
sqrt = _unary_api(Sqrt, "sqrt", "Square root (NaN below 0).")
rsqrt = _unary_api(Rsqrt, "rsqrt", "1 / sqrt(input).")


# ----------------------------------------------------------------------------------------------
# Trigonometric and squashing functions
# ----------------------------------------------------------------------------------------------


# fmt: off
Sin = _unary_float(
    "Sin", "out = sin(a);  da = g * cos(a)", np.sin, lambda g, a: g * cos(a), saves="in"
)
Cos = _unary_float(
    "Cos", "out = cos(a);  da = -g * sin(a)", np.cos, lambda g, a: g * -sin(a), saves="in"
)
Tan = _unary_float(
    "Tan", "out = tan(a);  da = g * (1 + out ** 2)", np.tan, lambda g, out: g * (out * out + 1.0)
)
Tanh = _unary_float(
    "Tanh", "out = tanh(a);  da = g * (1 - out ** 2)", np.tanh,
    lambda g, out: g * (1.0 - out * out),
)
# fmt: on

sin = _unary_api(Sin, "sin", "Sine (radians).")
cos = _unary_api(Cos, "cos", "Cosine (radians).")
tan = _unary_api(Tan, "tan", "Tangent (radians).")
tanh = _unary_api(Tanh, "tanh", "Hyperbolic tangent.")


class Sigmoid(Function):
    """out = 1 / (1 + exp(-a)) (computed without overflow);  da = g * out * (1 - out)"""

    @staticmethod
    def forward(ctx, a):
        a = _float(a)
        e = np.exp(-np.abs(a))  # in (0, 1]: never overflows
        out = _arr(np.where(a >= 0, 1.0, e).astype(a.dtype, copy=False) / (e + 1.0))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out * (1.0 - out))


def sigmoid(input) -> Tensor:
    """Logistic function 1 / (1 + exp(-input)), stable for large |input|."""
    return Sigmoid.apply(_tensor(input, "sigmoid"))


# ----------------------------------------------------------------------------------------------
# Rounding (zero gradient, like PyTorch)
# ----------------------------------------------------------------------------------------------


def _rounding_input(a: np.ndarray, op: str) -> bool:
    """True when ``a`` is an integer array (which rounds to itself); bool is refused."""
    if a.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")
    return a.dtype.kind in "iu"


Floor = _rounding("Floor", "out = floor(a);  da = 0", np.floor, "floor")
Ceil = _rounding("Ceil", "out = ceil(a);  da = 0", np.ceil, "ceil")
Trunc = _rounding("Trunc", "out = a rounded toward zero;  da = 0", np.trunc, "trunc")
floor = _unary_api(Floor, "floor", "Largest integer <= input (zero gradient).")
ceil = _unary_api(Ceil, "ceil", "Smallest integer >= input (zero gradient).")
trunc = _unary_api(Trunc, "trunc", "input rounded toward zero (zero gradient).")


class Round(Function):
    """out = a rounded half to even at ``decimals`` digits;  da = 0"""

    @staticmethod
    def forward(ctx, a, decimals=0):
        if _rounding_input(a, "round"):
            if decimals:
                raise NotImplementedError(
                    f"round(): decimals={decimals} is not supported for integer tensors "
                    f"({torch_dtype_name(a.dtype)})"
                )
            return a.copy()
        return np.round(a, decimals)

    backward = staticmethod(_zero_grad)


def round(input, *, decimals: int = 0) -> Tensor:
    """input rounded to ``decimals`` digits, halves to even like PyTorch (zero gradient).

    >>> import mytorch.core as mt
    >>> mt.round(mt.tensor([0.5, 1.5, 2.5])).tolist()
    [0.0, 2.0, 2.0]
    """
    return Round.apply(_tensor(input, "round"), decimals=decimals)


# ----------------------------------------------------------------------------------------------
# Clamping, maximum/minimum, where
# ----------------------------------------------------------------------------------------------


class Clamp(Function):
    """out = min(max(a, lo), hi);  da = g where lo <= a <= hi,  dlo = g where a < lo (and lo < hi),  dhi = g where a > hi (or hi < lo)"""

    @staticmethod
    def forward(ctx, a, lo, hi):
        _save(ctx, a, lo, hi)
        dt = result_type(a, lo, hi)
        out = np.clip(_as(a, dt), _as(lo, dt), _as(hi, dt))
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = (_data(x) for x in _saved(ctx))
        need_a, need_lo, need_hi = ctx.needs_input_grad
        da = dlo = dhi = None
        if lo is not None and hi is not None:
            if need_a:
                da = Where.apply((a >= lo) & (a <= hi), g, 0.0)
            if need_lo:
                dlo = Where.apply((a < lo) & (lo < hi), g, 0.0)
            if need_hi:
                dhi = Where.apply((a > hi) | (hi < lo), g, 0.0)
        elif lo is not None:
            if need_a:
                da = Where.apply(a >= lo, g, 0.0)
            if need_lo:
                dlo = Where.apply(a < lo, g, 0.0)
        else:
            if need_a:
                da = Where.apply(a <= hi, g, 0.0)
            if need_hi:
                dhi = Where.apply(a > hi, g, 0.0)
        return da, dlo, dhi


def _clamp_bound(x, name: str):
    if x is None or isinstance(x, Tensor):
        return x
    return _operand(x, "clamp", name)


def clamp(input, min=None, max=None) -> Tensor:
    """input limited to [min, max] (either may be None, a number or a Tensor).

    The gradient flows to ``input`` where min <= input <= max, otherwise to the active bound.

    >>> import mytorch.core as mt
    >>> mt.clamp(mt.tensor([-1.0, 0.5, 2.0]), 0, 1).tolist()
    [0.0, 0.5, 1.0]
    """
    input = _tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    lo, hi = _clamp_bound(min, "min"), _clamp_bound(max, "max")
    try:
        return Clamp.apply(input, lo, hi)
    except ValueError as e:
        other = lo if isinstance(lo, (Tensor, np.ndarray)) else hi
        raise _broadcast_error("clamp", input, other, e) from None


clip = clamp


def _ties_forward(ufunc):
    """Maximum/Minimum forward: ``ufunc`` (np.maximum or np.minimum) of the coerced operands."""

    def forward(ctx, a, b):
        _save(ctx, a, b)
        a, b, _ = _coerce(a, b)
        return ufunc(a, b)

    return staticmethod(forward)


def _ties_grads(ctx, g, lose) -> tuple:
    """Gradients of maximum/minimum: g for the winner, g / 2 each on ties (NaN: g)."""
    a, b = _saved(ctx)
    a, b, _ = _coerce(_data(a), _data(b))
    half = np.where(a == b, 0.5, 1.0)
    need_a, need_b = ctx.needs_input_grad
    dt = g.dtype
    return (
        (g * Tensor._make((half * ~lose(a, b)).astype(dt, copy=False)) if need_a else None),
        (g * Tensor._make((half * ~lose(b, a)).astype(dt, copy=False)) if need_b else None),
    )


class Maximum(Function):
    """out = max(a, b);  da = g where a > b, db = g where b > a, g / 2 each on ties"""

    forward = _ties_forward(np.maximum)

    @staticmethod
    def backward(ctx, g):
        return _ties_grads(ctx, g, np.less)


def maximum(input, other) -> Tensor:
    """Elementwise maximum, broadcast (NaN propagates); ties split the gradient evenly."""
    return _binary(Maximum, "maximum", input, other)


class Minimum(Function):
    """out = min(a, b);  da = g where a < b, db = g where b < a, g / 2 each on ties"""

    forward = _ties_forward(np.minimum)

    @staticmethod
    def backward(ctx, g):
        return _ties_grads(ctx, g, np.greater)


def minimum(input, other) -> Tensor:
    """Elementwise minimum, broadcast (NaN propagates); ties split the gradient evenly."""
    return _binary(Minimum, "minimum", input, other)


class Where(Function):
    """out = x where cond else y;  dx = g where cond else 0,  dy = g where not cond else 0"""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        x, y, dt = _coerce(x, y)
        out = np.where(cond, x, y)
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        cond = cond.data
        _, need_x, need_y = ctx.needs_input_grad
        return (
            None,
            (Where.apply(cond, g, 0.0) if need_x else None),
            (Where.apply(cond, 0.0, g) if need_y else None),
        )


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` is True, else of ``other`` (all broadcast).

    ``input``/``other`` may be numbers; ``where(condition)`` alone returns the indices of the
    True elements, one int64 tensor per dimension.

    >>> import mytorch.core as mt
    >>> x = mt.tensor([-1.0, 2.0])
    >>> mt.where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    """
    cond = _data(condition)
    if not isinstance(cond, np.ndarray) or cond.dtype != np.bool_:
        got = cond.dtype if isinstance(cond, np.ndarray) else type(cond).__name__
        name = torch_dtype_name(got) if isinstance(got, np.dtype) else got
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {name}"
        )
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64, copy=False)) for i in np.nonzero(cond))
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    x, y = _operand(input, "where", "input"), _operand(other, "where", "other")
    try:
        return Where.apply(condition, x, y)
    except ValueError as e:
        shapes = [list(np.shape(_data(t))) for t in (condition, x, y)]
        raise RuntimeError(
            f"where(): shapes of condition, input and other do not broadcast: {shapes}"
        ) from e


# ----------------------------------------------------------------------------------------------
# Comparisons, logic and tests (no gradient)
# ----------------------------------------------------------------------------------------------


def _compare(ufunc, op: str, input, other) -> Tensor:
    input, other = _operands(input, other, op)
    a, b, _ = _coerce(_data(input), _data(other))
    try:
        r = ufunc(a, b)
    except ValueError as e:
        raise _broadcast_error(op, input, other, e) from None
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r))


def _comparable(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, Number)) and not isinstance(x, complex)


def _not_comparable(op: str, input, other) -> TypeError:
    return TypeError(
        f"{op}() received an invalid combination of arguments - got ({type(input).__name__}, "
        f"{type(other).__name__}), but expected (Tensor input, Tensor other) or (Tensor input, "
        f"Number other)"
    )


def eq(input, other) -> Tensor:
    """input == other elementwise (bool); ``other`` a tensor or a number (the ``==`` operator
    instead gives False for anything else, as in PyTorch)."""
    if not _comparable(other):
        raise _not_comparable("eq", input, other)
    return _compare(np.equal, "eq", input, other)


def ne(input, other) -> Tensor:
    """input != other elementwise (bool); ``other`` a tensor or a number (the ``!=`` operator
    instead gives True for anything else, as in PyTorch)."""
    if not _comparable(other):
        raise _not_comparable("ne", input, other)
    return _compare(np.not_equal, "ne", input, other)


def lt(input, other) -> Tensor:
    """input < other elementwise (bool)."""
    return _compare(np.less, "lt", input, other)


def le(input, other) -> Tensor:
    """input <= other elementwise (bool)."""
    return _compare(np.less_equal, "le", input, other)


def gt(input, other) -> Tensor:
    """input > other elementwise (bool)."""
    return _compare(np.greater, "gt", input, other)


def ge(input, other) -> Tensor:
    """input >= other elementwise (bool)."""
    return _compare(np.greater_equal, "ge", input, other)


def _logical(ufunc, op: str, input, other) -> Tensor:
    input, other = _operands(input, other, op)
    try:
        r = ufunc(_data(input), _data(other))
    except ValueError as e:
        raise _broadcast_error(op, input, other, e) from None
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r))


def logical_and(input, other) -> Tensor:
    """Elementwise AND of the truth values (nonzero is True); bool result."""
    return _logical(np.logical_and, "logical_and", input, other)


def logical_or(input, other) -> Tensor:
    """Elementwise OR of the truth values; bool result."""
    return _logical(np.logical_or, "logical_or", input, other)


def logical_xor(input, other) -> Tensor:
    """Elementwise XOR of the truth values; bool result."""
    return _logical(np.logical_xor, "logical_xor", input, other)


def logical_not(input) -> Tensor:
    """Elementwise NOT of the truth values; bool result."""
    return Tensor._make(_arr(np.logical_not(_tensor(input, "logical_not").data)))


def _bitwise(ufunc, op: str, input, other) -> Tensor:
    input, other = _operands(input, other, op)
    a, b, dt = _coerce(_data(input), _data(other))
    if dt.kind not in "biu":
        raise TypeError(
            f"{op}(): only integer and bool tensors are supported, got {torch_dtype_name(dt)}"
        )
    try:
        r = ufunc(a, b)
    except ValueError as e:
        raise _broadcast_error(op, input, other, e) from None
    return Tensor._make(_arr(r))


def bitwise_and(input, other) -> Tensor:
    """Bitwise AND of integers (logical AND of bools)."""
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other) -> Tensor:
    """Bitwise OR of integers (logical OR of bools)."""
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other) -> Tensor:
    """Bitwise XOR of integers (logical XOR of bools)."""
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_not(input) -> Tensor:
    """Bitwise NOT of integers (logical NOT of bools); ``~t``."""
    a = _tensor(input, "bitwise_not").data
    if a.dtype.kind not in "biu":
        raise TypeError(
            f"bitwise_not(): only integer and bool tensors are supported (~ inverts masks and "
            f"bits), got {torch_dtype_name(a.dtype)}"
        )
    return Tensor._make(_arr(np.invert(a)))


def isnan(input) -> Tensor:
    """True where input is NaN."""
    a = _tensor(input, "isnan").data
    return Tensor._make(_arr(np.isnan(a)) if a.dtype.kind == "f" else np.zeros(a.shape, bool))


def isinf(input) -> Tensor:
    """True where input is +inf or -inf."""
    a = _tensor(input, "isinf").data
    return Tensor._make(_arr(np.isinf(a)) if a.dtype.kind == "f" else np.zeros(a.shape, bool))


def isfinite(input) -> Tensor:
    """True where input is neither infinite nor NaN."""
    a = _tensor(input, "isfinite").data
    return Tensor._make(_arr(np.isfinite(a)) if a.dtype.kind == "f" else np.ones(a.shape, bool))


# ----------------------------------------------------------------------------------------------
# dtype conversion
# ----------------------------------------------------------------------------------------------


class Cast(Function):
    """out = a converted to ``dtype``;  da = g converted back (floats only carry gradients)"""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.dtype), None


def cast(input, dtype) -> Tensor:
    """A copy of ``input`` in ``dtype`` (``Tensor.to(dtype)``); differentiable between floats."""
    return Cast.apply(_tensor(input, "cast"), dtypes.to_dtype(dtype))
