"""Pooling: every kernel/stride/padding/dilation/ceil_mode combination against PyTorch (outputs,
indices and gradients), finite differences in float64, ties, NaNs and error messages."""

import itertools

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

TOL = dict(rtol=1e-4, atol=1e-5)


def _distinct(shape, seed=0) -> np.ndarray:
    """float32 values at least 1/size apart: no ties, so max-pool gradients are well defined."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n * 4 - 2).astype(np.float32)


def _x64(shape, seed=0) -> mt.Tensor:
    return mt.tensor(_distinct(shape, seed), dtype=mt.float64, requires_grad=True)


def _valid(torch, fn) -> bool:
    """Whether PyTorch accepts the configuration (some combinations are invalid by design)."""
    try:
        fn(torch.zeros(2, 3, 7, 6))
    except RuntimeError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# max_pool2d / avg_pool2d: the full grid against PyTorch
# ----------------------------------------------------------------------------------------------

GRID = list(itertools.product((2, 3), (1, 2, None), (0, 1), (False, True)))


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize(("k", "stride", "padding", "ceil_mode"), GRID)
def test_max_pool2d_matches_torch(torch, k, stride, padding, dilation, ceil_mode):
    def run(F_):
        return lambda t: F_.max_pool2d(t, k, stride, padding, dilation, ceil_mode, True)

    if not _valid(torch, run(torch.nn.functional)):
        pytest.skip("configuration PyTorch rejects")
    x = _distinct((2, 3, 7, 6))
    assert_matches_torch(run(F), x, torch_fn=run(torch.nn.functional), **TOL)


@pytest.mark.parametrize("divisor_override", [None, 3])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize(("k", "stride", "padding", "ceil_mode"), GRID)
def test_avg_pool2d_matches_torch(
    torch, k, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    def run(F_):
        return lambda t: F_.avg_pool2d(
            t, k, stride, padding, ceil_mode, count_include_pad, divisor_override
        )

    x = _distinct((2, 3, 7, 6))
    assert_matches_torch(run(F), x, torch_fn=run(torch.nn.functional), **TOL)


RECT = [
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0), ceil_mode=True),
    dict(kernel_size=(1, 2)),
    dict(kernel_size=[3, 3], stride=[]),  # an empty stride means the kernel size
    dict(kernel_size=(7, 6)),  # one window covering the whole plane
    dict(kernel_size=5, stride=3, padding=2, ceil_mode=True),
    dict(kernel_size=(12, 11), stride=(12, 11)),  # large tiling windows: block reductions
    dict(kernel_size=(12, 11), stride=(12, 11), ceil_mode=True),
]


@pytest.mark.parametrize("kwargs", RECT, ids=lambda kw: str(kw))
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 7, 6), (2, 3, 25, 23)], ids=str)
def test_pool2d_rectangular_unbatched_large(torch, kwargs, shape):
    if max(np.atleast_1d(kwargs["kernel_size"])) > min(shape[-2:]):
        pytest.skip("kernel larger than the input")
    x = _distinct(shape)
    TF = torch.nn.functional
    assert_matches_torch(
        lambda t: F.max_pool2d(t, return_indices=True, **kwargs),
        x,
        torch_fn=lambda t: TF.max_pool2d(t, return_indices=True, **kwargs),
        **TOL,
    )
    assert_matches_torch(
        lambda t: F.avg_pool2d(t, **kwargs),
        x,
        torch_fn=lambda t: TF.avg_pool2d(t, **kwargs),
        **TOL,
    )


@pytest.mark.parametrize(
    ("k", "stride", "padding", "dilation", "ceil_mode"),
    [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (2, 1, 1, 1, True)],
)
def test_max_pool2d_gradcheck(k, stride, padding, dilation, ceil_mode):
    x = _x64((1, 2, 5, 6))
    fn = lambda t: F.max_pool2d(t, k, stride, padding, dilation, ceil_mode)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize(
    ("k", "stride", "padding", "ceil_mode", "count_include_pad", "divisor"),
    [
        (2, None, 0, False, True, None),
        (3, 2, 1, True, False, None),
        (3, 1, 1, False, True, 5),
        ((2, 3), (1, 2), (1, 1), True, True, None),
    ],
)
def test_avg_pool2d_gradcheck(k, stride, padding, ceil_mode, count_include_pad, divisor):
    x = _x64((1, 2, 5, 6))
    fn = lambda t: F.avg_pool2d(  # noqa: E731
        t, k, stride, padding, ceil_mode, count_include_pad, divisor
    )
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


# ----------------------------------------------------------------------------------------------
# max pooling: ties, NaN, -inf padding, integers, empty batch
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2)],
    ids=str,
)
@pytest.mark.parametrize("values", ["constant", "two_levels"])
def test_max_pool2d_ties_go_to_the_first_maximum(torch, kwargs, values):
    rng = np.random.default_rng(3)
    x = np.ones((2, 2, 6, 6), np.float32)
    if values == "two_levels":
        x = rng.integers(0, 2, (2, 2, 6, 6)).astype(np.float32)
    TF = torch.nn.functional
    assert_matches_torch(
        lambda t: F.max_pool2d(t, return_indices=True, **kwargs),
        x,
        torch_fn=lambda t: TF.max_pool2d(t, return_indices=True, **kwargs),
    )
    assert_matches_torch(
        lambda t: F.adaptive_max_pool2d(t, (4, 5), return_indices=True),
        x,
        torch_fn=lambda t: TF.adaptive_max_pool2d(t, (4, 5), return_indices=True),
    )


def test_max_pool2d_nan_wins_like_torch(torch):
    x = _distinct((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = x[0, 1, 4, 5] = np.nan
    TF = torch.nn.functional
    for k, s, p in ((2, 2, 0), (3, 1, 1)):
        out, idx = F.max_pool2d(mt.tensor(x), k, s, p, return_indices=True)
        t_out, t_idx = TF.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), t_out.numpy())  # NaN positions equal too
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    out, idx = F.adaptive_max_pool2d(mt.tensor(x), (4, 4), return_indices=True)
    t_out, t_idx = TF.adaptive_max_pool2d(torch.tensor(x), (4, 4), return_indices=True)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_max_pool2d_windows_of_only_neg_inf_point_inside_the_input(torch):
    x = np.full((1, 1, 3, 3), -np.inf, np.float32)
    x[0, 0, 2, 2] = 1.0
    out, idx = F.max_pool2d(mt.tensor(x, requires_grad=True), 2, 2, 1, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert idx.tolist() == [[[[0, 1], [3, 8]]]]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_max_pool2d_integers(torch, dtype):
    x = np.random.default_rng(0).integers(0, 50, (2, 3, 6, 5)).astype(dtype)
    out, idx = F.max_pool2d(mt.tensor(x), 3, 2, 1, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    assert out.dtype == x.dtype and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_avg_pool2d_integers_truncate_like_torch(torch):
    x = np.arange(-12, 13, dtype=np.int64).reshape(1, 1, 5, 5)
    got = F.avg_pool2d(mt.tensor(x), 2, 1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(
        got.numpy(), torch.nn.functional.avg_pool2d(torch.tensor(x), 2, 1).numpy()
    )


def test_pool2d_empty_batch_and_indices_dtype():
    x = mt.zeros(0, 2, 5, 5, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.shape == (0, 2, 2, 2) and idx.shape == (0, 2, 2, 2) and idx.dtype == np.int64
    assert F.avg_pool2d(x, 2).shape == (0, 2, 2, 2)
    out.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)


def test_max_pool2d_without_grad_or_indices_skips_argmax():
    x = mt.tensor(_distinct((2, 3, 6, 6)))
    out = F.max_pool2d(x, 3, 1, 1)
    ref = F.max_pool2d(x.requires_grad_(), 3, 1, 1)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    assert out.grad_fn is None and ref.grad_fn is not None


def test_max_pool2d_index_output_is_not_differentiable():
    x = mt.tensor(_distinct((1, 1, 4, 4)), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.requires_grad and not idx.requires_grad
    out.sum().backward()
    assert x.grad.sum().item() == 4.0


# ----------------------------------------------------------------------------------------------
# 1-d pooling
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "stride", "padding", "dilation", "ceil_mode"),
    [
        (2, None, 0, 1, False),
        (3, 2, 1, 1, True),
        (3, 1, 1, 2, False),
        (2, 3, 1, 1, True),
        ((4,), (2,), (2,), (1,), False),
    ],
)
@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 8)], ids=str)
def test_pool1d_matches_torch(torch, shape, k, stride, padding, dilation, ceil_mode):
    x = _distinct(shape)
    TF = torch.nn.functional
    assert_matches_torch(
        lambda t: F.max_pool1d(t, k, stride, padding, dilation, ceil_mode, True),
        x,
        torch_fn=lambda t: TF.max_pool1d(t, k, stride, padding, dilation, ceil_mode, True),
        **TOL,
    )
    for include in (True, False):
        assert_matches_torch(
            lambda t, inc=include: F.avg_pool1d(t, k, stride, padding, ceil_mode, inc),
            x,
            torch_fn=lambda t, inc=include: TF.avg_pool1d(t, k, stride, padding, ceil_mode, inc),
            **TOL,
        )


def test_pool1d_gradcheck():
    x = _x64((2, 2, 7))
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), (x,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, count_include_pad=False), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), (x,))


# ----------------------------------------------------------------------------------------------
# adaptive pooling
# ----------------------------------------------------------------------------------------------


def _check_adaptive_pools(torch, x, output_size, nd: int) -> None:
    """adaptive_avg_pool{nd}d and adaptive_max_pool{nd}d (with indices) match PyTorch on x."""
    TF = torch.nn.functional
    avg, max_ = f"adaptive_avg_pool{nd}d", f"adaptive_max_pool{nd}d"
    assert_matches_torch(
        lambda t: getattr(F, avg)(t, output_size),
        x,
        torch_fn=lambda t: getattr(TF, avg)(t, output_size),
        **TOL,
    )
    assert_matches_torch(
        lambda t: getattr(F, max_)(t, output_size, True),
        x,
        torch_fn=lambda t: getattr(TF, max_)(t, output_size, True),
        **TOL,
    )


ADAPTIVE = [1, (1, 1), (2, 3), (3, 3), (4, 5), (7, 6), (None, 4), (5, None), (10, 9), (6, 2)]


@pytest.mark.parametrize("output_size", ADAPTIVE, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 7, 6)], ids=str)
def test_adaptive_pool2d_matches_torch(torch, shape, output_size):
    x = _distinct(shape)
    _check_adaptive_pools(torch, x, output_size, 2)


@pytest.mark.parametrize("output_size", [(1, 1), (7, 7), (3, 5)], ids=str)
def test_adaptive_pool2d_large_input(torch, output_size):
    x = _distinct((2, 2, 300, 33))  # a long axis: the gather path, not the dense matrix
    _check_adaptive_pools(torch, x, output_size, 2)


@pytest.mark.parametrize("output_size", [1, 3, 4, 7, 10], ids=str)
def test_adaptive_pool1d_matches_torch(torch, output_size):
    x = _distinct((2, 3, 7))
    _check_adaptive_pools(torch, x, output_size, 1)


@pytest.mark.parametrize("output_size", [(2, 3), (4, 4), (3, 1), (6, 7)], ids=str)
def test_adaptive_pool2d_gradcheck(output_size):
    x = _x64((1, 2, 5, 6))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), (x,))
    assert gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, output_size), (x,))
    assert gradgradcheck(lambda t: F.adaptive_max_pool2d(t, output_size), (x,))


def test_adaptive_pool_zero_output_size(torch):
    x = mt.randn(1, 2, 5, 5)
    assert F.adaptive_avg_pool2d(x, (0, 2)).shape == (1, 2, 0, 2)
    out, idx = F.adaptive_max_pool2d(x, (0, 2), return_indices=True)
    assert out.shape == idx.shape == (1, 2, 0, 2)


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (lambda x: F.max_pool2d(x, 6), "Output size is too small"),
    (lambda x: F.avg_pool2d(x, 6), "Output size is too small"),
    (lambda x: F.max_pool2d(x, 2, padding=2), "pad should be at most half of effective kernel"),
    (lambda x: F.avg_pool2d(x, 2, padding=2), "pad should be at most half of effective kernel"),
    (lambda x: F.max_pool2d(x, 3, padding=2, dilation=2), "smaller than or equal to half"),
    (lambda x: F.max_pool2d(x, 0), "kernel size should be greater than zero"),
    (lambda x: F.max_pool2d(x, 2, stride=0), "stride should not be zero"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), "dilation should be greater than zero"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), "pad must be non-negative"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), "kernel_size must either be a single int"),
    (lambda x: F.max_pool2d(x, 2, stride=(1, 2, 3)), "stride must either be omitted"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
    (lambda x: F.max_pool2d(x[0, 0, 0], 2), r"Expected 3D or 4D \(batch mode\) tensor"),
    (lambda x: F.max_pool2d(mt.zeros(2, 0, 5, 5), 2), r"got:\[2, 0, 5, 5\]"),
    (lambda x: F.max_pool1d(x, 2), r"max_pool1d: Expected 2D or 3D"),
    (lambda x: F.max_pool1d(x[0], 6), "Invalid computed output size: 0"),
    (lambda x: F.max_pool1d(x[0], 2, padding=2), "padding should be at most half of kernel"),
    (lambda x: F.max_pool1d(x[0], (2, 3)), "of size 1 but got size 2"),
    (lambda x: F.max_pool1d(x[0], 0), "kernel_size must be greater than zero"),
    (lambda x: F.avg_pool1d(x[0], 6), "Output size is too small"),
    (lambda x: F.adaptive_avg_pool2d(x, (3,)), "output_size must be 2"),
    (lambda x: F.adaptive_avg_pool2d(x, -1), "greater than or equal to 0"),
    (lambda x: F.adaptive_max_pool2d(x[0, 0], 2), r"Expected 3D or 4D tensor, but got: \[5, 5\]"),
    (lambda x: F.adaptive_avg_pool1d(x[0], (2, 3)), "should contain one int"),
]


@pytest.mark.parametrize(("fn", "match"), ERRORS, ids=[m for _, m in ERRORS])
def test_pool_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn(mt.randn(1, 2, 5, 5))


def test_max_pool2d_rejects_bool():
    with pytest.raises(NotImplementedError, match="not implemented for 'bool'"):
        F.max_pool2d(mt.zeros(1, 1, 4, 4, dtype=mt.bool), 2)


def test_adaptive_pool_empty_batch_keeps_the_graph():
    x = mt.zeros(0, 2, 5, 5, requires_grad=True)
    for out in (F.adaptive_avg_pool2d(x, (2, 3)), F.adaptive_max_pool2d(x, (2, 3))):
        assert out.shape == (0, 2, 2, 3)
        out.sum().backward()
        assert x.grad.shape == (0, 2, 5, 5)
