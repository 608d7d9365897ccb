"""Sparse COO matrix times dense matrix: values, gradients, duplicates and empty rows."""

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import sparse
from mytorch.core.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(0)

# A 4 x 5 pattern with a duplicate coordinate (1, 2) twice, an empty row 3 and empty column 4.
ROWS = np.array([0, 1, 1, 2, 1, 0, 2])
COLS = np.array([2, 2, 0, 3, 2, 1, 0])
INDICES = np.stack([ROWS, COLS])


def dense_of(values: np.ndarray) -> np.ndarray:
    out = np.zeros((4, 5))
    np.add.at(out, (ROWS, COLS), values)
    return out


def test_mm_equals_dense_product_and_to_dense():
    v = rng.standard_normal(7)
    b = rng.standard_normal((5, 3))
    a = sparse.sparse_coo_tensor(mt.tensor(INDICES), mt.tensor(v, dtype=mt.float64), (4, 5))
    np.testing.assert_allclose(
        sparse.mm(a, mt.tensor(b, dtype=mt.float64)).numpy(), dense_of(v) @ b
    )
    np.testing.assert_allclose((a @ mt.tensor(b, dtype=mt.float64)).numpy(), dense_of(v) @ b)
    np.testing.assert_allclose(a.to_dense().numpy(), dense_of(v))
    np.testing.assert_allclose(a.t().to_dense().numpy(), dense_of(v).T)
    c = a.coalesce()
    assert c.is_coalesced() and c._nnz() == 6
    np.testing.assert_allclose(c.to_dense().numpy(), dense_of(v))


def test_mm_gradcheck_and_gradgradcheck_in_values_and_dense():
    v = mt.tensor(rng.standard_normal(7), dtype=mt.float64, requires_grad=True)
    b = mt.tensor(rng.standard_normal((5, 3)), dtype=mt.float64, requires_grad=True)
    idx = mt.tensor(INDICES)

    def f(values, dense):
        return sparse.mm(sparse.sparse_coo_tensor(idx, values, (4, 5)), dense * dense)

    assert gradcheck(f, (v, b))
    assert gradgradcheck(f, (v, b))
    # coalescing sums duplicates differentiably
    g = lambda values: sparse.sparse_coo_tensor(idx, values, (4, 5)).coalesce().values()  # noqa: E731
    assert gradcheck(g, (v,))


def test_mm_matches_torch_sparse_mm(torch):
    v = rng.standard_normal(7).astype(np.float32)
    b = rng.standard_normal((5, 3)).astype(np.float32)
    tv = torch.tensor(v, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ta = torch.sparse_coo_tensor(torch.tensor(INDICES), tv, (4, 5), check_invariants=True)
    tout = torch.sparse.mm(ta, tb)
    mv = mt.tensor(v, requires_grad=True)
    mb = mt.tensor(b, requires_grad=True)
    mout = sparse.mm(sparse.sparse_coo_tensor(mt.tensor(INDICES), mv, (4, 5)), mb)
    np.testing.assert_allclose(mout.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    (tout * torch.tensor(w)).sum().backward()
    (mout * mt.tensor(w)).sum().backward()
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-6)
    # torch returns the values' gradient as a sparse tensor with the (coalesced) pattern
    tgrad = tv.grad.coalesce().to_dense().numpy() if tv.grad.is_sparse else tv.grad.numpy()
    want = np.asarray(tgrad)
    if want.shape != (7,):
        want = want[ROWS, COLS]
    np.testing.assert_allclose(mv.grad.numpy(), want, rtol=1e-5, atol=1e-6)


def test_sorted_and_unsorted_rows_give_the_same_product():
    n, nnz = 50, 400
    r, c = rng.integers(0, n, nnz), rng.integers(0, n, nnz)
    v = rng.standard_normal(nnz).astype(np.float32)
    b = mt.tensor(rng.standard_normal((n, 4)).astype(np.float32))
    order = np.argsort(r, kind="stable")
    a1 = sparse.sparse_coo_tensor(mt.tensor(np.stack([r, c])), mt.tensor(v), (n, n))
    a2 = sparse.sparse_coo_tensor(
        mt.tensor(np.stack([r[order], c[order]])), mt.tensor(v[order]), (n, n)
    )
    np.testing.assert_allclose(sparse.mm(a1, b).numpy(), sparse.mm(a2, b).numpy(), atol=1e-5)


def test_bad_input_is_named():
    with pytest.raises(RuntimeError, match="indices must have shape"):
        sparse.sparse_coo_tensor(mt.tensor([0, 1]), mt.ones(2), (2, 2))
    with pytest.raises(RuntimeError, match="index 7 in row 1 of indices is out of bounds"):
        sparse.sparse_coo_tensor(mt.tensor([[0], [7]]), mt.ones(1), (2, 2))
    a = sparse.sparse_coo_tensor(mt.tensor([[0], [1]]), mt.ones(1), (2, 2))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x2 and 3x1\)"):
        sparse.mm(a, mt.ones(3, 1))


def test_multi_head_spmm_matches_per_head_dense_and_gradchecks():
    heads = 3
    v = mt.tensor(rng.standard_normal((7, heads)), dtype=mt.float64, requires_grad=True)
    b = mt.tensor(rng.standard_normal((5, heads, 2)), dtype=mt.float64, requires_grad=True)
    idx = mt.tensor(INDICES)

    def f(values, dense):
        return sparse.spmm(sparse.sparse_coo_tensor(idx, values, (4, 5)), dense)

    out = f(v, b).detach().numpy()
    for h in range(heads):
        want = dense_of(v.detach().numpy()[:, h]) @ b.detach().numpy()[:, h]
        np.testing.assert_allclose(out[:, h], want, rtol=1e-12)
    assert gradcheck(f, (v, b))
    assert gradgradcheck(f, (v, b))
    with pytest.raises(RuntimeError, match="multi-head values need sparse.spmm"):
        sparse.mm(sparse.sparse_coo_tensor(idx, v, (4, 5)), mt.ones(5, 2, dtype=mt.float64))


@pytest.mark.parametrize("nnz,rows", [(600, 12), (90, 40)])  # long runs, short runs
def test_long_and_short_runs_match_dense_and_gradcheck(nnz, rows):
    r, c = rng.integers(0, rows, nnz), rng.integers(0, 9, nnz)
    v = mt.tensor(rng.standard_normal(nnz), dtype=mt.float64, requires_grad=True)
    b = mt.tensor(rng.standard_normal((9, 5)), dtype=mt.float64, requires_grad=True)
    idx = mt.tensor(np.stack([r, c]))

    def f(values, dense):
        return sparse.mm(sparse.sparse_coo_tensor(idx, values, (rows + 2, 9)), dense)

    a = np.zeros((rows + 2, 9))
    np.add.at(a, (r, c), v.detach().numpy())
    np.testing.assert_allclose(f(v, b).detach().numpy(), a @ b.detach().numpy(), rtol=1e-10)
    assert gradcheck(f, (v, b), random_directions=5)
