"""Linear algebra ops: matmul family, einsum and linear against PyTorch and finite differences."""

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.ops.linalg import Einsum, Linear
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def f64(*shape):
    return mt.randn(*shape, dtype=mt.float64, requires_grad=True)


def both(torch, f, *arrays, **kw):
    """Run ``f(lib, *tensors)`` with lib = mytorch and lib = torch and compare."""
    kw.setdefault("rtol", 1e-4)
    kw.setdefault("atol", 1e-5)
    assert_matches_torch(lambda *a: f(mt, *a), *arrays, torch_fn=lambda *a: f(torch, *a), **kw)


# ----------------------------------------------------------------------------------------------
# matmul
# ----------------------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((6, 2, 3), (1, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((2, 1, 2, 3), (1, 5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((4,), (2, 2, 4, 3)),
    ((5, 2, 3), (3,)),
    ((2, 2, 2, 3), (3,)),
    ((2, 3, 2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(torch, sa, sb):
    a, b = arr(*sa), arr(*sb)
    both(torch, lambda lib, x, y: lib.matmul(x, y), a, b)
    assert_matches_torch(lambda x, y: x @ y, a, b, rtol=1e-4, atol=1e-5)
    assert_matches_torch(lambda x, y: x.matmul(y), a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES[:15])
def test_matmul_gradcheck(sa, sb):
    assert gradcheck(lambda x, y: x @ y, (f64(*sa), f64(*sb)))


@pytest.mark.parametrize(
    "sa,sb", [((3,), (3, 4)), ((5, 2, 3), (3,)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 2))]
)
def test_matmul_gradgradcheck(sa, sb):
    assert gradgradcheck(lambda x, y: x @ y, (f64(*sa), f64(*sb)))


def test_matmul_non_contiguous_and_int(torch):
    assert_matches_torch(lambda x, y: x.mT @ y, arr(2, 4, 3), arr(4, 5), rtol=1e-4, atol=1e-5)
    assert_matches_torch(lambda x, y: x @ y.mT, arr(2, 3, 4), arr(2, 5, 4), rtol=1e-4, atol=1e-5)
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    both(torch, lambda lib, x, y: x @ y, a, b)


def test_matmul_with_numpy_operand():
    x = mt.ones(2, 3)
    assert (np.ones((4, 2), np.float32) @ x).shape == (4, 3)


@pytest.mark.parametrize("name", ["mm", "bmm", "mv", "dot", "outer"])
def test_strict_variants(torch, name):
    shapes = {
        "mm": ((2, 3), (3, 4)),
        "bmm": ((5, 2, 3), (5, 3, 4)),
        "mv": ((2, 3), (3,)),
        "dot": ((4,), (4,)),
        "outer": ((3,), (4,)),
    }[name]
    a, b = arr(*shapes[0]), arr(*shapes[1])
    both(torch, lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    if name != "mv":
        both(torch, lambda lib, x, y: getattr(x, name)(y), a, b)
    assert gradcheck(lambda x, y: getattr(mt, name)(x, y), (f64(*shapes[0]), f64(*shapes[1])))


def test_outer_promotes(torch):
    both(torch, lambda lib, x, y: lib.outer(x, y), arr(3), arr(2, dtype=np.float64))


# ----------------------------------------------------------------------------------------------
# einsum
# ----------------------------------------------------------------------------------------------

EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("i,i->", [(5,), (5,)]),
    ("ij->ji", [(3, 4)]),
    ("bi,bj->bij", [(2, 3), (2, 4)]),
    ("ij->", [(3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,...jk->...ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ba", [(3, 2)]),
    ("zAa", [(3, 2, 4)]),
    ("i,j", [(3,), (4,)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,ij->ij", [(3, 1), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bij,jk->bik", [(2, 3, 4), (4, 5)]),
    ("ijk,jl->li", [(2, 3, 4), (3, 5)]),
    ("ik,jk->", [(2, 3), (4, 3)]),
    ("i...->...", [(3, 2, 4)]),
    ("b i d , b j d -> b i j", [(2, 3, 4), (2, 5, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(torch, eq, shapes):
    xs = [arr(*s) for s in shapes]
    both(torch, lambda lib, *t: lib.einsum(eq, *t), *xs)
    both(torch, lambda lib, *t: lib.einsum(eq, list(t)), *xs)


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_gradcheck(eq, shapes):
    assert gradcheck(lambda *t: mt.einsum(eq, *t), tuple(f64(*s) for s in shapes))


@pytest.mark.parametrize(
    "eq,shapes",
    [
        ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)]),
        ("ii->i", [(3, 3)]),
        ("ij->", [(2, 3)]),
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (2, 3, 2)]),
    ],
)
def test_einsum_gradgradcheck(eq, shapes):
    assert gradgradcheck(lambda *t: mt.einsum(eq, *t), tuple(f64(*s) for s in shapes))


def test_einsum_is_one_node():
    q, k = mt.ones(2, 3, 4, requires_grad=True), mt.ones(2, 5, 4, requires_grad=True)
    assert isinstance(mt.einsum("bqd,bkd->bqk", q, k).grad_fn, Einsum)


# ----------------------------------------------------------------------------------------------
# linear
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("xshape", [(4,), (3, 4), (2, 3, 4), (2, 1, 3, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(torch, xshape, bias):
    x, w = arr(*xshape), arr(5, 4)
    args = (x, w, arr(5)) if bias else (x, w)
    assert_matches_torch(
        lambda *t: mt.linear(*t),
        *args,
        torch_fn=lambda *t: torch.nn.functional.linear(*t),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.parametrize("xshape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_gradcheck(xshape):
    assert gradcheck(mt.linear, (f64(*xshape), f64(5, 4), f64(5)))
    assert gradcheck(mt.linear, (f64(*xshape), f64(5, 4)))
    assert gradgradcheck(mt.linear, (f64(*xshape), f64(2, 4), f64(2)))


def test_linear_broadcast_bias_and_transposed_input(torch):
    assert_matches_torch(
        lambda x, w, b: mt.linear(x.mT, w, b),
        arr(2, 4, 3),
        arr(5, 4),
        arr(1),
        torch_fn=lambda x, w, b: torch.nn.functional.linear(x.mT, w, b),
        rtol=1e-4,
        atol=1e-5,
    )
    assert_matches_torch(
        lambda x, w: mt.linear(x, w),
        arr(2, 4),
        arr(4),
        torch_fn=lambda x, w: torch.nn.functional.linear(x, w),
        rtol=1e-4,
        atol=1e-5,
    )


def test_linear_is_one_node():
    x = mt.ones(2, 3, 4)
    w, b = mt.ones(5, 4, requires_grad=True), mt.ones(5, requires_grad=True)
    out = mt.linear(x, w, b)
    assert isinstance(out.grad_fn, Linear)
    assert out.grad_fn.next_functions[0] is None  # x needs no grad
    out.sum().backward()
    assert w.grad.tolist() == [[6.0] * 4] * 5 and b.grad.tolist() == [6.0] * 5


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (
        lambda: mt.matmul(mt.tensor(2.0), mt.ones(4, 5)),
        "both arguments to matmul need to be at least 1D, but they are 0D and 2D",
    ),
    (
        lambda: mt.matmul(mt.ones(2, 3), mt.ones(4, 5)),
        r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)",
    ),
    (lambda: mt.matmul(mt.ones(7, 2, 3), mt.ones(4, 5)), r"cannot be multiplied \(7x2x3 and 4x5\)"),
    (
        lambda: mt.matmul(mt.ones(3), mt.ones(4)),
        r"inconsistent tensor size, expected tensor \[3\] and src \[4\]",
    ),
    (
        lambda: mt.matmul(mt.ones(7, 2, 3), mt.ones(6, 3, 5)),
        r"size of tensor a \(7\) must match the size of tensor b \(6\)",
    ),
    (
        lambda: mt.matmul(mt.ones(2, 3), mt.ones(3, 5, dtype=mt.float64)),
        "same dtype, but got: float32 != float64",
    ),
    (lambda: mt.mm(mt.ones(3), mt.ones(3, 3)), "self must be a matrix"),
    (lambda: mt.mm(mt.ones(3, 3), mt.ones(3)), "mat2 must be a matrix"),
    (
        lambda: mt.mm(mt.ones(2, 3), mt.ones(4, 5)),
        r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)",
    ),
    (lambda: mt.bmm(mt.ones(3, 4), mt.ones(3, 4, 6)), "batch1 must be a 3D tensor"),
    (lambda: mt.bmm(mt.ones(2, 3, 4), mt.ones(4, 6)), "batch2 must be a 3D tensor"),
    (
        lambda: mt.bmm(mt.ones(2, 3, 4), mt.ones(2, 5, 6)),
        r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]",
    ),
    (lambda: mt.bmm(mt.ones(2, 3, 4), mt.ones(3, 4, 6)), r"to be: \[2, 4\] but got: \[3, 4\]"),
    (
        lambda: mt.mv(mt.ones(2, 3), mt.ones(4)),
        r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)",
    ),
    (lambda: mt.mv(mt.ones(3), mt.ones(3)), "vector \\+ matrix @ vector expected"),
    (lambda: mt.dot(mt.ones(3), mt.ones(4)), "inconsistent tensor size"),
    (lambda: mt.dot(mt.ones(3, 1), mt.ones(3)), "1D tensors expected, but got 2D and 1D tensors"),
    (
        lambda: mt.dot(mt.ones(3), mt.ones(3, dtype=mt.float64)),
        "expected both vectors to have same dtype",
    ),
    (lambda: mt.outer(mt.ones(3, 1), mt.ones(3)), "Expected 1-D argument self, but got 2-D"),
    (
        lambda: mt.einsum("ij,jk->ik", mt.ones(3, 2), mt.ones(4, 5)),
        "subscript j has size 4 for operand 1 which does not broadcast with previously seen size 2",
    ),
    (
        lambda: mt.einsum("ij->ji", mt.ones(3, 2, 1)),
        r"number of subscripts in the equation \(2\) does not match the number of dimensions \(3\) for operand 0",
    ),
    (
        lambda: mt.einsum("i...jk->", mt.ones(3, 2)),
        r"\(3\) is more than the number of dimensions \(2\)",
    ),
    (
        lambda: mt.einsum("ij->jk", mt.ones(3, 2)),
        "output subscript k does not appear in the equation for any input operand",
    ),
    (lambda: mt.einsum("ij->jj", mt.ones(3, 2)), "output subscript j appears more than once"),
    (lambda: mt.einsum("ij,jk->ik", mt.ones(3, 2)), "fewer operands were provided"),
    (lambda: mt.einsum("ij->i", mt.ones(3, 2), mt.ones(2)), "more operands were provided"),
    (
        lambda: mt.einsum("ii->i", mt.ones(3, 4)),
        "subscript i is repeated for operand 0 but the sizes don't match, 3 != 4",
    ),
    (lambda: mt.einsum("i1->i", mt.ones(3, 2)), "invalid subscript given at index 1"),
    (lambda: mt.einsum("ij,j->i", mt.ones(3, 2), mt.ones(2, dtype=mt.float64)), "same dtype"),
    (
        lambda: mt.linear(mt.ones(2, 4), mt.ones(3, 5)),
        r"mat1 and mat2 shapes cannot be multiplied \(2x4 and 5x3\)",
    ),
    (lambda: mt.linear(mt.ones(6, 2, 4), mt.ones(3, 5)), r"\(12x4 and 5x3\)"),
    (
        lambda: mt.linear(mt.ones(2, 4), mt.ones(3, 4), mt.ones(2)),
        r"bias of shape \[2\] does not broadcast to the output shape \[2, 3\]",
    ),
    (lambda: mt.linear(mt.ones(2, 4), mt.ones(3, 4, dtype=mt.float64)), "same dtype"),
]


@pytest.mark.parametrize("fn,match", ERRORS)
def test_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_registered_with_docstrings():
    from mytorch.core.autograd import registry

    ops = registry()["linalg"]
    assert {op.__name__ for op in ops} >= {"MatMul", "Einsum", "Linear"}
    assert all(op.__doc__ and ";" in op.__doc__ for op in ops)
