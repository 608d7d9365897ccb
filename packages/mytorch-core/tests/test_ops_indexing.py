"""Indexing ops: x[index], setitem, gather/scatter, index_select/index_add, masks."""

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
# getitem
# ----------------------------------------------------------------------------------------------

MASK4 = np.array([True, False, True, True])
MASK45 = rng.random((4, 5)) > 0.5
MASK6 = np.array([False, True, True, False, False, True])

# Each case builds the index with the library it is given (``lib.tensor``), so the same
# expression runs on mytorch and on torch.
GETITEM = {
    "int": lambda lib: 1,
    "neg_int": lambda lib: -1,
    "slice": lambda lib: slice(1, 3),
    "step": lambda lib: slice(None, None, 2),
    "ints": lambda lib: (1, 2),
    "scalar": lambda lib: (1, 2, 3),
    "ellipsis": lambda lib: (Ellipsis, 1),
    "none": lambda lib: None,
    "none_mid": lambda lib: (slice(None), None, 2),
    "mixed_basic": lambda lib: (slice(1, -1), Ellipsis, slice(None, None, 3)),
    "ellipsis_none": lambda lib: (Ellipsis, None),
    "list": lambda lib: [0, 0, 2],
    "repeated": lambda lib: lib.tensor([0, 0, 3, 0]),
    "negative": lambda lib: lib.tensor([-1, 0, -1]),
    "2d_index": lambda lib: lib.tensor([[0, 1], [1, 0]]),
    "dim1": lambda lib: (slice(None), lib.tensor([4, 4, 0])),
    "two_adjacent": lambda lib: (lib.tensor([0, 0]), lib.tensor([1, 1])),
    "adjacent_after_slice": lambda lib: (slice(None), lib.tensor([1, 2]), lib.tensor([0, 0])),
    "separated": lambda lib: (lib.tensor([0, 2, 2]), slice(None), lib.tensor([1, 1, 5])),
    "int_and_array": lambda lib: (1, slice(None), lib.tensor([0, 0, 5])),
    "broadcast_arrays": lambda lib: (lib.tensor([[0], [3]]), lib.tensor([1, 1, 2])),
    "zero_d_tensor": lambda lib: (slice(None), lib.tensor(1), lib.tensor([0, 1])),
    "mask": lambda lib: lib.tensor(MASK4),
    "mask2d": lambda lib: lib.tensor(MASK45),
    "mask_dim2": lambda lib: (slice(None), slice(None), lib.tensor(MASK6)),
    "mask_and_int_array": lambda lib: (lib.tensor(MASK4), slice(None), lib.tensor([0, 1, 1])),
    "mask_ellipsis": lambda lib: (Ellipsis, lib.tensor(MASK6)),
    "empty_list": lambda lib: lib.tensor([], dtype=lib.int64),
    "int32_index": lambda lib: lib.tensor([3, 1, 3], dtype=lib.int32),
}


@pytest.mark.parametrize("case", list(GETITEM))
def test_getitem(torch, case):
    make = GETITEM[case]
    both(torch, lambda lib, t: t[make(lib)], arr(4, 5, 6))


def test_getitem_self_mask(torch):
    assert_matches_torch(lambda t: t[t > 0], arr(4, 5))
    both(torch, lambda lib, t: t[MASK45], arr(4, 5, 6))  # a NumPy mask


def test_getitem_0d_tensor_acts_as_int(torch):
    both(torch, lambda lib, t: t[:, lib.tensor(1), :, [0, 1]], arr(2, 3, 4, 5))


@pytest.mark.parametrize(
    "index,flip",
    [
        (slice(None, None, -1), lambda t: t.flip(0)),
        ((slice(None), slice(None, None, -2)), lambda t: t.flip(1)[:, ::2]),
        ((Ellipsis, slice(4, 0, -2)), lambda t: t[..., 1:5].flip(-1)[..., ::2]),
    ],
)
def test_getitem_negative_step(torch, index, flip):
    # PyTorch refuses negative steps; NumPy semantics are the reference, flip the oracle.
    assert_matches_torch(lambda t: t[index], arr(4, 5, 6), torch_fn=flip)


@pytest.mark.parametrize(
    "case",
    [
        "repeated",
        "separated",
        "mask_and_int_array",
        "mixed_basic",
        "scalar",
        "dim1",
        "int_and_array",
    ],
)
def test_getitem_gradcheck(case):
    index = GETITEM[case](mt)
    assert gradcheck(lambda t: t[index], (f64(4, 5, 6),))


def test_getitem_gradgradcheck():
    idx = mt.tensor([2, 0, 2, 2])
    assert gradgradcheck(lambda t: t[idx] ** 2, (f64(3, 2),))
    assert gradgradcheck(lambda t: t[1:, ::2] ** 2, (f64(3, 4),))


def test_getitem_repeated_indices_accumulate():
    x = mt.zeros(3, 2, requires_grad=True)
    x[mt.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]]


def test_getitem_basic_is_view():
    x = mt.zeros(3, 4)
    row = x[1]
    row[2] = 7.0
    assert x.data[1, 2] == 7.0
    cell = x[0, 0]
    assert cell.shape == ()
    cell.fill_(3.0)
    assert x.data[0, 0] == 3.0


@pytest.mark.parametrize("n_rows,n_idx,vocab", [(50, 400, 50), (3000, 3000, 2000), (10, 1, 10)])
def test_embedding_style_backward_paths(n_rows, n_idx, vocab):
    # exercises the one-hot (few distinct rows), add.at (many) and single-row paths
    idx = rng.integers(0, vocab, n_idx)
    w = mt.zeros(n_rows, 3, requires_grad=True)
    g = rng.standard_normal((n_idx, 3)).astype(np.float32)
    w[mt.tensor(idx)].backward(mt.tensor(g))
    want = np.zeros((n_rows, 3), np.float32)
    np.add.at(want, idx, g)
    np.testing.assert_allclose(w.grad.data, want, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# setitem
# ----------------------------------------------------------------------------------------------


def test_setitem_no_grad_writes_in_place_and_bumps_version():
    x = mt.zeros(3, 4, requires_grad=True)
    base = x.data
    with mt.no_grad():
        x[1, 1:3] = 5.0
        x[mt.tensor([0, 2]), 0] = mt.tensor([1.0, 2.0])
    assert x.data is base and x._version == 2
    assert x.tolist()[1] == [0.0, 5.0, 5.0, 0.0]
    assert x.data[0, 0] == 1.0 and x.data[2, 0] == 2.0
    assert x.is_leaf and x.requires_grad


def test_setitem_without_grad_is_in_place():
    x = mt.zeros(2, 3)
    v = x.data
    x[x == 0] = 2.0
    x[0] = mt.tensor([1, 2, 3])  # ints cast to the tensor's dtype
    assert x.data is v and x._version == 2 and x.grad_fn is None
    assert x.tolist() == [[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]]


def test_setitem_leaf_requiring_grad_raises():
    x = mt.zeros(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"
    ):
        x[0] = 1.0


SETITEM = {
    "slice": (lambda lib: (slice(1, 3),), (2, 4)),
    "int_row": (lambda lib: (0,), (4,)),
    "leading_ones": (lambda lib: (0,), (1, 1, 4)),
    "broadcast_row": (lambda lib: (slice(None), 1), ()),
    "int_array": (lambda lib: (lib.tensor([2, 0]),), (2, 4)),
    "mask": (lambda lib: (lib.tensor([True, False, True]),), (4,)),
    "mixed": (lambda lib: (lib.tensor([0, 2]), slice(1, 3)), (2, 2)),
}


@pytest.mark.parametrize("case", list(SETITEM))
def test_setitem_with_grad_matches_torch(torch, case):
    make, vshape = SETITEM[case]

    def f(lib, t, v):
        y = t * 2
        y[make(lib)] = v * 3
        return y * y

    both(torch, f, arr(3, 4), arr(*vshape))


def test_setitem_ints_apply_before_arrays(torch):
    def f(lib, t, v):
        y = t * 1
        y[1, :, lib.tensor([0, 2, 3])] = v
        return y

    both(torch, f, arr(2, 4, 5), arr(4, 3))
    x = mt.zeros(2, 4, 5)
    x[1, :, mt.tensor([0, 2, 3])] = mt.ones(4, 3)
    assert x.sum().item() == 12.0 and x[1, :, 2].tolist() == [1.0] * 4


def test_setitem_value_requires_grad_into_plain_tensor(torch):
    def f(lib, v):
        y = lib.zeros(3, 2)
        y[1] = v
        return y * 2

    both(torch, f, arr(2))


def test_setitem_gradcheck():
    def f(t, v):
        y = t * 1
        y[mt.tensor([0, 2]), 1:] = v
        return y

    assert gradcheck(f, (f64(3, 3), f64(2, 2)))
    assert gradgradcheck(lambda t, v: f(t, v) ** 2, (f64(3, 3), f64(2, 2)))


def test_setitem_on_saved_output_is_detected():
    x = mt.ones(3, requires_grad=True)
    y = x.exp()
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_setitem_errors():
    x = mt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = mt.zeros(3)
    with pytest.raises(RuntimeError, match="single memory location"):
        mt.zeros(1, 4).expand(3, 4)[0] = 1.0
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        x[5] = 1.0


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put(torch, accumulate):
    idx = np.array([0, 2, 2, 0]) if accumulate else np.array([0, 2])

    def f(lib, t, v):
        return lib.index_put(t, (lib.tensor(idx),), v, accumulate=accumulate)

    both(torch, f, arr(3, 4), arr(idx.size, 4))
    both(torch, f, arr(3, 4), arr(4))


# ----------------------------------------------------------------------------------------------
# gather / scatter / scatter_add / take_along_dim
# ----------------------------------------------------------------------------------------------


def _index(shape, high, seed=1):
    return np.random.default_rng(seed).integers(0, high, shape)


@pytest.mark.parametrize(
    "shape,dim,ishape",
    [
        ((3, 4), 0, (5, 4)),
        ((3, 4), 1, (3, 6)),
        ((3, 4), 1, (2, 2)),
        ((2, 3, 4), -1, (2, 3, 7)),
        ((2, 3, 4), 1, (1, 5, 2)),
        ((5,), 0, (8,)),
    ],
)
def test_gather(torch, shape, dim, ishape):
    idx = _index(ishape, shape[dim])
    both(torch, lambda lib, t: lib.gather(t, dim, lib.tensor(idx)), arr(*shape))
    both(torch, lambda lib, t: t.gather(dim, lib.tensor(idx)), arr(*shape))
    assert gradcheck(lambda t: mt.gather(t, dim, mt.tensor(idx)), (f64(*shape),))


def test_gather_gradgradcheck():
    idx = mt.tensor([[0, 0, 2], [1, 1, 1]])
    assert gradgradcheck(lambda t: mt.gather(t, 1, idx) ** 2, (f64(2, 3),))


def _perm_index(shape, dim, size, seed=2):
    """Distinct positions along ``dim`` (scatter with repeats is order dependent)."""
    r = np.random.default_rng(seed)
    perms = np.argsort(r.random(shape[:dim] + (size,) + shape[dim + 1 :]), axis=dim)
    return np.take(perms, np.arange(shape[dim]), axis=dim)


@pytest.mark.parametrize(
    "shape,dim,ishape,sshape",
    [
        ((3, 4), 1, (3, 2), (3, 2)),
        ((3, 4), 0, (2, 4), (3, 5)),
        ((2, 3, 4), 2, (2, 2, 3), (2, 3, 3)),
        ((6,), 0, (4,), (4,)),
    ],
)
def test_scatter_src(torch, shape, dim, ishape, sshape):
    idx = _perm_index(ishape, dim, shape[dim])
    cut = tuple(slice(0, n) for n in ishape)
    # PyTorch's backward rejects a src larger than index, so its oracle gets src cut to size
    assert_matches_torch(
        lambda t, s: mt.scatter(t, dim, mt.tensor(idx), s),
        arr(*shape),
        arr(*sshape),
        torch_fn=lambda t, s: torch.scatter(t, dim, torch.tensor(idx), s[cut]),
    )
    assert gradcheck(
        lambda t, s: mt.scatter(t, dim, mt.tensor(idx), s), (f64(*shape), f64(*sshape))
    )


def test_scatter_value_and_method(torch):
    idx = np.array([[1, 3], [0, 0], [2, 1]])
    both(torch, lambda lib, t: lib.scatter(t, 1, lib.tensor(idx), value=2.5), arr(3, 4))
    both(torch, lambda lib, t: t.scatter(1, lib.tensor(idx), 2.5), arr(3, 4))
    assert gradcheck(lambda t: mt.scatter(t, 1, mt.tensor(idx), value=-1.0), (f64(3, 4),))


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_forward(torch, reduce):
    idx = np.array([[1, 1, 0], [2, 2, 2]])
    both(
        torch,
        lambda lib, t, s: lib.scatter(t, 1, lib.tensor(idx), s, reduce=reduce),
        arr(2, 4),
        arr(2, 3),
        grad=False,
    )
    x = mt.zeros(2, 4, requires_grad=True)
    out = mt.scatter(x, 1, mt.tensor(idx), mt.ones(2, 3), reduce=reduce)
    with pytest.raises(RuntimeError, match="derivative for reduce"):
        out.sum().backward()


@pytest.mark.parametrize(
    "shape,dim,ishape,sshape",
    [
        ((3, 4), 1, (3, 6), (3, 6)),
        ((3, 4), 0, (5, 4), (6, 5)),
        ((2, 3, 4), 1, (2, 7, 4), (2, 7, 4)),
        ((4,), 0, (9,), (9,)),
    ],
)
def test_scatter_add_repeated(torch, shape, dim, ishape, sshape):
    idx = _index(ishape, shape[dim])
    cut = tuple(slice(0, n) for n in ishape)
    # PyTorch's backward rejects a src larger than index, so its oracle gets src cut to size
    assert_matches_torch(
        lambda t, s: mt.scatter_add(t, dim, mt.tensor(idx), s),
        arr(*shape),
        arr(*sshape),
        torch_fn=lambda t, s: torch.scatter_add(t, dim, torch.tensor(idx), s[cut]),
    )
    assert_matches_torch(
        lambda t, s: t.scatter_add(dim, mt.tensor(idx), s),
        arr(*shape),
        arr(*sshape),
        torch_fn=lambda t, s: t.scatter_add(dim, torch.tensor(idx), s[cut]),
    )
    assert gradcheck(
        lambda t, s: mt.scatter_add(t, dim, mt.tensor(idx), s), (f64(*shape), f64(*sshape))
    )
    assert gradgradcheck(
        lambda t, s: mt.scatter_add(t, dim, mt.tensor(idx), s) ** 2, (f64(*shape), f64(*sshape))
    )


def test_scatter_add_many_repeats_1d():
    idx = _index((5000,), 100)
    src = arr(5000)
    out = mt.scatter_add(mt.zeros(100), 0, mt.tensor(idx), mt.tensor(src))
    want = np.zeros(100, np.float32)
    np.add.at(want, idx, src)
    np.testing.assert_allclose(out.data, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dim,ishape", [(1, (3, 5)), (0, (1, 4)), (-1, (1, 2)), (None, (7,))])
def test_take_along_dim(torch, dim, ishape):
    high = 12 if dim is None else 4 if dim != 0 else 3
    idx = _index(ishape, high)
    both(torch, lambda lib, t: lib.take_along_dim(t, lib.tensor(idx), dim), arr(3, 4))


def test_take(torch):
    both(torch, lambda lib, t: lib.take(t, lib.tensor([[0, -1], [5, 5]])), arr(3, 4))
    assert gradcheck(lambda t: mt.take(t, mt.tensor([0, 0, 11])), (f64(3, 4),))


# ----------------------------------------------------------------------------------------------
# index_select / index_add
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim,idx", [(0, [2, 0, 2]), (1, [3, 3, 3, 0]), (-1, [1]), (1, []), (0, 1)])
def test_index_select(torch, dim, idx):
    both(
        torch, lambda lib, t: lib.index_select(t, dim, lib.tensor(idx, dtype=lib.int64)), arr(3, 4)
    )
    both(torch, lambda lib, t: t.index_select(dim, lib.tensor(idx, dtype=lib.int32)), arr(3, 4))


def test_index_select_gradcheck():
    idx = mt.tensor([1, 1, 0, 1])
    assert gradcheck(lambda t: mt.index_select(t, 1, idx), (f64(2, 3, 2),))
    assert gradgradcheck(lambda t: mt.index_select(t, 0, idx) ** 2, (f64(2, 3),))


@pytest.mark.parametrize("dim,idx,alpha", [(0, [2, 0, 2], 1), (1, [3, 3, 0], 2.5), (-1, [1], -1)])
def test_index_add(torch, dim, idx, alpha):
    sshape = (len(idx), 4) if dim == 0 else (3, len(idx))
    both(
        torch,
        lambda lib, t, s: lib.index_add(t, dim, lib.tensor(idx), s, alpha=alpha),
        arr(3, 4),
        arr(*sshape),
    )
    assert gradcheck(
        lambda t, s: mt.index_add(t, dim, mt.tensor(idx), s, alpha=alpha), (f64(3, 4), f64(*sshape))
    )


# ----------------------------------------------------------------------------------------------
# masks / nonzero
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,mshape",
    [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1, 3), (4, 1)), ((), ())],
)
def test_masked_fill(torch, shape, mshape):
    mask = rng.random(mshape) > 0.5
    both(torch, lambda lib, t: lib.masked_fill(t, lib.tensor(mask), -1.5), arr(*shape))
    both(torch, lambda lib, t: t.masked_fill(lib.tensor(mask), 0.0), arr(*shape))
    assert gradcheck(lambda t: mt.masked_fill(t, mt.tensor(mask), 3.0), (f64(*shape),))


def test_masked_fill_tensor_value(torch):
    mask = np.array([[True, False, True], [False, False, True]])
    both(
        torch,
        lambda lib, t, v: t.masked_fill(lib.tensor(mask), v),
        arr(2, 3),
        np.array(2.0, np.float32),
    )
    assert gradcheck(lambda t, v: mt.masked_fill(t, mt.tensor(mask), v), (f64(2, 3), f64()))
    assert gradgradcheck(
        lambda t, v: mt.masked_fill(t, mt.tensor(mask), v) ** 2, (f64(2, 3), f64())
    )


def test_masked_fill_int_and_inplace(torch):
    mask = np.array([True, False, True])
    both(torch, lambda lib, t: t.masked_fill(lib.tensor(mask), 1.7), np.arange(3))
    x = mt.zeros(3)
    x.masked_fill_(mt.tensor(mask), 4.0)
    assert x.tolist() == [4.0, 0.0, 4.0] and x._version == 1


@pytest.mark.parametrize("shape,mshape", [((2, 3), (2, 3)), ((3,), (2, 3)), ((2, 3), (3,))])
def test_masked_select(torch, shape, mshape):
    mask = rng.random(mshape) > 0.4
    both(torch, lambda lib, t: lib.masked_select(t, lib.tensor(mask)), arr(*shape))
    assert gradcheck(lambda t: mt.masked_select(t, mt.tensor(mask)), (f64(*shape),))


@pytest.mark.parametrize(
    "data", [[[0.0, 1.0], [2.0, 0.0]], [0, 3, 0, 4], 1.0, 0.0, [[[True, False]]], []]
)
def test_nonzero(torch, data):
    x = np.array(data, dtype=np.float32 if isinstance(data, float) else None)
    both(torch, lambda lib, t: lib.nonzero(t), x, grad=False)
    both(torch, lambda lib, t: t.nonzero(as_tuple=True), x, grad=False)


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

X = mt.zeros(3, 4)
ERRORS = [
    (
        lambda: X[mt.tensor([0.0, 1.0])],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    (lambda: X[[0.5]], IndexError, "tensors used as indices must be"),
    (lambda: X[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: X[:, 4], IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    (
        lambda: X[mt.tensor([0, 7])],
        IndexError,
        "index 7 is out of bounds for dimension 0 with size 3",
    ),
    (lambda: X[1, 2, 3], IndexError, "too many indices for tensor of dimension 2"),
    (lambda: X[mt.tensor([True, False])], IndexError, r"dimension 0.*\[3, 4\]"),
    (
        lambda: mt.gather(X, 1, mt.tensor([[0.0]])),
        RuntimeError,
        "gather\\(\\): Expected dtype int32 or int64 for index",
    ),
    (
        lambda: mt.gather(X, 1, mt.tensor([0])),
        RuntimeError,
        "Index tensor must have the same number of dimensions as input tensor",
    ),
    (
        lambda: mt.gather(X, 1, mt.zeros(4, 2, dtype=mt.int64)),
        RuntimeError,
        r"Expected index \[4, 2\] to be no larger than self \[3, 4\] apart from dimension 1",
    ),
    (
        lambda: mt.gather(X, 1, mt.full((2, 2), 4, dtype=mt.int64)),
        RuntimeError,
        "index 4 is out of bounds for dimension 1 with size 4",
    ),
    (
        lambda: mt.gather(X, 1, mt.full((2, 2), -1, dtype=mt.int64)),
        RuntimeError,
        "index -1 is out of bounds",
    ),
    (lambda: mt.gather(X, 2, mt.zeros(3, 2, dtype=mt.int64)), IndexError, "Dimension out of range"),
    (
        lambda: mt.scatter(X, 1, mt.zeros(3, 2, dtype=mt.int64), mt.zeros(3, 1)),
        RuntimeError,
        r"to be no larger size than src \[3, 1\]",
    ),
    (
        lambda: mt.scatter(X, 1, mt.zeros(3, 2, dtype=mt.int64), mt.zeros(3, 5, dtype=mt.float64)),
        RuntimeError,
        "Expected self.dtype to be equal to src.dtype",
    ),
    (
        lambda: mt.scatter(X, 1, mt.zeros(3, 2, dtype=mt.int64)),
        RuntimeError,
        "Expected either src or value",
    ),
    (
        lambda: mt.scatter(X, 1, mt.zeros(3, 2, dtype=mt.int64), mt.zeros(3, 2), reduce="max"),
        RuntimeError,
        "reduce argument must be either add or multiply",
    ),
    (
        lambda: mt.scatter_add(X, 1, mt.zeros(4, 2, dtype=mt.int64), mt.zeros(4, 2)),
        RuntimeError,
        r"Expected index \[4, 2\] to be no larger than self \[3, 4\]",
    ),
    (
        lambda: mt.index_select(X, 1, mt.zeros(3, 2, dtype=mt.int64)),
        IndexError,
        "Index is supposed to be a vector",
    ),
    (
        lambda: mt.index_select(X, 1, mt.tensor([5])),
        RuntimeError,
        "index 5 is out of bounds for dimension 1 with size 4",
    ),
    (
        lambda: mt.index_select(X, 1, mt.tensor([1.0])),
        RuntimeError,
        "Expected dtype int32 or int64 for index",
    ),
    (
        lambda: mt.index_add(X, 1, mt.tensor([1, 1]), mt.zeros(3, 3)),
        RuntimeError,
        r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\), for dim: 1",
    ),
    (
        lambda: X.masked_fill(mt.ones(4), 1.0),
        RuntimeError,
        "only supports boolean masks, but got mask with dtype float32",
    ),
    (
        lambda: X.masked_fill(mt.ones(4, dtype=mt.bool), mt.ones(2)),
        RuntimeError,
        "0-dimensional value tensor, but got tensor with 1 dimension",
    ),
    (lambda: X.masked_fill(mt.ones(3, dtype=mt.bool), 1.0), RuntimeError, "does not broadcast"),
    (
        lambda: mt.masked_select(X, mt.ones(4)),
        RuntimeError,
        "masked_select: expected BoolTensor for mask",
    ),
    (
        lambda: mt.index_put(X, mt.tensor([0]), mt.ones(4)),
        TypeError,
        "indices must be a tuple of tensors",
    ),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_registered_with_docstrings():
    from mytorch.core.autograd import registry

    ops = registry()["indexing"]
    names = {op.__name__ for op in ops}
    assert {
        "Index",
        "IndexBackward",
        "IndexPut",
        "Gather",
        "Scatter",
        "ScatterAdd",
        "IndexSelect",
        "IndexAdd",
        "MaskedFill",
    } <= names
    assert all(op.__doc__ and ";" in op.__doc__ for op in ops)
