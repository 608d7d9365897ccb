"""Elementwise ops: gradients (finite differences), PyTorch parity, dtypes, errors."""

import math
import warnings

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _f32(*shape, low=-2.0, high=2.0) -> np.ndarray:
    return RNG.uniform(low, high, shape).astype(np.float32)


def _f64(*shape, low=-2.0, high=2.0, requires_grad=True) -> mt.Tensor:
    data = RNG.uniform(low, high, shape)
    return mt.tensor(data, dtype=mt.float64, requires_grad=requires_grad)


def _away_from_zero(x: np.ndarray, margin: float = 0.2) -> np.ndarray:
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


# name -> (low, high) of a domain where the op is smooth
UNARY = {
    "neg": (-2.0, 2.0),
    "abs": (0.2, 2.0),
    "exp": (-2.0, 2.0),
    "exp2": (-2.0, 2.0),
    "expm1": (-2.0, 2.0),
    "log": (0.2, 3.0),
    "log2": (0.2, 3.0),
    "log10": (0.2, 3.0),
    "log1p": (-0.8, 3.0),
    "sqrt": (0.2, 3.0),
    "rsqrt": (0.2, 3.0),
    "square": (-2.0, 2.0),
    "reciprocal": (0.3, 3.0),
    "sin": (-3.0, 3.0),
    "cos": (-3.0, 3.0),
    "tan": (-1.2, 1.2),
    "tanh": (-3.0, 3.0),
    "sigmoid": (-5.0, 5.0),
}


# ----------------------------------------------------------------------------------------------
# Unary ops
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    low, high = UNARY[name]
    x = _f64(3, 4, low=low, high=high)
    if name == "abs":  # both signs, away from the kink
        x = mt.tensor(
            _away_from_zero(x.data * np.sign(RNG.standard_normal((3, 4)))),
            dtype=mt.float64,
            requires_grad=True,
        )
    assert gradcheck(getattr(mt, name), (x,))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(torch, name):
    low, high = UNARY[name]
    x = _f32(2, 3, 4, low=low, high=high)
    assert_matches_torch(getattr(mt, name), x, torch_fn=getattr(torch, name))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_method_and_scalar_tensor(torch, name):
    low, high = UNARY[name]
    x = np.array(RNG.uniform(low, high), dtype=np.float32)  # 0-d
    assert_matches_torch(lambda t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_on_integers_matches_torch_dtype(torch, name):
    x = np.array([1, 2, 3], dtype=np.int64)
    assert_matches_torch(getattr(mt, name), x, torch_fn=getattr(torch, name))


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sin", "log", "sqrt", "reciprocal"])
def test_unary_gradgradcheck(name):
    low, high = UNARY[name]
    assert gradgradcheck(getattr(mt, name), (_f64(2, 3, low=low, high=high),))


def test_sigmoid_is_stable_for_large_inputs(torch):
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = mt.sigmoid(mt.tensor(x))
    assert np.all(np.isfinite(y.data))
    assert y.data[0] == 0.0 and y.data[-1] == 1.0
    assert_matches_torch(mt.sigmoid, x, torch_fn=torch.sigmoid)
    x64 = np.array([-100.0, 100.0])
    assert mt.sigmoid(mt.tensor(x64, dtype=mt.float64)).data[0] == pytest.approx(math.exp(-100))


@pytest.mark.parametrize("x", [[0.0, 4.0], [0.0, 1.0, 100.0]])
@pytest.mark.parametrize("name", ["sqrt", "rsqrt", "log", "reciprocal", "abs"])
def test_unary_edge_values_match_torch(torch, name, x):
    x = np.array(x, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings for log(0) and friends
        assert_matches_torch(getattr(mt, name), x, torch_fn=getattr(torch, name))


# ----------------------------------------------------------------------------------------------
# Rounding and sign: zero gradients
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_zero_gradient_ops_match_torch(torch, name):
    x = np.array([-2.5, -1.5, -0.5, -0.2, 0.0, 0.5, 1.5, 2.5, 3.7], dtype=np.float32)
    assert_matches_torch(getattr(mt, name), x, torch_fn=getattr(torch, name))
    t = mt.tensor(x, requires_grad=True)
    getattr(mt, name)(t).sum().backward()
    assert t.grad is not None and not t.grad.data.any()


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_rounding_integers_keep_dtype(torch, name):
    x = np.array([-3, 0, 5], dtype=np.int64)
    assert_matches_torch(getattr(mt, name), x, torch_fn=getattr(torch, name))


@pytest.mark.parametrize("decimals", [-1, 1, 2, 3])
def test_round_decimals_matches_torch(torch, decimals):
    x = np.array([1.2345, 2.5, 0.125, -7.5551, 123.456], dtype=np.float32)
    assert_matches_torch(
        lambda t: mt.round(t, decimals=decimals),
        x,
        torch_fn=lambda t: torch.round(t, decimals=decimals),
    )


def test_sign_of_nan_is_zero(torch):
    x = np.array([np.nan, -0.0, 0.0, -3.0, 2.0], dtype=np.float32)
    assert_matches_torch(mt.sign, x, torch_fn=torch.sign, grad=False)


def test_rounding_bool_is_refused():
    with pytest.raises(NotImplementedError, match="floor.*Bool"):
        mt.floor(mt.tensor([True]))


# ----------------------------------------------------------------------------------------------
# Binary arithmetic
# ----------------------------------------------------------------------------------------------

SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((5, 1), (1,)),
]

BINARY = {
    "add": (-2.0, 2.0, -2.0, 2.0),
    "sub": (-2.0, 2.0, -2.0, 2.0),
    "mul": (-2.0, 2.0, -2.0, 2.0),
    "div": (-2.0, 2.0, 0.5, 2.0),
    "true_divide": (-2.0, 2.0, 0.5, 2.0),
    "pow": (0.5, 2.0, -2.0, 2.0),
    "maximum": (-2.0, 2.0, -2.0, 2.0),
    "minimum": (-2.0, 2.0, -2.0, 2.0),
    "remainder": (0.1, 3.0, 0.7, 1.3),
}


def _binary_inputs(name, sa, sb, as_tensor):
    la, ha, lb, hb = BINARY[name]
    a = RNG.uniform(la, ha, sa)
    b = RNG.uniform(lb, hb, sb)
    if as_tensor:
        return (
            mt.tensor(a, dtype=mt.float64, requires_grad=True),
            mt.tensor(b, dtype=mt.float64, requires_grad=True),
        )
    return np.asarray(a, np.float32), np.asarray(b, np.float32)


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck_broadcasting(name, sa, sb):
    a, b = _binary_inputs(name, sa, sb, as_tensor=True)
    out = getattr(mt, name)(a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert gradcheck(getattr(mt, name), (a, b))


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_torch_broadcasting(torch, name, sa, sb):
    a, b = _binary_inputs(name, sa, sb, as_tensor=False)
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name), rtol=1e-4)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t + 2.0,
        lambda t: 2.0 + t,
        lambda t: t - 1.5,
        lambda t: 1.5 - t,
        lambda t: t * 3,
        lambda t: 3 * t,
        lambda t: t / 4.0,
        lambda t: 4.0 / t,
        lambda t: t**2,
        lambda t: t**3.5,
        lambda t: t**0,
        lambda t: 2.0**t,
        lambda t: 2**t,
        lambda t: t % 0.7,
        lambda t: -t,
        lambda t: abs(t),
        lambda t: t.add(t, alpha=2.5),
        lambda t: t.sub(2.0, alpha=3),
    ],
)
def test_operators_with_python_scalars_match_torch(torch, fn):
    x = _f32(3, 4, low=0.3, high=2.0)
    assert_matches_torch(fn, x, rtol=1e-4)


@pytest.mark.parametrize(
    "fn,grad",
    [
        (lambda t: 5.0 % t, lambda x: -np.floor(np.float32(5.0) / x)),
        (lambda t: t // 0.7, np.zeros_like),
        (lambda t: 5.0 // t, np.zeros_like),
    ],
)
def test_floor_ops_with_python_scalars(torch, fn, grad):
    # torch implements no derivative for these; mytorch's is -floor(a / b) * g for remainder's
    # divisor and zero for floor division
    x = _f32(3, 4, low=0.3, high=2.0)
    assert_matches_torch(fn, x, grad=False)
    t = mt.tensor(x, requires_grad=True)
    fn(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, grad(x))


def test_operators_with_numpy_values():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = np.float64(2.0) * x  # NumPy scalars behave like Python numbers: stays float32
    assert y.dtype == mt.float32
    z = np.array([1.0, 2.0], dtype=np.float32) - x  # reflected through __array_priority__
    assert isinstance(z, mt.Tensor) and z.tolist() == [0.0, 0.0]
    (y + z).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("alpha", [1, 2, -0.5])
@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_matches_torch(torch, name, alpha):
    a, b = _f32(3, 4), _f32(4)
    assert_matches_torch(
        lambda x, y: getattr(mt, name)(x, y, alpha=alpha),
        a,
        b,
        torch_fn=lambda x, y: getattr(torch, name)(x, y, alpha=alpha),
    )


@pytest.mark.parametrize("name", ["mul", "div", "pow", "sub", "maximum"])
def test_binary_gradgradcheck(name):
    a, b = _binary_inputs(name, (2, 3), (3,), as_tensor=True)
    assert gradgradcheck(getattr(mt, name), (a, b))


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5])
def test_pow_scalar_exponent_gradgradcheck(exponent):
    assert gradgradcheck(lambda t: t**exponent, (_f64(2, 3, low=0.5, high=2.0),))


def test_pow_scalar_base_gradgradcheck():
    assert gradgradcheck(lambda t: 1.7**t, (_f64(2, 3),))


def test_pow_at_zero_matches_torch(torch):
    base = np.array([0.0, 0.0, 0.0, 2.0, -2.0], dtype=np.float32)
    exponent = np.array([0.0, 2.0, -1.0, 0.0, 2.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_matches_torch(mt.pow, base, exponent, torch_fn=torch.pow)
        for e in (0.0, 2, 0.5, 3):
            assert_matches_torch(lambda t, e=e: t**e, base)
        for b in (0.0, 2.0, -2.0):
            assert_matches_torch(lambda t, b=b: b**t, exponent)


def test_div_by_zero_matches_torch(torch):
    a = np.array([1.0, -1.0, 0.0], dtype=np.float32)
    b = np.array([0.0, 0.0, 0.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_matches_torch(mt.div, a, b, torch_fn=torch.div)
        for mode in ("trunc", "floor"):
            assert_matches_torch(
                lambda x, y, mode=mode: mt.div(x, y, rounding_mode=mode),
                a,
                b,
                torch_fn=lambda x, y, mode=mode: torch.div(x, y, rounding_mode=mode),
            )


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
def test_div_rounding_modes_match_torch(torch, mode, dtype):
    a = np.array([[-7, 7, -8, 8, 0, 5]], dtype=dtype)
    b = np.array([[2], [-3], [1]], dtype=dtype)
    if dtype in (np.float32, np.float64):
        a = a + np.array([0.5, -0.25, 0, 0.75, 0, 0.1], dtype=dtype)
    assert_matches_torch(
        lambda x, y: mt.div(x, y, rounding_mode=mode),
        a,
        b,
        torch_fn=lambda x, y: torch.div(x, y, rounding_mode=mode),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("name", ["floor_divide", "remainder"])
def test_floor_divide_and_remainder_signs_match_torch(torch, name, dtype):
    a = np.array([-7, 7, -7, 7, 0, 3], dtype=dtype)
    b = np.array([2, 2, -2, -2, 5, 3], dtype=dtype)
    fn = getattr(mt, name)
    if name == "remainder" or dtype is np.int64:
        assert_matches_torch(fn, a, b, torch_fn=getattr(torch, name))
    else:  # torch has no derivative for floor_divide; mytorch's is zero
        assert_matches_torch(fn, a, b, torch_fn=getattr(torch, name), grad=False)
        x, y = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
        fn(x, y).sum().backward()
        assert not x.grad.data.any() and not y.grad.data.any()


def test_remainder_gradient_matches_torch(torch):
    a = np.array([1.5, 2.0, -3.0, 5.5], dtype=np.float32)
    b = np.array([2.0, 0.75, 1.0, -2.0], dtype=np.float32)
    assert_matches_torch(mt.remainder, a, b, torch_fn=torch.remainder)


# ----------------------------------------------------------------------------------------------
# dtype promotion
# ----------------------------------------------------------------------------------------------

PROMOTION = {
    "int/int": (lambda m, a, b: a / b, np.int64, np.int64),
    "int*2.5": (lambda m, a, b: a * 2.5, np.int64, None),
    "2.5*int": (lambda m, a, b: 2.5 * a, np.int64, None),
    "int+1": (lambda m, a, b: a + 1, np.int32, None),
    "int32+int64 0-d": (lambda m, a, b: a + b, np.int32, (np.int64, ())),
    "int32+1.5": (lambda m, a, b: a + 1.5, np.int32, None),
    "f32+f64": (lambda m, a, b: a + b, np.float32, np.float64),
    "f32+f64 0-d": (lambda m, a, b: a + b, np.float32, (np.float64, ())),
    "int+f64 0-d": (lambda m, a, b: a + b, np.int64, (np.float64, ())),
    "int+f32 0-d": (lambda m, a, b: a * b, np.int32, (np.float32, ())),
    "f16+f32 0-d": (lambda m, a, b: a + b, np.float16, (np.float32, ())),
    "0-d f32+0-d f64": (lambda m, a, b: a + b, (np.float32, ()), (np.float64, ())),
    "u8+i8": (lambda m, a, b: a + b, np.uint8, np.int8),
    "bool+bool": (lambda m, a, b: a + b, np.bool_, np.bool_),
    "bool*bool": (lambda m, a, b: a * b, np.bool_, np.bool_),
    "bool+1": (lambda m, a, b: a + 1, np.bool_, None),
    "bool+1.5": (lambda m, a, b: a + 1.5, np.bool_, None),
    "bool+int32 0-d": (lambda m, a, b: a + b, np.bool_, (np.int32, ())),
    "bool/bool": (lambda m, a, b: a / b, np.bool_, np.bool_),
    "int//2": (lambda m, a, b: a // 2, np.int64, None),
    "int%2": (lambda m, a, b: a % 2, np.int64, None),
    "int**2": (lambda m, a, b: a**2, np.int64, None),
    "int**2.5": (lambda m, a, b: a**2.5, np.int64, None),
    "2**int": (lambda m, a, b: 2**a, np.int64, None),
    "2.0**int": (lambda m, a, b: 2.0**a, np.int64, None),
    "int**f32": (lambda m, a, b: a**b, np.int64, np.float32),
    "int==2.5": (lambda m, a, b: a == 2.5, np.int64, None),
    "f32<f64": (lambda m, a, b: a < b, np.float32, np.float64),
    "where int 2.5": (lambda m, a, b: m.where(a > 1, a, 2.5), np.int64, None),
    "where 1 2.5": (lambda m, a, b: m.where(a > 1, 1, 2.5), np.int64, None),
    "where 1 2": (lambda m, a, b: m.where(a > 1, 1, 2), np.int64, None),
    "where f32 f64": (lambda m, a, b: m.where(a > 1, a, b), np.float32, np.float64),
    "clamp int 1.5": (lambda m, a, b: m.clamp(a, min=1.5), np.int64, None),
    "clamp int 2": (lambda m, a, b: m.clamp(a, min=2), np.int64, None),
    "clamp f32 f64 tensor": (lambda m, a, b: m.clamp(a, b), np.float32, np.float64),
    "maximum int f32": (lambda m, a, b: m.maximum(a, b), np.int64, np.float32),
    "square bool": (lambda m, a, b: m.square(a), np.bool_, None),
    "bool&1": (lambda m, a, b: a & 1, np.bool_, None),
    "bool&True": (lambda m, a, b: a & True, np.bool_, None),
    "bool^int": (lambda m, a, b: m.bitwise_xor(a, b), np.bool_, np.int64),
    "int|3": (lambda m, a, b: a | 3, np.int64, None),
}


def _typed(spec, torch):
    """The same data as a mytorch and a torch tensor: ``dtype`` (shape (4,)) or ``(dtype, ())``."""
    if spec is None:
        return None, None
    dtype, shape = spec if isinstance(spec, tuple) else (spec, (4,))
    data = (np.array([3, 0, 1, 2]) if shape else np.array(2)).astype(dtype)
    return mt.from_numpy(data.copy()), torch.from_numpy(data.copy())


@pytest.mark.parametrize("case", sorted(PROMOTION))
def test_dtype_promotion_matches_torch(torch, case):
    fn, sa, sb = PROMOTION[case]
    ma, ta = _typed(sa, torch)
    mb, tb = _typed(sb, torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: division by zero in bool/bool
        want = fn(torch, ta, tb)
        got = fn(mt, ma, mb)
    assert got.dtype == want.numpy().dtype, case
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6, err_msg=case)


def test_float32_never_becomes_float64_through_python_floats():
    x = mt.ones(3)
    for y in (x + 0.1, 0.1 * x, x / 3.0, x**0.5, x - 1e-300, mt.clamp(x, 0.5, 2.5), x % 0.3):
        assert y.dtype == mt.float32


def test_result_type():
    assert mt.result_type(mt.tensor([1, 2]), 2.5) == mt.float32
    assert mt.result_type(mt.tensor([1.0]), mt.tensor(1.0, dtype=mt.float64)) == mt.float32
    assert mt.result_type(mt.tensor([1.0]), mt.tensor([1.0], dtype=mt.float64)) == mt.float64
    assert mt.result_type(mt.tensor([True]), 1) == mt.int64


def test_default_dtype_governs_int_with_float():
    mt.set_default_dtype(mt.float64)
    try:
        assert (mt.tensor([1, 2]) * 0.5).dtype == mt.float64
        assert mt.exp(mt.tensor([1])).dtype == mt.float64
    finally:
        mt.set_default_dtype(mt.float32)


# ----------------------------------------------------------------------------------------------
# maximum/minimum, clamp, where
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_and_nan_match_torch(torch, name):
    a = np.array([1.0, 2.0, 3.0, np.nan, 1.0, 5.0], dtype=np.float32)
    b = np.array([2.0, 2.0, 1.0, 1.0, np.nan, 5.0], dtype=np.float32)
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name))
    x, y = mt.tensor([2.0], requires_grad=True), mt.tensor([2.0], requires_grad=True)
    getattr(mt, name)(x, y).backward()
    assert x.grad.item() == 0.5 and y.grad.item() == 0.5


@pytest.mark.parametrize(
    "lo,hi",
    [(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.5, -0.5), (0, 1)],
)
def test_clamp_scalar_bounds_match_torch(torch, lo, hi):
    x = np.array([-1.0, -0.5, -0.3, 0.0, 0.3, 0.5, 1.0, np.nan], dtype=np.float32)
    assert_matches_torch(lambda t: mt.clamp(t, lo, hi), x, torch_fn=lambda t: t.clamp(lo, hi))
    assert_matches_torch(lambda t: t.clip(min=lo, max=hi), x)


def test_clamp_tensor_bounds_match_torch(torch):
    x = np.array([0.0, 1.0, 2.0, 3.0, 1.0, 5.0], dtype=np.float32)
    lo = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 1.0], dtype=np.float32)
    hi = np.array([2.0, 2.0, 2.0, 2.0, 0.5, 6.0], dtype=np.float32)
    assert_matches_torch(mt.clamp, x, lo, hi, torch_fn=torch.clamp)
    assert_matches_torch(lambda t, m: mt.clamp(t, m), x, lo, torch_fn=lambda t, m: t.clamp(m))
    assert_matches_torch(
        lambda t, m: mt.clamp(t, max=m), x, hi, torch_fn=lambda t, m: t.clamp(max=m)
    )


def test_clamp_gradcheck_with_broadcast_tensor_bounds():
    x = _f64(3, 4)
    lo = mt.tensor(RNG.uniform(-1.5, -0.5, (4,)), dtype=mt.float64, requires_grad=True)
    hi = mt.tensor(RNG.uniform(0.5, 1.5, (3, 1)), dtype=mt.float64, requires_grad=True)
    x.data[np.abs(x.data - 0.5) < 0.3] += 0.05  # keep away from the (random) kinks
    assert gradcheck(mt.clamp, (x, lo, hi), atol=1e-4)


def test_where_matches_torch(torch):
    cond = np.array([[True, False, True]])
    x = _f32(2, 3)
    y = _f32(2, 1)
    assert_matches_torch(mt.where, cond, x, y, torch_fn=torch.where)
    assert_matches_torch(
        lambda c, a: mt.where(c, a, 0.0), cond, x, torch_fn=lambda c, a: torch.where(c, a, 0.0)
    )
    assert_matches_torch(
        lambda c, a: mt.where(c, 2.0, a), cond, x, torch_fn=lambda c, a: torch.where(c, 2.0, a)
    )
    assert_matches_torch(lambda c, a, b: a.where(c, b), cond, x, y)


def test_where_gradcheck_and_gradgradcheck():
    cond = mt.tensor([[True, False, True], [False, False, True]])
    x, y = _f64(2, 3), _f64(3)
    assert gradcheck(lambda a, b: mt.where(cond, a, b), (x, y))
    assert gradgradcheck(lambda a, b: mt.where(cond, a * a, b * b), (x, y))


def test_where_with_condition_only_gives_indices(torch):
    c = np.array([[True, False], [False, True]])
    got = mt.where(mt.tensor(c))
    want = torch.where(torch.tensor(c))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == mt.int64 and g.tolist() == w.tolist()


# ----------------------------------------------------------------------------------------------
# Comparisons, logical and bitwise ops, tests
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_match_torch(torch, name):
    a = np.array([[1.0, 2.0, 3.0], [np.nan, 2.0, -1.0]], dtype=np.float32)
    b = np.array([2.0, 2.0, 1.0], dtype=np.float32)
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name))
    assert_matches_torch(lambda t: getattr(t, name)(2.0), a)
    ints = np.array([1, 2, 3])
    assert_matches_torch(lambda t: getattr(t, name)(2.5), ints)
    out = getattr(mt, name)(mt.tensor(a, requires_grad=True), 2.0)
    assert out.dtype == mt.bool and not out.requires_grad


def test_comparison_operators():
    x = mt.tensor([1.0, 2.0, 3.0])
    assert (x == 2).tolist() == [False, True, False]
    assert (x != 2).tolist() == [True, False, True]
    assert (2 < x).tolist() == [False, False, True]  # reflected: x > 2
    assert (x <= 2).tolist() == [True, True, False]
    assert (x == None) is False  # noqa: E711
    assert (x == "a") is False
    assert (x != None) is True  # noqa: E711


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_match_torch(torch, name):
    a = np.array([[0.0, 1.0, -2.0, 0.0]], dtype=np.float32)
    b = np.array([[0], [3]], dtype=np.int64)
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name), grad=False)


def test_logical_not_matches_torch(torch):
    a = np.array([0.0, 1.0, np.nan], dtype=np.float32)
    assert_matches_torch(mt.logical_not, a, torch_fn=torch.logical_not, grad=False)


@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_ops_match_torch(torch, name, dtype):
    a = np.array([0, 1, 5, 6], dtype=dtype)
    b = np.array([1, 1, 3, 0], dtype=dtype)
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name))


@pytest.mark.parametrize("dtype", [np.bool_, np.int64])
def test_bitwise_not_and_operators_match_torch(torch, dtype):
    a = np.array([0, 1, 5], dtype=dtype)
    b = np.array([1, 0, 3], dtype=dtype)
    assert_matches_torch(lambda t: ~t, a)
    assert_matches_torch(lambda x, y: (x & y, x | y, x ^ y), a, b)


def test_bitwise_ops_refuse_floats():
    x = mt.tensor([1.0])
    with pytest.raises(TypeError, match="bitwise_and.*integer and bool.*Float"):
        x & x
    with pytest.raises(TypeError, match="bitwise_not.*Float"):
        ~x


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_float_tests_match_torch(torch, name):
    a = np.array([np.nan, np.inf, -np.inf, 0.0, 1.5], dtype=np.float32)
    assert_matches_torch(getattr(mt, name), a, torch_fn=getattr(torch, name), grad=False)
    for other in (np.array([1, 2]), np.array([True, False])):
        assert_matches_torch(getattr(mt, name), other, torch_fn=getattr(torch, name))


# ----------------------------------------------------------------------------------------------
# cast
# ----------------------------------------------------------------------------------------------


def test_cast_gradient_flows_back_in_the_input_dtype(torch):
    x = _f32(3)
    assert_matches_torch(
        lambda t: t.to(mt.float64) * 2, x, torch_fn=lambda t: t.to(torch.float64) * 2
    )
    t = mt.tensor(x, requires_grad=True)
    mt.cast(t, mt.float64).sum().backward()
    assert t.grad.dtype == mt.float32
    assert mt.cast(t, int).dtype == mt.int64 and not mt.cast(t, int).requires_grad
    assert mt.cast(t, float).dtype == mt.float32


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def test_error_messages():
    b = mt.tensor([True, False])
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Subtraction.*two bool tensors"):
        b - b
    with pytest.raises(RuntimeError, match="Negation.*bool"):
        -b
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        i**-1
    with pytest.raises(RuntimeError, match="rounding_mode.*'x'"):
        mt.div(i, i, rounding_mode="x")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        i // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        i % mt.tensor([1, 0])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        mt.add(i, i, alpha=0.5)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        mt.clamp(i)
    with pytest.raises(RuntimeError, match="condition to be a boolean tensor.*Float"):
        mt.where(mt.tensor([1.0]), i, i)
    with pytest.raises(NotImplementedError, match="abs.*Bool"):
        mt.abs(b)


def test_broadcast_error_names_the_sizes():
    a, b = mt.ones(2, 3), mt.ones(4)
    with pytest.raises(
        RuntimeError,
        match=r"size of tensor a \(3\) must match .* b \(4\) at non-singleton dimension 1",
    ):
        a + b
    with pytest.raises(RuntimeError, match=r"mul\(\).*tensor a \(3\).*tensor b \(4\)"):
        mt.mul(a, b)
    with pytest.raises(RuntimeError, match=r"lt\(\).*tensor a \(3\)"):
        _ = a < b


def test_bad_operand_types():
    x = mt.ones(2)
    with pytest.raises(TypeError, match="add.*'other' must be Tensor or Number, not str"):
        x + "a"
    with pytest.raises(TypeError, match="mul.*not list"):
        mt.mul(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="at least one Tensor"):
        mt.add(1, 2)
    with pytest.raises(TypeError, match="exp.*must be Tensor, not float"):
        mt.exp(1.0)
