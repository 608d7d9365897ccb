"""Movement ops: shapes, values and gradients against PyTorch, finite differences, errors."""

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def f64(*shape):
    return mt.randn(*shape, dtype=mt.float64, requires_grad=True)


def both(torch, f, *arrays, **kw):
    """Run ``f(lib, *tensors)`` with lib = mytorch and lib = torch and compare."""
    assert_matches_torch(lambda *a: f(mt, *a), *arrays, torch_fn=lambda *a: f(torch, *a), **kw)


# ----------------------------------------------------------------------------------------------
# reshape family
# ----------------------------------------------------------------------------------------------

RESHAPES = [
    ((2, 3, 4), (6, 4)),
    ((2, 3, 4), (-1,)),
    ((2, 3, 4), (4, -1, 2)),
    ((6,), (1, 6, 1)),
    ((1,), ()),
    ((), (1, 1)),
    ((0, 3), (3, 0)),
]


@pytest.mark.parametrize("shape,new", RESHAPES)
def test_reshape_and_view(torch, shape, new):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.reshape(new), x)
    assert_matches_torch(lambda t: t.view(*new) if new else t.view(()), x)
    both(torch, lambda lib, t: lib.reshape(t, new), x)


def test_reshape_gradcheck():
    assert gradcheck(lambda t: t.reshape(4, 6).exp(), (f64(2, 3, 4),))
    assert gradgradcheck(lambda t: t.reshape(-1) ** 2, (f64(2, 3),))


def test_reshape_shares_memory():
    x = mt.zeros(2, 3)
    y = x.view(6)
    y[0] = 5.0
    assert x[0, 0].item() == 5.0


@pytest.mark.parametrize(
    "shape,dims",
    [
        ((2, 3), (0, 1)),
        ((2, 3, 4), (0, 2)),
        ((2, 3, 4), (-1, -2)),
        ((2, 3, 4), (1, 1)),
        ((5,), (0, -1)),
    ],
)
def test_transpose(torch, shape, dims):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.transpose(*dims), x)
    both(torch, lambda lib, t: lib.swapaxes(t, *dims), x)
    both(torch, lambda lib, t: lib.swapdims(t, *dims), x)


@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1)])
def test_permute(torch, dims):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.permute(*dims), x)
    both(torch, lambda lib, t: lib.permute(t, dims), x)
    assert gradcheck(
        lambda t: (
            t.permute(dims) * mt.arange(24.0).double().reshape([(2, 3, 4)[d % 3] for d in dims])
        ),
        (f64(2, 3, 4),),
    )


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_t(torch, shape):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.t(), x)
    both(torch, lambda lib, t: lib.t(t), x)


def test_T_and_mT(torch):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.mT, x)
    assert_matches_torch(lambda t: t.T if t.ndim == 2 else t.permute(2, 1, 0), x)


@pytest.mark.parametrize(
    "src,dst", [(0, -1), (-1, 0), ((0, 1), (2, 0)), ((0, 2), (1, 0)), ([1], [1]), ((), ())]
)
def test_movedim(torch, src, dst):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.movedim(src, dst), x)
    both(torch, lambda lib, t: lib.moveaxis(t, src, dst), x)


@pytest.mark.parametrize(
    "shape,dim",
    [
        ((1, 3, 1, 2), None),
        ((1, 3, 1, 2), 0),
        ((1, 3, 1, 2), 1),  # a non-1 dim: no-op
        ((1, 3, 1, 2), -2),
        ((1, 3, 1, 2), (0, 2)),
        ((1, 3, 1, 2), (0, 1)),
        ((), 0),
        ((), None),
        ((1,), -1),
    ],
)
def test_squeeze(torch, shape, dim):
    x = arr(*shape)
    if dim is None:
        assert_matches_torch(lambda t: t.squeeze(), x)
        both(torch, lambda lib, t: lib.squeeze(t), x)
    else:
        assert_matches_torch(lambda t: t.squeeze(dim), x)
        both(torch, lambda lib, t: lib.squeeze(t, dim), x)


@pytest.mark.parametrize(
    "shape,dim", [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((2, 3), -3), ((), 0)]
)
def test_unsqueeze(torch, shape, dim):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.unsqueeze(dim), x)
    both(torch, lambda lib, t: lib.unsqueeze(t, dim), x)


@pytest.mark.parametrize(
    "shape,start,end",
    [
        ((2, 3, 4, 5), 0, -1),
        ((2, 3, 4, 5), 1, 2),
        ((2, 3, 4, 5), 2, 2),
        ((2, 3, 4), -2, -1),
        ((), 0, -1),
    ],
)
def test_flatten(torch, shape, start, end):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.flatten(start, end), x)
    both(torch, lambda lib, t: lib.flatten(t, start, end), x)
    both(torch, lambda lib, t: lib.ravel(t), x)


@pytest.mark.parametrize("dim,sizes", [(1, (3, 4)), (1, (-1, 2)), (-1, (2, 1, 6)), (0, (1, 2))])
def test_unflatten(torch, dim, sizes):
    x = arr(2, 12)
    assert_matches_torch(lambda t: t.unflatten(dim, sizes), x)
    both(torch, lambda lib, t: lib.unflatten(t, dim, sizes), x)


# ----------------------------------------------------------------------------------------------
# expand / repeat / tile / flip / roll
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,target",
    [
        ((3, 1), (3, 4)),
        ((3, 1), (2, -1, 4)),
        ((1,), (5,)),
        ((), (2, 3)),
        ((2, 3), (2, 3)),
        ((1, 3), (0, 3)),
    ],
)
def test_expand(torch, shape, target):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.expand(*target), x)
    assert_matches_torch(lambda t: t.expand(target) * 1, x)
    if -1 not in target:
        both(torch, lambda lib, t: lib.broadcast_to(t, target), x)


def test_expand_gradcheck_and_expand_as():
    assert gradcheck(
        lambda t: t.expand(2, 3, 4) * mt.arange(24.0).double().reshape(2, 3, 4), (f64(3, 1),)
    )
    x = mt.zeros(3, 1)
    assert x.expand_as(mt.zeros(2, 3, 5)).shape == (2, 3, 5)


def test_broadcast_tensors(torch):
    a, b = arr(3, 1), arr(4)
    both(torch, lambda lib, x, y: lib.broadcast_tensors(x, y), a, b)
    assert mt.broadcast_shapes((3, 1), (4,), (2, 1, 1)) == (2, 3, 4)


@pytest.mark.parametrize(
    "shape,reps",
    [
        ((2, 3), (2, 1)),
        ((2, 3), (1, 3)),
        ((3,), (2, 2)),
        ((2, 1), (3, 2, 2)),
        ((), (3,)),
        ((2, 3), (0, 2)),
    ],
)
def test_repeat(torch, shape, reps):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.repeat(*reps), x)
    assert_matches_torch(lambda t: t.repeat(reps), x)


def test_repeat_gradcheck():
    assert gradcheck(lambda t: t.repeat(2, 1, 3), (f64(2, 3),))
    assert gradgradcheck(lambda t: t.repeat(2, 2) ** 2, (f64(2, 2),))


@pytest.mark.parametrize(
    "shape,dims", [((2, 3), (2,)), ((2, 3), (2, 2)), ((3,), (2, 2)), ((2, 3), ())]
)
def test_tile(torch, shape, dims):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.tile(dims), x)
    both(torch, lambda lib, t: lib.tile(t, dims), x)


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,), (0, 2)])
def test_flip(torch, dims):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.flip(dims), x)
    both(torch, lambda lib, t: lib.flip(t, dims), x)
    both(torch, lambda lib, t: lib.fliplr(t), x)
    both(torch, lambda lib, t: lib.flipud(t), x)


def test_flip_copies():
    x = mt.arange(3.0)
    y = x.flip(0)
    y[0] = 10.0
    assert x.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "shifts,dims",
    [(1, None), (-2, None), (1, 0), (5, 1), (-1, -1), ((1, 2), (0, 1)), ((3, -1), (2, 0))],
)
def test_roll(torch, shifts, dims):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.roll(shifts, dims), x)
    both(torch, lambda lib, t: lib.roll(t, shifts, dims), x)


def test_flip_roll_gradcheck():
    assert gradcheck(
        lambda t: t.flip(0, 2) * mt.arange(24.0).double().reshape(2, 3, 4), (f64(2, 3, 4),)
    )
    assert gradcheck(
        lambda t: t.roll((1, -2), (0, 2)) * mt.arange(24.0).double().reshape(2, 3, 4),
        (f64(2, 3, 4),),
    )
    assert gradgradcheck(lambda t: t.roll(1) ** 2, (f64(5),))


# ----------------------------------------------------------------------------------------------
# cat / stack / split / chunk / unbind / narrow / select
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shapes,dim",
    [
        ([(2, 3), (4, 3)], 0),
        ([(2, 3), (2, 1), (2, 5)], 1),
        ([(2, 3), (2, 1), (2, 5)], -1),
        ([(2, 3, 4)], 2),
        ([(1, 2, 3), (1, 2, 3), (4, 2, 3)], 0),
        ([(2, 0), (2, 3)], 1),
        ([(3,), (0,)], 0),
    ],
)
def test_cat(torch, shapes, dim):
    xs = [arr(*s) for s in shapes]
    both(torch, lambda lib, *t: lib.cat(t, dim), *xs)
    both(torch, lambda lib, *t: lib.cat(list(t), dim=dim), *xs)
    both(torch, lambda lib, *t: lib.concat(t, dim), *xs)
    both(torch, lambda lib, *t: lib.concatenate(t, dim), *xs)


def test_cat_skips_legacy_empty_and_promotes(torch):
    both(torch, lambda lib, a, b: lib.cat([a, b], 1), arr(2, 3), arr(0))
    both(torch, lambda lib, a, b: lib.cat([a, b]), arr(2, 3), arr(1, 3, dtype=np.float64))
    both(torch, lambda lib, a, b: lib.cat([a, b]), arr(2), np.arange(2))
    both(torch, lambda lib, a, b: lib.cat([a, b]), np.arange(2), np.ones(2, bool))


def test_cat_stack_gradcheck():
    a, b, c = f64(2, 3), f64(2, 1), f64(2, 2)
    assert gradcheck(lambda x, y, z: mt.cat([x, y, z], 1), (a, b, c))
    assert gradgradcheck(lambda x, y: mt.cat([x, y], 1) ** 2, (a, b))
    assert gradcheck(lambda x, y: mt.stack([x, y], 1), (f64(2, 3), f64(2, 3)))
    assert gradgradcheck(lambda x, y: mt.stack([x, y], -1) ** 2, (f64(2, 3), f64(2, 3)))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(torch, dim):
    xs = [arr(2, 3) for _ in range(3)]
    both(torch, lambda lib, *t: lib.stack(t, dim), *xs)


def test_stack_promotes(torch):
    both(torch, lambda lib, a, b: lib.stack([a, b]), arr(2), arr(2, dtype=np.float64))


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack"])
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (2, 3)], [(2, 3, 2), (2, 3, 2)]])
def test_hvd_stack(torch, name, shapes):
    xs = [arr(*s) for s in shapes]
    both(torch, lambda lib, *t: getattr(lib, name)(t), *xs)


@pytest.mark.parametrize(
    "shape,arg,dim",
    [
        ((5, 3), 2, 0),
        ((5, 3), 5, 0),
        ((5, 3), 7, 0),
        ((5, 3), 1, 1),
        ((5, 3), [2, 3], 0),
        ((5, 3), [0, 5], 0),
        ((5, 3), [1, 1, 1], -1),
        ((0, 3), 2, 0),
    ],
)
def test_split(torch, shape, arg, dim):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.split(arg, dim), x)
    both(torch, lambda lib, t: lib.split(t, arg, dim), x)


@pytest.mark.parametrize(
    "shape,chunks,dim",
    [((5,), 3, 0), ((6,), 4, 0), ((6, 2), 3, 0), ((2, 7), 2, 1), ((0,), 3, 0), ((3,), 5, 0)],
)
def test_chunk(torch, shape, chunks, dim):
    x = arr(*shape)
    assert_matches_torch(lambda t: t.chunk(chunks, dim), x)
    both(torch, lambda lib, t: lib.chunk(t, chunks, dim), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(torch, dim):
    x = arr(2, 3, 4)
    assert_matches_torch(lambda t: t.unbind(dim), x)
    both(torch, lambda lib, t: lib.unbind(t, dim), x)


def test_split_gradcheck_and_unused_outputs():
    assert gradcheck(lambda t: t.split([1, 3], 1), (f64(2, 4),))
    assert gradgradcheck(lambda t: tuple(p**2 for p in t.chunk(2, 0)), (f64(4, 2),))
    assert gradcheck(lambda t: t.unbind(1), (f64(2, 3),))
    x = mt.arange(6.0).requires_grad_()
    a, _b, _c = x.split(2)
    (a * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0, 0.0, 0.0, 0.0]


def test_split_outputs_are_views():
    x = mt.zeros(4)
    a, b = x.split(2)
    b[0] = 1.0
    assert x.tolist() == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "dim,start,length", [(0, 1, 2), (1, 0, 4), (1, -2, 2), (-1, 3, 0), (0, 3, 0)]
)
def test_narrow(torch, dim, start, length):
    x = arr(3, 4)
    assert_matches_torch(lambda t: t.narrow(dim, start, length), x)
    both(torch, lambda lib, t: lib.narrow(t, dim, start, length), x)


@pytest.mark.parametrize("dim,index", [(0, 1), (1, -1), (-1, 0)])
def test_select(torch, dim, index):
    both(torch, lambda lib, t: lib.select(t, dim, index), arr(3, 4))


def test_narrow_select_gradcheck():
    assert gradcheck(lambda t: t.narrow(1, 1, 2), (f64(3, 4),))
    assert gradgradcheck(lambda t: t.narrow(0, 1, 2) ** 2, (f64(3, 4),))
    assert gradcheck(lambda t: mt.select(t, 1, 2), (f64(3, 4),))


# ----------------------------------------------------------------------------------------------
# pad
# ----------------------------------------------------------------------------------------------

PAD_CASES = [
    ("constant", (3, 5), (1, 2)),
    ("constant", (3, 5), (0, 0, 2, 1)),
    ("constant", (2, 3, 5), (1, 1, 1, 1, 1, 1)),
    ("constant", (2, 3, 5), (-1, 2)),
    ("constant", (2, 3, 5), (-2, -1, 1, -1)),
    ("constant", (5,), (2, 3)),
    ("reflect", (3, 5), (1, 2)),
    ("reflect", (2, 3, 5), (4, 4)),
    ("reflect", (2, 3, 4, 5), (1, 2, 2, 1)),
    ("reflect", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("reflect", (2, 3, 5), (-1, 2)),
    ("replicate", (3, 5), (2, 3)),
    ("replicate", (2, 3, 4, 5), (1, 7, 3, 0)),
    ("replicate", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("replicate", (2, 3, 5), (-1, 2)),
    ("circular", (3, 5), (2, 3)),
    ("circular", (2, 3, 4, 5), (1, 5, 3, 0)),
    ("circular", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("circular", (2, 3, 5), (-1, 2)),
]


@pytest.mark.parametrize("mode,shape,pads", PAD_CASES)
def test_pad(torch, mode, shape, pads):
    x = arr(*shape)
    assert_matches_torch(
        lambda t: mt.pad(t, pads, mode=mode),
        x,
        torch_fn=lambda t: torch.nn.functional.pad(t, pads, mode=mode),
    )


def test_pad_constant_value_and_int(torch):
    assert_matches_torch(
        lambda t: mt.pad(t, (1, 2, 0, 1), value=-3.5),
        arr(2, 3),
        torch_fn=lambda t: torch.nn.functional.pad(t, (1, 2, 0, 1), value=-3.5),
    )
    assert_matches_torch(
        lambda t: mt.pad(t, (1, 1), value=2),
        np.arange(5),
        torch_fn=lambda t: torch.nn.functional.pad(t, (1, 1), value=2),
    )


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    assert gradcheck(lambda t: mt.pad(t, (2, 1, 1, 2), mode=mode), (f64(1, 3, 4),))
    assert gradgradcheck(lambda t: mt.pad(t, (2, 1), mode=mode) ** 2, (f64(2, 4),))


def test_pad_negative_constant_crops():
    x = mt.arange(10.0).reshape(2, 5)
    assert mt.pad(x, (-1, -2)).tolist() == [[1.0, 2.0], [6.0, 7.0]]


# ----------------------------------------------------------------------------------------------
# clone / tril / triu
# ----------------------------------------------------------------------------------------------


def test_clone(torch):
    assert_matches_torch(lambda t: t.clone(), arr(2, 3))
    both(torch, lambda lib, t: lib.clone(t), arr(3))
    x = mt.zeros(3)
    y = x.clone()
    y[0] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0]
    z = mt.zeros(3, 4).t()
    assert not z.is_contiguous() and z.contiguous().is_contiguous()
    assert gradcheck(lambda t: t.t().contiguous(), (f64(3, 4),))


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("k", [0, 1, -1, 3])
def test_tril_triu(torch, name, shape, k):
    x = arr(*shape)
    assert_matches_torch(lambda t: getattr(t, name)(k), x)
    both(torch, lambda lib, t: getattr(lib, name)(t, diagonal=k), x)


def test_tril_triu_gradcheck():
    assert gradcheck(lambda t: t.tril(-1), (f64(3, 4),))
    assert gradgradcheck(lambda t: t.triu(1) ** 2, (f64(2, 3, 3),))


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (
        lambda: mt.zeros(2, 3).reshape(4, -1),
        RuntimeError,
        r"shape '\[4, -1\]' is invalid for input of size 6",
    ),
    (lambda: mt.zeros(2, 3).view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda: mt.zeros(2, 3).reshape(-2, 3), RuntimeError, "invalid shape dimension -2"),
    (lambda: mt.zeros(2, 3).transpose(0, 2), IndexError, r"range of \[-2, 1\], but got 2"),
    (lambda: mt.zeros(2, 3).permute(0, 0), RuntimeError, "duplicate dims"),
    (
        lambda: mt.zeros(2, 3).permute(0, 1, 2),
        RuntimeError,
        "input.dim\\(\\) = 2 is not equal to len\\(dims\\) = 3",
    ),
    (
        lambda: mt.zeros(2, 3, 4).t(),
        RuntimeError,
        "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D",
    ),
    (lambda: mt.zeros(2, 3).movedim((0, 0), (0, 1)), RuntimeError, "repeated dim in `source`"),
    (lambda: mt.zeros(2, 3).movedim((0, 1), 0), RuntimeError, "same number of dims"),
    (lambda: mt.zeros(2, 1).squeeze(2), IndexError, "Dimension out of range"),
    (lambda: mt.zeros(2, 1).unsqueeze(3), IndexError, r"range of \[-3, 2\], but got 3"),
    (lambda: mt.zeros(2, 3).flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim"),
    (
        lambda: mt.zeros(2, 12).unflatten(1, (5, -1)),
        RuntimeError,
        "don't multiply up to the size of dim 1 \\(12\\)",
    ),
    (
        lambda: mt.zeros(2, 3).expand(4, 3),
        RuntimeError,
        r"expanded size of the tensor \(4\) must match the existing size \(2\)",
    ),
    (lambda: mt.zeros(2, 3).expand(3), RuntimeError, "number of sizes provided \\(1\\)"),
    (lambda: mt.zeros(2, 3).expand(-1, 2, 3), RuntimeError, "leading, non-existing dimension 0"),
    (
        lambda: mt.zeros(2, 3).repeat(2),
        RuntimeError,
        "can not be smaller than number of dimensions",
    ),
    (lambda: mt.zeros(2, 3).flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (
        lambda: mt.zeros(2, 3).roll(1, (0, 1)),
        RuntimeError,
        "shifts and dimensions must align. shifts: 1, dims:2",
    ),
    (lambda: mt.zeros(2, 3).roll((1, 2)), RuntimeError, "shifts and dimensions must align"),
    (
        lambda: mt.cat([mt.zeros(2, 3), mt.zeros(2, 4)]),
        RuntimeError,
        r"Expected size 3 but got size 4 for tensor number 1 in the list \(shapes \[2, 3\] and \[2, 4\]\)",
    ),
    (
        lambda: mt.cat([mt.zeros(2, 3), mt.zeros(2, 3), mt.zeros(2, 3, 1)]),
        RuntimeError,
        "same number of dimensions: got 2 and 3 \\(tensor number 2",
    ),
    (lambda: mt.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda: mt.cat([mt.tensor(1.0)]), RuntimeError, "zero-dimensional tensor \\(at position 0\\)"),
    (lambda: mt.cat([mt.zeros(2, 3)], dim=2), IndexError, "Dimension out of range"),
    (lambda: mt.cat(mt.zeros(2, 3)), TypeError, "sequence of Tensors"),
    (lambda: mt.cat([mt.zeros(2), [1.0, 2.0]]), TypeError, "expected Tensor as element 1"),
    (
        lambda: mt.stack([mt.zeros(2, 3), mt.zeros(2, 4)]),
        RuntimeError,
        r"got \[2, 3\] at entry 0 and \[2, 4\] at entry 1",
    ),
    (lambda: mt.stack([]), RuntimeError, "non-empty TensorList"),
    (lambda: mt.zeros(5).split(0), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    (lambda: mt.zeros(5).split([2, 2]), RuntimeError, r"sum exactly to 5 .* split_sizes=\[2, 2\]"),
    (lambda: mt.zeros(5).split([2, -1, 4]), RuntimeError, "non-negative entries"),
    (lambda: mt.zeros(5).chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (
        lambda: mt.zeros(5).narrow(0, 3, 3),
        RuntimeError,
        r"start \(3\) \+ length \(3\) exceeds dimension size \(5\)",
    ),
    (
        lambda: mt.zeros(5).narrow(0, 6, 0),
        IndexError,
        r"start out of range \(expected to be in range of \[-5, 5\], but got 6\)",
    ),
    (lambda: mt.zeros(5).narrow(0, 1, -1), RuntimeError, "length must be non-negative"),
    (
        lambda: mt.pad(mt.zeros(2, 3), (1, 2, 1)),
        RuntimeError,
        "Padding length must be divisible by 2",
    ),
    (
        lambda: mt.pad(mt.zeros(3), (1, 1, 1, 1)),
        RuntimeError,
        "padding length 4 and input of dimension 1",
    ),
    (lambda: mt.pad(mt.zeros(2, 5), (-3, -3)), RuntimeError, "negative size -1"),
    (
        lambda: mt.pad(mt.zeros(2, 5), (1, 1), mode="foo"),
        NotImplementedError,
        "Unrecognised padding mode 'foo'",
    ),
    (
        lambda: mt.pad(mt.zeros(5), (1, 1), mode="reflect"),
        NotImplementedError,
        "Padding size 2 is not supported for 1D input",
    ),
    (
        lambda: mt.pad(mt.zeros(2, 3, 5), (5, 1), mode="reflect"),
        RuntimeError,
        r"less than the corresponding input dimension, but got: padding \(5, 1\) at dimension 2",
    ),
    (
        lambda: mt.pad(mt.zeros(2, 3, 5), (6, 1), mode="circular"),
        RuntimeError,
        "wrapping around more than once",
    ),
    (
        lambda: mt.pad(mt.zeros(2, 3, 5), (1, 1), mode="reflect", value=1.0),
        RuntimeError,
        "doesn't take in value",
    ),
    (
        lambda: mt.zeros(3).tril(),
        RuntimeError,
        "tril: input tensor must have at least 2 dimensions",
    ),
    (
        lambda: mt.zeros(3).triu(),
        RuntimeError,
        "triu: input tensor must have at least 2 dimensions",
    ),
    (lambda: mt.tensor(1.0).unbind(), IndexError, "tensor has no dimensions"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_registered_with_docstrings():
    from mytorch.core.autograd import registry

    ops = registry()["movement"]
    names = {op.__name__ for op in ops}
    assert {
        "Reshape",
        "Permute",
        "Expand",
        "Cat",
        "Split",
        "Stack",
        "Unbind",
        "ConstantPad",
    } <= names
    assert all(op.__doc__ and ";" in op.__doc__ for op in ops)
