"""Reductions: every dim/keepdim combination against finite differences and PyTorch."""

import math

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

RNG = np.random.default_rng(1)
SHAPE = (2, 3, 4)
DIMS = [None, 0, 1, 2, -1, -3, (0, 2), (-1, 0), (1,), (0, 1, 2), ()]
KEEPDIM = [False, True]


def _x64(shape=SHAPE, distinct=True) -> mt.Tensor:
    """float64 input; ``distinct`` values keep max/min/sort away from ties."""
    n = int(np.prod(shape))
    data = RNG.permutation(n).reshape(shape) / n * 4 - 2 + RNG.uniform(0, 0.1, shape)
    if not distinct:
        data = RNG.standard_normal(shape)
    return mt.tensor(data, dtype=mt.float64, requires_grad=True)


def _x32(shape=SHAPE, low=-2.0, high=2.0) -> np.ndarray:
    n = int(np.prod(shape))
    data = RNG.permutation(n).reshape(shape) / max(n, 1) * (high - low) + low
    return (data + RNG.uniform(0, 0.01, shape)).astype(np.float32)


def _torch_dim(dim):
    return tuple(dim) if isinstance(dim, tuple) else dim


# ----------------------------------------------------------------------------------------------
# sum, mean, var, std, amax/amin, logsumexp, norm: every dim and keepdim
# ----------------------------------------------------------------------------------------------

DIM_REDUCTIONS = {
    "sum": lambda m, x, d, k: m.sum(x, dim=d, keepdim=k),
    "mean": lambda m, x, d, k: m.mean(x, dim=d, keepdim=k),
    "var": lambda m, x, d, k: m.var(x, dim=d, keepdim=k),
    "std": lambda m, x, d, k: m.std(x, dim=d, keepdim=k),
    "var_c0": lambda m, x, d, k: m.var(x, dim=d, keepdim=k, correction=0),
    "std_c2": lambda m, x, d, k: m.std(x, dim=d, keepdim=k, correction=2),
    "amax": lambda m, x, d, k: m.amax(x, dim=() if d is None else d, keepdim=k),
    "amin": lambda m, x, d, k: m.amin(x, dim=() if d is None else d, keepdim=k),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, dim=() if d is None else d, keepdim=k),
    "norm": lambda m, x, d, k: m.norm(x, 2, dim=d, keepdim=k),
    "norm_p3": lambda m, x, d, k: m.norm(x, 3, dim=d, keepdim=k),
    "norm_p1": lambda m, x, d, k: m.norm(x, 1, dim=d, keepdim=k),
    "norm_inf": lambda m, x, d, k: m.norm(x, math.inf, dim=d, keepdim=k),
}


def _skip_unsupported_by_torch(name, dim):
    if name == "logsumexp" and dim in (None, ()):
        pytest.skip("torch.logsumexp needs an explicit dim")
    if name.startswith("std_c2") and dim in (0, -3):
        pytest.skip("correction 2 over a dim of size 2 divides by zero")
    if name.startswith(("var", "std")) and dim == ():
        pytest.skip("torch.var/std with dim=() reduce everything but differentiate as if n == 1")


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("name", sorted(DIM_REDUCTIONS))
def test_reduction_gradcheck(name, dim):
    if name.startswith("std_c2") and dim in (0, -3):
        pytest.skip("correction 2 over a dim of size 2 divides by zero")
    fn = DIM_REDUCTIONS[name]
    for keepdim in KEEPDIM:
        assert gradcheck(lambda t, k=keepdim: fn(mt, t, dim, k), (_x64(),)), keepdim


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("name", sorted(DIM_REDUCTIONS))
def test_reduction_matches_torch(torch, name, dim):
    _skip_unsupported_by_torch(name, dim)
    fn = DIM_REDUCTIONS[name]
    tdim = _torch_dim(dim)
    for keepdim in KEEPDIM:
        assert_matches_torch(
            lambda t, k=keepdim: fn(mt, t, dim, k),
            _x32(),
            torch_fn=lambda t, k=keepdim: fn(torch, t, tdim, k),
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "logsumexp", "norm"])
def test_reduction_gradgradcheck(name):
    fn = DIM_REDUCTIONS[name]
    assert gradgradcheck(lambda t: fn(mt, t, 1, False), (_x64((3, 4)),))
    assert gradgradcheck(lambda t: fn(mt, t, (0, 1), True), (_x64((3, 4)),))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "norm", "var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_reduction_of_0d_tensor_matches_torch(torch, name, dim):
    if name in ("var", "std"):
        pytest.skip("torch: var of a single element is nan with a warning")
    _skip_unsupported_by_torch(name, dim)
    fn = DIM_REDUCTIONS[name]
    assert_matches_torch(
        lambda t: fn(mt, t, dim, False),
        np.array(1.5, dtype=np.float32),
        torch_fn=lambda t: fn(torch, t, dim, False),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.var(x, unbiased=False),
        lambda m, x: m.var(x, 1, unbiased=True, keepdim=True),
        lambda m, x: m.var(x, False),
        lambda m, x: m.std(x, (0, 2), unbiased=False),
        lambda m, x: x.var(1, correction=0),
        lambda m, x: x.std(correction=3),
    ],
)
def test_var_std_argument_forms_match_torch(torch, call):
    assert_matches_torch(lambda t: call(mt, t), _x32(), torch_fn=lambda t: call(torch, t))


def test_std_of_constant_has_zero_gradient(torch):
    x = np.ones((3, 4), dtype=np.float32)
    assert_matches_torch(lambda t: t.std(1), x)
    assert_matches_torch(lambda t: t.std(), x)


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64, np.uint8])
def test_sum_of_integers_is_int64(torch, dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    for dim in (None, 0, (0, 1)):
        assert_matches_torch(lambda t, dim=dim: t.sum(dim), x)
    assert_matches_torch(
        lambda t: mt.sum(t, dtype=mt.float64), x, torch_fn=lambda t: t.sum(dtype=torch.float64)
    )


def test_sum_and_mean_dtype_argument(torch):
    assert_matches_torch(
        lambda t: mt.sum(t, 1, dtype=mt.float64),
        _x32(),
        torch_fn=lambda t: t.sum(1, dtype=torch.float64),
    )
    ints = np.array([[1, 2], [3, 4]])
    assert_matches_torch(
        lambda t: mt.mean(t, dtype=mt.float32), ints, torch_fn=lambda t: t.mean(dtype=torch.float32)
    )


def test_mean_of_empty_is_nan(torch):
    assert_matches_torch(lambda t: t.mean(), np.zeros((0,), np.float32), grad=False)


# ----------------------------------------------------------------------------------------------
# max / min
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_match_torch_and_split_ties(torch, name):
    assert_matches_torch(lambda t: getattr(t, name)(), _x32())
    ties = np.array([[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0]], dtype=np.float32)
    assert_matches_torch(lambda t: getattr(t, name)(), ties)
    x = mt.tensor(ties, requires_grad=True)
    getattr(mt, name)(x).backward()
    assert x.grad.data.sum() == pytest.approx(1.0)
    assert np.count_nonzero(x.grad.data) == (3 if name == "max" else 2)


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_match_torch(torch, name, dim, keepdim):
    assert_matches_torch(
        lambda t: tuple(getattr(t, name)(dim, keepdim)),
        _x32(),
        torch_fn=lambda t: tuple(getattr(torch, name)(t, dim, keepdim)),
    )
    assert gradcheck(lambda t: getattr(mt, name)(t, dim, keepdim).values, (_x64(),))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_returns_named_tuple_and_first_tie(torch, name):
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, -1.0, -1.0]], dtype=np.float32)
    got = getattr(mt, name)(mt.tensor(x), 1)
    values, indices = got
    assert got.values is values and got.indices is indices
    want = getattr(torch, name)(torch.tensor(x), 1)
    assert indices.dtype == mt.int64 and indices.tolist() == want.indices.tolist()
    assert_matches_torch(lambda t: getattr(t, name)(1).values, x)  # gradient to that index


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_other_tensor_is_elementwise(torch, name):
    a, b = _x32((3, 4)), _x32((4,))
    assert_matches_torch(getattr(mt, name), a, b, torch_fn=getattr(torch, name))


def test_max_propagates_nan(torch):
    x = np.array([[1.0, np.nan, 3.0], [0.0, 2.0, 1.0]], dtype=np.float32)
    assert_matches_torch(lambda t: tuple(t.max(1)), x, grad=False)
    assert_matches_torch(lambda t: t.max(), x, grad=False)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_split_ties_evenly_along_dims(torch, name):
    x = np.array([[[2.0, 2.0], [1.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=np.float32)
    for dim in ((1, 2), 0, (), -1):
        assert_matches_torch(lambda t, dim=dim: getattr(t, name)(dim), x)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_reductions_with_dim_on_0d_tensors(torch, name):
    x = np.array(2.5, dtype=np.float32)
    assert_matches_torch(lambda t: getattr(t, name)(0), x)
    assert_matches_torch(lambda t: getattr(t, name)(-1, True), x)


# ----------------------------------------------------------------------------------------------
# argmax / argmin
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(torch, name, dim, keepdim):
    x = np.array([[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0], [4.0, -5.0, 4.0]], dtype=np.float32)
    assert_matches_torch(lambda t: getattr(t, name)(dim, keepdim), x)
    ints = np.array([[1, 3, 3], [2, 2, 0]])
    assert_matches_torch(lambda t: getattr(t, name)(dim, keepdim), ints)


def test_argmax_with_nan_matches_torch(torch):
    x = np.array([1.0, np.nan, 3.0, np.nan], dtype=np.float32)
    assert_matches_torch(lambda t: (t.argmax(), t.argmin()), x)


# ----------------------------------------------------------------------------------------------
# prod
# ----------------------------------------------------------------------------------------------

PROD_CASES = {
    "no zeros": [[1.5, -2.0, 0.5], [2.0, 1.0, -1.0]],
    "one zero": [[1.5, 0.0, 0.5], [2.0, 3.0, -1.0]],
    "two zeros in a row": [[0.0, 0.0, 0.5], [2.0, 0.0, -1.0]],
    "all zeros": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
}


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("case", sorted(PROD_CASES))
def test_prod_matches_torch_with_zeros(torch, case, dim, keepdim):
    x = np.array(PROD_CASES[case], dtype=np.float32)
    if dim is None:
        assert_matches_torch(lambda t: t.prod(), x)
    else:
        assert_matches_torch(lambda t: t.prod(dim, keepdim), x)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("case", sorted(PROD_CASES))
def test_prod_gradcheck_and_gradgradcheck_with_zeros(case, dim):
    x = mt.tensor(PROD_CASES[case], dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda t: mt.prod(t, dim), (x,))
    assert gradgradcheck(lambda t: mt.prod(t, dim), (x,))


def test_prod_dtypes_match_torch(torch):
    for x in (np.array([[1, 2], [3, 4]]), np.array([True, False]), np.array([2, 3], np.int32)):
        assert_matches_torch(lambda t: t.prod(), x)
    assert_matches_torch(
        lambda t: mt.prod(t, 1, dtype=mt.float64),
        _x32((2, 3)),
        torch_fn=lambda t: torch.prod(t, 1, dtype=torch.float64),
    )


# ----------------------------------------------------------------------------------------------
# cumsum
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cumsum_matches_torch_and_gradchecks(torch, dim):
    assert_matches_torch(lambda t: t.cumsum(dim), _x32(), rtol=1e-5, atol=1e-5)
    assert gradcheck(lambda t: mt.cumsum(t, dim), (_x64(),))
    assert gradgradcheck(lambda t: mt.cumsum(t, dim) ** 2, (_x64(),))


def test_cumsum_dtypes_match_torch(torch):
    for x in (np.array([1, 2, 3]), np.array([True, True, False]), np.array([1, 2], np.int32)):
        assert_matches_torch(lambda t: t.cumsum(0), x)
    assert_matches_torch(
        lambda t: mt.cumsum(t, 0, dtype=mt.float32),
        np.array([1, 2, 3]),
        torch_fn=lambda t: torch.cumsum(t, 0, dtype=torch.float32),
    )
    assert_matches_torch(lambda t: t.cumsum(0), np.array(2.0, np.float32))


# ----------------------------------------------------------------------------------------------
# norm
# ----------------------------------------------------------------------------------------------

NORM_PS = ["fro", 2, 1, math.inf, -math.inf, 0, 3, 0.5, 1.5, -1, None]


@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("p", NORM_PS)
def test_norm_matches_torch(torch, p, dim):
    x = _x32((3, 4))
    for keepdim in KEEPDIM:
        assert_matches_torch(
            lambda t, k=keepdim: mt.norm(t, p, dim, k),
            x,
            torch_fn=lambda t, k=keepdim: torch.norm(t, p, _torch_dim(dim), k),
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, -1, math.inf, "fro"])
def test_norm_gradcheck(p):
    x = mt.tensor(
        np.array([[0.5, -1.2, 2.0], [-0.7, 1.1, 0.3]]), dtype=mt.float64, requires_grad=True
    )
    assert gradcheck(lambda t: mt.norm(t, p), (x,))
    assert gradcheck(lambda t: mt.norm(t, p, dim=1, keepdim=True), (x,))


@pytest.mark.parametrize("p", NORM_PS)
def test_norm_gradient_at_zero_matches_torch(torch, p):
    x = np.array([[0.0, 0.0, 0.0], [0.0, -2.0, 3.0]], dtype=np.float32)
    assert_matches_torch(lambda t: mt.norm(t, p), x, torch_fn=lambda t: torch.norm(t, p))
    assert_matches_torch(lambda t: mt.norm(t, p, 1), x, torch_fn=lambda t: torch.norm(t, p, 1))
    if p in (2, "fro", None):
        z = mt.zeros(3, requires_grad=True)
        mt.norm(z, p).backward()
        assert z.grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_ties_for_inf_match_torch(torch):
    x = np.array([[-3.0, 3.0, 1.0], [2.0, -2.0, 2.0]], dtype=np.float32)
    assert_matches_torch(lambda t: t.norm(math.inf), x)
    assert_matches_torch(lambda t: t.norm(math.inf, 1), x)


def test_norm_dtype_argument(torch):
    assert_matches_torch(
        lambda t: mt.norm(t, dtype=mt.float64),
        _x32((3,)),
        torch_fn=lambda t: torch.norm(t, dtype=torch.float64),
    )


def test_norm2_gradgradcheck():
    assert gradgradcheck(lambda t: mt.norm(t, 2, 1), (_x64((2, 3)),))
    assert gradgradcheck(lambda t: mt.norm(t, 3, 0), (_x64((2, 3)),))


# ----------------------------------------------------------------------------------------------
# all / any
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any_match_torch(torch, name, dim, keepdim):
    for x in (
        np.array([[True, False, True], [True, True, True]]),
        np.array([[0.0, 1.0, 2.0], [0.5, 0.0, 0.0]], dtype=np.float32),
        np.array([[0, 1, 2], [3, 4, 5]], dtype=np.uint8),
        np.array([[0, 1, 2], [3, 4, 5]]),
    ):
        assert_matches_torch(
            lambda t: getattr(mt, name)(t, dim, keepdim),
            x,
            torch_fn=lambda t: getattr(torch, name)(t, _torch_dim(dim), keepdim),
            grad=False,
        )


# ----------------------------------------------------------------------------------------------
# sort / argsort / topk
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_sort_matches_torch(torch, dim, descending):
    assert_matches_torch(
        lambda t: tuple(mt.sort(t, dim, descending)),
        _x32(),
        torch_fn=lambda t: tuple(torch.sort(t, dim, descending)),
    )
    assert gradcheck(lambda t: mt.sort(t, dim, descending).values, (_x64(),))


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_with_ties_and_nan_matches_torch(torch, descending):
    x = np.array([[1.0, 0.0, np.nan, 1.0, 0.0, 2.0, 1.0]], dtype=np.float32)
    assert_matches_torch(
        lambda t: tuple(mt.sort(t, -1, descending, stable=True)),
        x,
        torch_fn=lambda t: tuple(torch.sort(t, dim=-1, descending=descending, stable=True)),
        grad=False,
    )
    ints = np.array([3, 1, 3, 2, 1])
    assert_matches_torch(
        lambda t: mt.argsort(t, descending=descending, stable=True),
        ints,
        torch_fn=lambda t: torch.argsort(t, descending=descending, stable=True),
    )


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_argsort_matches_torch(torch, dim, descending):
    assert_matches_torch(lambda t: t.argsort(dim, descending), _x32((3, 5)))


def test_sort_returns_named_tuple(torch):
    out = mt.sort(mt.tensor([3.0, 1.0, 2.0]))
    assert out.values.tolist() == [1.0, 2.0, 3.0] and out.indices.tolist() == [1, 2, 0]
    assert_matches_torch(lambda t: tuple(t.sort()), np.array(1.0, np.float32))  # 0-d
    assert_matches_torch(lambda t: tuple(t.sort()), np.array([True, False, True]))


@pytest.mark.parametrize("k", [0, 1, 2, 4])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_topk_matches_torch(torch, dim, k):
    x = _x32((4, 4, 5))
    for largest in (True, False):
        assert_matches_torch(
            lambda t, lg=largest: tuple(mt.topk(t, k, dim, lg)),
            x,
            torch_fn=lambda t, lg=largest: tuple(torch.topk(t, k, dim, lg)),
        )


@pytest.mark.parametrize("largest", [True, False])
def test_topk_gradcheck_and_gradgradcheck(largest):
    assert gradcheck(lambda t: mt.topk(t, 2, 1, largest).values, (_x64((3, 5)),))
    assert gradgradcheck(lambda t: mt.topk(t, 2, 1, largest).values ** 2, (_x64((3, 5)),))
    assert gradgradcheck(lambda t: mt.sort(t, 0).values ** 2, (_x64((3, 2)),))


def test_topk_other_inputs_match_torch(torch):
    assert_matches_torch(lambda t: tuple(t.topk(2)), np.array([3, 1, 2, 5]))
    assert_matches_torch(lambda t: tuple(t.topk(1)), np.array(1.5, np.float32))
    x = np.array([1.0, np.nan, 3.0, 2.0], dtype=np.float32)
    assert_matches_torch(lambda t: tuple(t.topk(2)), x, grad=False)
    out = mt.topk(mt.tensor([5.0, 1.0, 4.0]), 2, sorted=False)
    assert sorted(out.values.tolist()) == [4.0, 5.0] and out.indices.dtype == mt.int64


# ----------------------------------------------------------------------------------------------
# sum_to
# ----------------------------------------------------------------------------------------------


SUM_TO_SHAPES = [(2, 3, 4), (3, 4), (4,), (1, 4), (3, 1), (2, 1, 1), (1,), ()]


@pytest.mark.parametrize("shape", SUM_TO_SHAPES)
def test_sum_to_size_matches_torch(torch, shape):
    assert_matches_torch(lambda t: t.sum_to_size(shape), _x32(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", SUM_TO_SHAPES)
def test_sum_to_is_the_adjoint_of_broadcasting(shape):
    from mytorch.core.ops.reduce import sum_to

    g = RNG.standard_normal(SHAPE)
    v = RNG.standard_normal(shape)
    summed = sum_to(mt.tensor(g, dtype=mt.float64), shape)
    assert summed.shape == shape
    # <sum_to(g), v> == <g, broadcast(v)>
    assert np.sum(summed.data * v) == pytest.approx(np.sum(g * np.broadcast_to(v, SHAPE)))


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def test_dim_out_of_range():
    x = mt.ones(2, 3)
    for fn in (
        lambda: x.sum(2),
        lambda: x.mean(-3),
        lambda: x.max(2),
        lambda: x.argmax(5),
        lambda: x.cumsum(2),
        lambda: x.sort(3),
        lambda: x.topk(1, 2),
        lambda: x.norm(dim=(0, 2)),
        lambda: x.amax((0, 7)),
    ):
        with pytest.raises(
            IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"
        ):
            fn()
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        mt.tensor(1.0).sum(1)


def test_reduction_error_messages():
    x = mt.ones(2, 3)
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(RuntimeError, match="mean.*floating point.*Got: Long"):
        i.mean()
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        i.var()
    with pytest.raises(TypeError, match="either 'unbiased' or 'correction'"):
        x.var(0, unbiased=True, correction=1)
    with pytest.raises(RuntimeError, match="max.*Specify the reduction dim"):
        mt.zeros(0).max()
    with pytest.raises(IndexError, match="max.*reduction dim 0 to have non-zero size"):
        mt.zeros(0, 3).max(0)
    with pytest.raises(RuntimeError, match="argmax.*bool"):
        mt.tensor([True]).argmax()
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="vector_norm.*floating point.*Got Long"):
        i.norm()
    with pytest.raises(RuntimeError, match="'nuc' is not supported"):
        x.norm("nuc")
    with pytest.raises(TypeError, match="max.*'dim' must be int, not tuple"):
        x.max((0, 1))
    with pytest.raises(TypeError, match="sum.*must be Tensor, not list"):
        mt.sum([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"size \[2, 2\] is not expandable to size \[2, 3\]"):
        x.sum_to_size(2, 2)
