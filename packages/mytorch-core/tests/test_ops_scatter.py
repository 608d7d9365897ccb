"""Scatter reductions, segment softmax and index_add/scatter_add as message passing uses them:
duplicate indices, positions that receive nothing, gradients of first and second order."""

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

rng = np.random.default_rng(0)

# 9 edges onto 5 nodes: node 1 gets four, node 3 none (an empty segment), node 0 gets one.
EDGE_DST = np.array([1, 4, 1, 0, 2, 1, 4, 2, 1])
NUM = 5
REDUCTIONS = ["sum", "mean", "amax", "amin"]


def f64(*shape):
    return mt.tensor(rng.standard_normal(shape), dtype=mt.float64, requires_grad=True)


def rows_index(dst: np.ndarray, width: int) -> np.ndarray:
    """(E, width): each row's destination repeated across the columns (scatter's index shape)."""
    return np.repeat(dst[:, None], width, axis=1)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch_with_duplicates_and_empty(torch, reduce, include_self):
    x = rng.standard_normal((NUM, 3)).astype(np.float32)
    src = rng.standard_normal((9, 3)).astype(np.float32)
    idx = rows_index(EDGE_DST, 3)
    assert_matches_torch(
        lambda a, s: a.scatter_reduce(0, mt.tensor(idx), s, reduce, include_self=include_self),
        x,
        src,
        torch_fn=lambda a, s: a.scatter_reduce(
            0, torch.tensor(idx), s, reduce, include_self=include_self
        ),
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_along_dim1_with_smaller_index(torch, reduce):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    src = rng.standard_normal((3, 5)).astype(np.float32)
    idx = np.array([[0, 0, 3, 3, 0], [1, 1, 1, 2, 2], [3, 0, 3, 0, 3]])
    assert_matches_torch(
        lambda a, s: a.scatter_reduce(1, mt.tensor(idx), s, reduce),
        x,
        src,
        torch_fn=lambda a, s: a.scatter_reduce(1, torch.tensor(idx), s, reduce),
    )


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_amax_ties_share_gradient_like_torch(torch, include_self):
    x = np.array([1.0, 5.0, 0.0], np.float32)
    src = np.array([5.0, 2.0, 5.0, 7.0, 7.0], np.float32)
    idx = np.array([1, 1, 1, 2, 2])
    assert_matches_torch(
        lambda a, s: a.scatter_reduce(0, mt.tensor(idx), s, "amax", include_self=include_self),
        x,
        src,
        torch_fn=lambda a, s: a.scatter_reduce(
            0, torch.tensor(idx), s, "amax", include_self=include_self
        ),
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradcheck_and_gradgradcheck(reduce, include_self):
    x, src = f64(NUM, 2), f64(9, 2)
    idx = mt.tensor(rows_index(EDGE_DST, 2))

    def f(a, s):
        return a.scatter_reduce(0, idx, s, reduce, include_self=include_self)

    assert gradcheck(f, (x, src))
    assert gradgradcheck(f, (x, src))


def test_scatter_reduce_integer_mean_rounds_down_like_torch(torch):
    x = np.array([1, 10, 0])
    src = np.array([2, 3, 4])
    idx = np.array([1, 1, 0])
    got = mt.tensor(x).scatter_reduce(0, mt.tensor(idx), mt.tensor(src), "mean").numpy()
    want = torch.tensor(x).scatter_reduce(0, torch.tensor(idx), torch.tensor(src), "mean")
    np.testing.assert_array_equal(got, want.numpy())


def test_scatter_reduce_rejects_bad_arguments():
    x = mt.zeros(3)
    with pytest.raises(RuntimeError, match="reduce argument must be one of"):
        x.scatter_reduce(0, mt.tensor([0]), mt.ones(1), "prod")
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x.scatter_reduce(0, mt.tensor([5]), mt.ones(1), "sum")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter_reduce(0, mt.tensor([[0]]), mt.ones(1), "sum")
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter_reduce(0, mt.tensor([0]), mt.ones(1, dtype=mt.float64), "sum")


# ----------------------------------------------------------------------------- index_add etc.
def test_index_add_matches_torch_with_duplicates_and_empty_rows(torch):
    x = rng.standard_normal((NUM, 4)).astype(np.float32)
    src = rng.standard_normal((9, 4)).astype(np.float32)
    assert_matches_torch(
        lambda a, s: a.index_add(0, mt.tensor(EDGE_DST), s, alpha=2.0),
        x,
        src,
        torch_fn=lambda a, s: a.index_add(0, torch.tensor(EDGE_DST), s, alpha=2.0),
    )


def test_index_add_and_scatter_add_gradcheck_and_gradgradcheck():
    x, src = f64(NUM, 3), f64(9, 3)
    idx = mt.tensor(EDGE_DST)
    idx2 = mt.tensor(rows_index(EDGE_DST, 3))
    for f in (
        lambda a, s: a.index_add(0, idx, s * s),
        lambda a, s: a.scatter_add(0, idx2, s * s),
    ):
        assert gradcheck(f, (x, src))
        assert gradgradcheck(f, (x, src))


def test_scatter_add_matches_torch_with_duplicates(torch):
    x = rng.standard_normal((NUM, 3)).astype(np.float32)
    src = rng.standard_normal((9, 3)).astype(np.float32)
    idx = rows_index(EDGE_DST, 3)
    assert_matches_torch(
        lambda a, s: a.scatter_add(0, mt.tensor(idx), s),
        x,
        src,
        torch_fn=lambda a, s: a.scatter_add(0, torch.tensor(idx), s),
    )


# ----------------------------------------------------------------------------- segment softmax
def torch_segment_softmax(torch, src, index, num):
    """Reference: PyTorch's scatter_reduce for the group max and index_add for the sums."""
    shape = (num,) + tuple(src.shape[1:])
    full = index.view((-1,) + (1,) * (src.dim() - 1)).expand_as(src)
    m = torch.zeros(shape, dtype=src.dtype).scatter_reduce(0, full, src, "amax", include_self=False)
    e = (src - m[index]).exp()
    total = torch.zeros(shape, dtype=src.dtype).index_add(0, index, e)
    return e / total[index]


@pytest.mark.parametrize("shape", [(9,), (9, 3)])
def test_segment_softmax_matches_torch(torch, shape):
    src = (3 * rng.standard_normal(shape)).astype(np.float32)
    assert_matches_torch(
        lambda s: mt.segment_softmax(s, mt.tensor(EDGE_DST), NUM),
        src,
        torch_fn=lambda s: torch_segment_softmax(torch, s, torch.tensor(EDGE_DST), NUM),
    )


def test_segment_softmax_sums_to_one_per_group_and_is_stable():
    src = mt.tensor([1000.0, 1001.0, -1000.0, 5.0, 5.0, 5.0])
    idx = mt.tensor([0, 0, 1, 3, 3, 3])  # group 2 is empty
    y = mt.segment_softmax(src, idx, 4).numpy()
    assert np.all(np.isfinite(y))
    sums = np.bincount(idx.numpy(), weights=y, minlength=4)
    np.testing.assert_allclose(sums, [1, 1, 0, 1], rtol=1e-6)
    np.testing.assert_allclose(y[3:], 1 / 3, rtol=1e-6)


def test_segment_softmax_gradcheck_gradgradcheck_and_other_dim():
    src = f64(9, 2)
    idx = mt.tensor(EDGE_DST)
    f = lambda s: mt.segment_softmax(s, idx, NUM) * mt.segment_softmax(s, idx, NUM)  # noqa: E731
    assert gradcheck(f, (src,))
    assert gradgradcheck(f, (src,))
    t = f64(2, 9)
    g = lambda s: mt.segment_softmax(s, idx, NUM, dim=1)  # noqa: E731
    assert gradcheck(g, (t,))
    np.testing.assert_allclose(
        g(t).detach().numpy(), mt.segment_softmax(t.detach().T.clone(), idx, NUM).numpy().T
    )


def test_segment_softmax_rejects_bad_index():
    with pytest.raises(RuntimeError, match=r"index must be 1-D with src.shape\[0\] = 3"):
        mt.segment_softmax(mt.ones(3), mt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="index 4 is out of bounds for num_segments = 2"):
        mt.segment_softmax(mt.ones(2), mt.tensor([0, 4]), 2)
