"""Convolutions: conv1d/conv2d/conv_transpose1d/conv_transpose2d against PyTorch and finite
differences (first and second order), dtypes, and argument errors."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.autograd import grad as autograd_grad
from mytorch.core.ops.conv import (
    Convolution,
    ConvTranspose,
    ConvWeightGrad,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
)
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's

rng = np.random.default_rng(0)
TOL = {"rtol": 1e-4, "atol": 1e-5}


def arr(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def f64(*shape):
    return mt.randn(*shape, dtype=mt.float64, requires_grad=True)


def check(torch, name, x, w, b=None, tol=TOL, **kw):
    """Compare ``name(x, w, b, **kw)`` (and the gradients of x, w, b) with torch's."""
    torch_fn = getattr(torch.nn.functional, name)
    mt_fn = {
        "conv1d": conv1d,
        "conv2d": conv2d,
        "conv_transpose1d": conv_transpose1d,
        "conv_transpose2d": conv_transpose2d,
    }[name]
    arrays = (x, w) if b is None else (x, w, b)
    assert_matches_torch(
        lambda *t: mt_fn(*t, **kw), *arrays, torch_fn=lambda *t: torch_fn(*t, **kw), **tol
    )


# ----------------------------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------------------------

PADDINGS = [0, 1, "same", "valid", (1, 2)]
STRIDES = [1, 2, (2, 1)]
DILATIONS = [1, 2, (1, 2)]
KERNELS = [(3, 3), (2, 3), (3, 1)]
GRID_2D = [
    (p, s, d)
    for p, s, d in itertools.product(PADDINGS, STRIDES, DILATIONS)
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("padding,stride,dilation", GRID_2D)
def test_conv2d_grid(torch, padding, stride, dilation):
    k = GRID_2D.index((padding, stride, dilation))
    kh, kw = KERNELS[k % 3]
    groups = (1, 2, 4)[k % 3]  # 4 input channels: plain, grouped, depthwise
    x = arr(2, 4, 9, 8)  # odd and even sizes
    w = arr(6 if groups != 4 else 8, 4 // groups, kh, kw)
    b = arr(w.shape[0]) if k % 2 else None
    check(
        torch, "conv2d", x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups
    )


@pytest.mark.parametrize("groups,out_per_group", [(1, 3), (2, 1), (2, 3), (6, 1), (6, 2)])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 1), (5, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_groups_kernels(torch, groups, out_per_group, kernel, bias):
    x = arr(3, 6, 7, 6)
    w = arr(groups * out_per_group, 6 // groups, *kernel)
    b = arr(w.shape[0]) if bias else None
    check(torch, "conv2d", x, w, b, padding=1, groups=groups)


@pytest.mark.parametrize("padding", [0, "same", (2, 0)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_unbatched(torch, padding, bias):
    x, w = arr(3, 6, 7), arr(4, 3, 3, 2)
    check(torch, "conv2d", x, w, arr(4) if bias else None, padding=padding)
    assert conv2d(mt.tensor(x), mt.tensor(w), padding=padding).ndim == 3


@pytest.mark.parametrize(
    "kernel,dilation", [((2, 2), 1), ((4, 3), 1), ((2, 3), (3, 2)), ((1, 4), 1)]
)
def test_conv2d_same_even_kernels(torch, kernel, dilation):
    """'same' with an odd total padding puts the extra row/column at the bottom/right."""
    x, w = arr(2, 3, 6, 7), arr(2, 3, *kernel)
    check(torch, "conv2d", x, w, arr(2), padding="same", dilation=dilation)
    out = conv2d(mt.tensor(x), mt.tensor(w), padding="same", dilation=dilation)
    assert out.shape == (2, 2, 6, 7)


def test_conv2d_windows_that_skip_the_edge(torch):
    """Stride leaves the last rows/columns unread; their gradient is zero."""
    x, w = arr(2, 2, 8, 9), arr(3, 2, 3, 3)
    check(torch, "conv2d", x, w, arr(3), stride=3)
    check(torch, "conv2d", x, w, stride=(4, 3), padding=1, dilation=2)


def test_conv2d_kernel_equals_input(torch):
    check(torch, "conv2d", arr(2, 3, 4, 5), arr(2, 3, 4, 5), arr(2))
    check(torch, "conv2d", arr(2, 3, 2, 2), arr(2, 3, 3, 3), padding=1, stride=2)


def test_conv2d_noncontiguous_input(torch):
    x = arr(2, 3, 6, 7)
    assert_matches_torch(
        lambda t, w: conv2d(t.transpose(2, 3), w, padding=1),
        x,
        arr(4, 3, 3, 3),
        torch_fn=lambda t, w: torch.nn.functional.conv2d(t.transpose(2, 3), w, padding=1),
        **TOL,
    )


def test_conv2d_broadcast_upstream_gradient(torch):
    """``out.sum().backward()`` hands backward a stride-0 gradient."""
    x, w, b = arr(2, 4, 6, 6), arr(4, 2, 3, 3), arr(4)
    mx, mw, mb = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    conv2d(mx, mw, mb, groups=2).sum().backward()
    torch.nn.functional.conv2d(tx, tw, tb, groups=2).sum().backward()
    for m, t in ((mx, tx), (mw, tw), (mb, tb)):
        np.testing.assert_allclose(m.grad.data, t.grad.numpy(), **TOL)


def test_conv2d_integer_inputs(torch):
    x = np.arange(2 * 2 * 5 * 5).reshape(2, 2, 5, 5)
    w = np.arange(3 * 2 * 2 * 2).reshape(3, 2, 2, 2) % 3 - 1
    out = conv2d(mt.tensor(x), mt.tensor(w), stride=2)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, want.numpy())


def test_conv2d_empty_batch(torch):
    check(torch, "conv2d", arr(0, 2, 5, 5), arr(3, 2, 3, 3), arr(3))


def test_conv2d_known_values():
    x = mt.arange(16.0).reshape(1, 1, 4, 4)
    w = mt.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    assert conv2d(x, w).tolist() == [[[[-5.0] * 3] * 3]]
    assert conv2d(x, w, mt.tensor([1.0]), stride=2).tolist() == [[[[-4.0, -4.0], [-4.0, -4.0]]]]


# ----------------------------------------------------------------------------------------------
# conv_transpose2d
# ----------------------------------------------------------------------------------------------

GRID_T2D = list(itertools.product([1, 2, (2, 3)], [0, 1, (1, 2)], [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation", GRID_T2D)
def test_conv_transpose2d_grid(torch, stride, padding, dilation):
    k = GRID_T2D.index((stride, padding, dilation))
    groups = (1, 2, 4)[k % 3]
    s = (stride, stride) if isinstance(stride, int) else stride
    # the largest output_padding allowed: smaller than stride or dilation
    output_padding = tuple(max(si, dilation) - 1 for si in s)
    x = arr(2, 4, 5, 4)
    w = arr(4, (3 if groups != 4 else 1), *KERNELS[k % 3])
    b = arr(w.shape[1] * groups) if k % 2 else None
    check(
        torch, "conv_transpose2d", x, w, b, stride=stride, padding=padding,
        output_padding=output_padding, groups=groups, dilation=dilation,
    )  # fmt: skip


@pytest.mark.parametrize("output_padding", [0, 1, (1, 0)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_output_padding(torch, output_padding, bias):
    x, w = arr(3, 2, 4, 5), arr(2, 3, 3, 3)
    check(
        torch, "conv_transpose2d", x, w, arr(3) if bias else None, stride=2, padding=1,
        output_padding=output_padding,
    )  # fmt: skip


def test_conv_transpose2d_unbatched(torch):
    check(torch, "conv_transpose2d", arr(4, 3, 5), arr(4, 2, 2, 3), arr(2), stride=(1, 2))


def test_conv_transpose2d_padding_crops_everything(torch):
    """Padding larger than the kernel reach leaves outputs that see only padding."""
    check(torch, "conv_transpose2d", arr(2, 2, 1, 1), arr(2, 1, 1, 1), arr(1), stride=3,
          padding=1, output_padding=2)  # fmt: skip


def test_conv_transpose2d_is_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for matching geometry."""
    x, w = mt.randn(2, 4, 9, 8, dtype=mt.float64), mt.randn(6, 2, 3, 2, dtype=mt.float64)
    kw = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    y = mt.randn(*conv2d(x, w, **kw).shape, dtype=mt.float64)
    back = conv_transpose2d(y, w, output_padding=(0, 0), **kw)
    assert back.shape == x.shape
    lhs = float((conv2d(x, w, **kw) * y).sum())
    rhs = float((x * back).sum())
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


# ----------------------------------------------------------------------------------------------
# conv1d / conv_transpose1d
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "padding,stride,dilation",
    [(p, s, d) for p, s, d in itertools.product([0, 2, "same", "valid"], [1, 2], [1, 3])
     if not (p == "same" and s != 1)],
)  # fmt: skip
@pytest.mark.parametrize("groups", [1, 2, 4])
def test_conv1d_grid(torch, padding, stride, dilation, groups):
    x, w = arr(2, 4, 11), arr(4, 4 // groups, 3)
    check(torch, "conv1d", x, w, arr(4), stride=stride, padding=padding, dilation=dilation,
          groups=groups)  # fmt: skip


def test_conv1d_unbatched_even_kernel(torch):
    check(torch, "conv1d", arr(3, 10), arr(5, 3, 4), arr(5), padding="same")
    check(torch, "conv1d", arr(3, 10), arr(5, 3, 4), stride=3)


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 2), (3, 2, 2, 2, 1), (1, 1, 1, 2, 4), (2, 0, 0, 3, 1),
])  # fmt: skip
def test_conv_transpose1d(torch, stride, padding, output_padding, dilation, groups):
    x, w = arr(2, 4, 6), arr(4, 3 if groups != 4 else 1, 3)
    check(
        torch, "conv_transpose1d", x, w, arr(w.shape[1] * groups), stride=stride,
        padding=padding, output_padding=output_padding, dilation=dilation, groups=groups,
    )  # fmt: skip
    check(torch, "conv_transpose1d", x[0], w, stride=stride, padding=padding,
          output_padding=output_padding, dilation=dilation, groups=groups)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# finite differences: first and second order
# ----------------------------------------------------------------------------------------------

GRAD_CASES_2D = [
    {},
    {"stride": 2, "padding": 1},
    {"padding": "same", "dilation": (2, 1)},
    {"stride": (1, 2), "padding": (2, 0), "groups": 2},
    {"groups": 4, "padding": 1},
]


@pytest.mark.parametrize("kw", GRAD_CASES_2D, ids=str)
def test_conv2d_gradcheck(kw):
    groups = kw.get("groups", 1)
    x, w, b = f64(2, 4, 5, 6), f64(4, 4 // groups, 3, 2), f64(4)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("kw", GRAD_CASES_2D[:4], ids=str)
def test_conv2d_gradgradcheck(kw):
    groups = kw.get("groups", 1)
    x, w, b = f64(1, 4, 4, 5), f64(2, 4 // groups, 2, 2), f64(2)
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2, "padding": 1, "output_padding": 1}, {"dilation": 2, "output_padding": 1},
    {"stride": (2, 1), "groups": 2},
], ids=str)  # fmt: skip
def test_conv_transpose2d_gradcheck(kw):
    groups = kw.get("groups", 1)
    x, w, b = f64(2, 4, 3, 4), f64(4, 3, 2, 3), f64(3 * groups)
    fn = lambda x, w, b: conv_transpose2d(x, w, b, **kw)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x[:1].detach().requires_grad_(), w, b))


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": "valid"}, {"padding": "same"}],
                         ids=str)  # fmt: skip
def test_conv1d_gradcheck(kw):
    x, w, b = f64(2, 3, 7), f64(2, 3, 2), f64(2)
    assert gradcheck(lambda x, w, b: conv1d(x, w, b, **kw), (x, w, b))
    assert gradgradcheck(lambda x, w, b: conv1d(x, w, b, **kw), (x, w, b))


def test_conv_transpose1d_gradcheck():
    x, w, b = f64(2, 3, 4), f64(3, 2, 3), f64(2)
    fn = lambda x, w, b: conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_conv2d_double_backward_matches_torch(torch):
    """d/d(x, w) of |d loss / dx|^2, the shape of a gradient penalty."""
    x, w = arr(2, 4, 6, 5), arr(4, 2, 3, 2)
    kw = {"stride": (2, 1), "padding": 1, "groups": 2}
    results = []
    for lib, fn in ((mt, conv2d), (torch, torch.nn.functional.conv2d)):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = fn(xt, wt, **kw)
        grad = autograd_grad if lib is mt else torch.autograd.grad
        (gx,) = grad((y * y).sum(), xt, create_graph=True)
        (gx * gx).sum().backward()
        results.append([t.grad.numpy() if lib is torch else t.grad.data for t in (xt, wt)])
    for m, t in zip(*results):
        np.testing.assert_allclose(m, t, rtol=1e-4, atol=1e-4)


def test_second_backward_with_retain_graph():
    """The columns kept for the weight gradient are rebuilt when backward runs twice."""
    x, w = mt.randn(2, 3, 5, 5, requires_grad=True), mt.randn(4, 3, 3, 3, requires_grad=True)
    y = conv2d(x, w, padding=1)
    y.sum().backward(retain_graph=True)
    first = w.grad.data.copy()
    y.sum().backward()
    np.testing.assert_allclose(w.grad.data, 2 * first, rtol=1e-5)


# ----------------------------------------------------------------------------------------------
# dtypes and graph bookkeeping
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d])
def test_dtype_preserved(dtype, fn):
    x = mt.randn(2, 3, 5, 5, dtype=dtype, requires_grad=True)
    w = mt.randn(3, 3, 3, 3, dtype=dtype, requires_grad=True)
    b = mt.randn(3, dtype=dtype, requires_grad=True)
    y = fn(x, w, b, stride=2)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


def test_no_grad_records_nothing():
    x, w = mt.randn(1, 2, 4, 4, requires_grad=True), mt.randn(2, 2, 3, 3, requires_grad=True)
    with mt.no_grad():
        y = conv2d(x, w)
    assert not y.requires_grad and y.grad_fn is None
    assert isinstance(conv2d(x, w).grad_fn, Convolution)
    assert isinstance(conv_transpose2d(x, w).grad_fn, ConvTranspose)


def test_only_needed_gradients():
    x, w = mt.randn(1, 2, 4, 4), mt.randn(2, 2, 3, 3, requires_grad=True)
    y = conv2d(x, w)
    y.sum().backward()
    assert x.grad is None and w.grad is not None


def test_ops_have_rule_docstrings():
    for op in (Convolution, ConvTranspose, ConvWeightGrad):
        doc = op.__doc__
        assert doc and "\n" not in doc.strip() and ";" in doc, op


# ----------------------------------------------------------------------------------------------
# argument errors (PyTorch's messages)
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (lambda R, F: F.conv2d(R(8, 1, 28, 28), R(32, 3, 3, 3)), RuntimeError,
     r"Given groups=1, weight of size \[32, 3, 3, 3\], expected input\[8, 1, 28, 28\] to have "
     r"3 channels, but got 1 channels instead"),
    (lambda R, F: F.conv2d(R(8, 4, 9, 9), R(6, 2, 3, 3), groups=3), RuntimeError,
     r"expected input\[8, 4, 9, 9\] to have 6 channels, but got 4"),
    (lambda R, F: F.conv2d(R(2, 4, 9, 9), R(5, 2, 3, 3), groups=2), RuntimeError,
     r"expected weight to be divisible by 2 at dimension 0"),
    (lambda R, F: F.conv2d(R(1, 1, 2, 2), R(1, 1, 3, 3)), RuntimeError,
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel "
     r"size can't be greater than actual input size"),
    (lambda R, F: F.conv2d(R(1, 1, 2, 2), R(1, 1, 3, 3), padding=1, dilation=2), RuntimeError,
     r"padded input size per channel: \(4 x 4\). Kernel size: \(5 x 5\)"),
    (lambda R, F: F.conv1d(R(1, 4, 5), R(4, 4, 7)), RuntimeError, r"\(5\). Kernel size: \(7\)"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), stride=0), RuntimeError,
     "non-positive stride is not supported"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), padding=-1), RuntimeError,
     "negative padding is not supported"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), dilation=0), RuntimeError,
     r"dilation should be greater than zero, but got \[0, 0\]"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), groups=0), RuntimeError,
     "non-positive groups is not supported"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), padding="same", stride=2), RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    (lambda R, F: F.conv1d(R(1, 1, 5), R(1, 1, 3), padding="same", stride=2), RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), padding="full"), RuntimeError,
     "Invalid padding string: 'full'"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), padding=(1, 2, 3)), RuntimeError,
     r"expected padding to be a single integer value or a list of 2 values to match the "
     r"convolution dimensions, but got padding=\[1, 2, 3\]"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), stride=(1, 2, 3)), RuntimeError,
     r"expected stride to be a single integer value or a list of 2 values"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 1, 3, 3), padding=1.5), TypeError,
     r"conv2d\(\): argument 'padding' must be tuple of ints, not float"),
    (lambda R, F: F.conv2d(R(5, 5), R(1, 1, 3, 3)), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[5, 5\]"),
    (lambda R, F: F.conv1d(R(1, 4, 5, 5), R(4, 4, 3)), RuntimeError,
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(1, 3, 3)), RuntimeError,
     r"conv2d: expected weight to be 4-dimensional, but got weight of size \[1, 3, 3\]"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(2, 1, 3, 3), R(3)), RuntimeError,
     r"Given weight of size \[2, 1, 3, 3\], expected bias to be 1-dimensional with 2 "
     r"elements, but got bias of size \[3\] instead"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5, dtype=mt.float64), R(2, 1, 3, 3)), RuntimeError,
     r"Input type \(float64\) and weight type \(float32\) should be the same"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(2, 1, 3, 3), R(2, dtype=mt.float64)), RuntimeError,
     r"Input type \(float32\) and bias type \(float64\) should be the same"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(0, 1, 3, 3)), RuntimeError,
     r"expected weight to be at least 1 at dimension 0"),
    (lambda R, F: F.conv2d(R(1, 1, 5, 5), R(2, 1, 0, 3)), RuntimeError,
     r"kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3"),
    (lambda R, F: F.conv2d(np.ones((1, 1, 5, 5)), R(2, 1, 3, 3)), TypeError,
     r"conv2d\(\): argument 'input' must be Tensor, not ndarray"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(3, 2, 3, 3)), RuntimeError,
     r"Given transposed=1, weight of size \[3, 2, 3, 3\], expected input\[1, 4, 5, 5\] to "
     r"have 3 channels, but got 4 channels instead"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), groups=3), RuntimeError,
     r"expected weight to be divisible by 3 at dimension 0"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), stride=2, output_padding=2),
     RuntimeError,
     r"output padding must be smaller than either stride or dilation, but got "
     r"output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 "
     r"dilation_height: 1 dilation_width: 1"),
    (lambda R, F: F.conv_transpose1d(R(1, 4, 5), R(4, 2, 3), output_padding=1), RuntimeError,
     r"output padding must be smaller than either stride or dilation"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), padding=5), RuntimeError,
     r"Given input size per channel: \(5 x 5\). Calculated output size per channel: "
     r"\(-3 x -3\). Output size is too small"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), padding="same"), TypeError,
     r"conv_transpose2d\(\): argument 'padding' must be tuple of ints, not str"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), bias=R(3)), RuntimeError,
     r"Given transposed=1, weight of size \[4, 2, 3, 3\], expected bias to be 1-dimensional "
     r"with 2 elements, but got bias of size \[3\] instead"),
    (lambda R, F: F.conv_transpose2d(R(1, 4, 5, 5), R(4, 2, 3, 3), stride=-1), RuntimeError,
     "non-positive stride is not supported"),
]  # fmt: skip

MT_F = SimpleNamespace(
    conv1d=conv1d, conv2d=conv2d, conv_transpose1d=conv_transpose1d,
    conv_transpose2d=conv_transpose2d,
)  # fmt: skip
# PyTorch raises the same message for these (the others have less specific messages there)
SAME_IN_TORCH = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 22, 23, 25, 26,
                 27, 28, 29, 30, 31, 32]  # fmt: skip


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(mt.randn, MT_F)


@pytest.mark.parametrize("fn,exc,match", [ERRORS[i] for i in SAME_IN_TORCH])
def test_errors_match_torch(torch, fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(torch.randn, torch.nn.functional)
