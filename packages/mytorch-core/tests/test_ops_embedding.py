"""embedding: PyTorch parity of the lookup and of the weight gradient (repeated indices,
padding_idx, scale_grad_by_freq, every accumulation path), in-place max_norm renormalization,
finite differences of the first and second derivatives, and error messages."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck


def _weight(num: int, dim: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal((num, dim)) * scale
    return data.astype(np.float32)


def _indices(num: int, shape: tuple, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, num, shape)


def _check(torch, idx: np.ndarray, w: np.ndarray, grad_rtol: float = 1e-5, **kwargs) -> None:
    assert_matches_torch(
        lambda i, w: F.embedding(i, w, **kwargs),
        idx,
        w,
        torch_fn=lambda i, w: torch.nn.functional.embedding(i, w, **kwargs),
        grad_rtol=grad_rtol,
        grad_atol=grad_rtol / 10,
    )


# -------------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0,), (2, 0, 3)])
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_matches_torch(torch, shape, padding_idx, scale_grad_by_freq):
    idx = _indices(7, shape)
    if idx.size:
        idx.reshape(-1)[:3] = 3  # repeats of a row (the padding row when padding_idx is 3)
    _check(
        torch, idx, _weight(7, 4), padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq
    )


@pytest.mark.parametrize(
    "num, dim, shape",
    [
        (10, 8, (32, 100)),  # few rows, many repeats: one-hot product
        (5000, 64, (32, 100)),  # large vocabulary: direct writes plus repeats
        (5000, 16, (50,)),  # large vocabulary, probably no repeats
        (300, 3, (40, 40)),  # every row repeated many times
    ],
)
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_repeated_indices_match_torch(torch, num, dim, shape, padding_idx):
    idx = _indices(num, shape, seed=num)
    # float32 sums of up to hundreds of terms, added in another order than torch's
    _check(torch, idx, _weight(num, dim), grad_rtol=1e-4, padding_idx=padding_idx)


def test_unique_and_all_equal_indices(torch):
    w = _weight(50, 6)
    _check(torch, np.random.default_rng(0).permutation(50)[:20], w)
    _check(torch, np.full((4, 9), 7), w, scale_grad_by_freq=True)


def test_int32_indices_and_float64_weight(torch):
    idx = _indices(9, (4, 5)).astype(np.int32)
    _check(torch, idx, _weight(9, 3).astype(np.float64), padding_idx=1)


def test_gradient_accumulates_repeats_exactly():
    w = mt.tensor(_weight(4, 2), requires_grad=True)
    F.embedding(mt.tensor([[1, 1, 3], [1, 0, 3]]), w, padding_idx=0).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0, 0], [3, 3], [0, 0], [2, 2]])


def test_padding_row_is_looked_up_but_gets_no_gradient():
    w = mt.tensor(_weight(4, 2), requires_grad=True)
    out = F.embedding(mt.tensor([2, 2]), w, padding_idx=2)
    np.testing.assert_array_equal(out.data, w.data[[2, 2]])
    out.sum().backward()
    assert not w.grad.data.any()


# ------------------------------------------------------------------------------------ max_norm


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_max_norm_renormalizes_in_place_like_torch(torch, norm_type):
    w0 = _weight(8, 5, scale=2.0)
    idx = np.array([[1, 4, 4], [6, 1, 0]])
    ours = mt.tensor(w0.copy(), requires_grad=True)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    version = ours._version
    out = F.embedding(mt.tensor(idx), ours, max_norm=1.5, norm_type=norm_type)
    ref = torch.nn.functional.embedding(
        torch.tensor(idx), theirs, max_norm=1.5, norm_type=norm_type
    )
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert ours._version > version
    used = np.unique(idx)
    unused = np.setdiff1d(np.arange(8), used)
    np.testing.assert_array_equal(ours.data[unused], w0[unused])  # untouched rows
    norms = np.linalg.norm(ours.data[used], ord=norm_type, axis=1)
    assert (norms <= 1.5 + 1e-5).all() and not np.allclose(ours.data[used], w0[used])
    g = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    (out * mt.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_max_norm_leaves_short_rows_alone():
    w = mt.tensor(_weight(6, 3, scale=0.01))
    before = w.data.copy()
    F.embedding(mt.tensor([0, 1, 5]), w, max_norm=1.0)
    np.testing.assert_array_equal(w.data, before)


# ------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_gradcheck_and_gradgradcheck(padding_idx, scale_grad_by_freq):
    idx = mt.tensor([[0, 1, 1], [3, 1, 0]])
    w = mt.tensor(_weight(5, 3), dtype=mt.float64, requires_grad=True)

    def fn(w):
        out = F.embedding(idx, w, padding_idx, scale_grad_by_freq=scale_grad_by_freq)
        return out * out  # non-linear, so the second derivative is not trivially zero

    if padding_idx is None and not scale_grad_by_freq:  # otherwise altered on purpose
        assert gradcheck(fn, [w])
    assert gradgradcheck(fn, [w])  # the derivative of the (altered) gradient


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_altered_gradient_is_the_true_one_zeroed_and_scaled(padding_idx, scale_grad_by_freq):
    idx = np.array([[0, 1, 1], [3, 1, 0], [1, 4, 4]])
    w = mt.tensor(_weight(5, 3), dtype=mt.float64, requires_grad=True)
    F.embedding(mt.tensor(idx), w).pow(2).sum().backward()
    true = w.grad.data.copy()
    w.grad = None
    F.embedding(mt.tensor(idx), w, padding_idx, scale_grad_by_freq=scale_grad_by_freq).pow(
        2
    ).sum().backward()
    want = true.copy()
    if scale_grad_by_freq:
        want /= np.maximum(np.bincount(idx.ravel(), minlength=5), 1)[:, None]
    if padding_idx is not None:
        want[padding_idx] = 0
    np.testing.assert_allclose(w.grad.data, want, rtol=1e-12)


# -------------------------------------------------------------------------------------- errors


def test_errors():
    w = mt.tensor(_weight(4, 2))
    with pytest.raises(RuntimeError, match="'indices'.*Long, Int; but got float32"):
        F.embedding(mt.tensor([0.0, 1.0]), w)
    with pytest.raises(IndexError, match="index out of range in self: index 4 with 4"):
        F.embedding(mt.tensor([0, 4]), w)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding(mt.tensor([-1, 2]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(mt.tensor([0]), w, padding_idx=4)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(mt.tensor([0]), w, padding_idx=-5)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D, got 1-D"):
        F.embedding(mt.tensor([0]), mt.ones(4))


def test_nn_reexports_the_core_function():
    nn_functional = pytest.importorskip("mytorch.nn.functional")
    assert nn_functional.embedding is F.embedding


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_double_backward_matches_torch(torch, padding_idx, scale_grad_by_freq):
    idx = np.array([[0, 1, 1], [3, 1, 0], [1, 4, 4]])
    w0 = _weight(5, 3)
    v = np.random.default_rng(3).standard_normal((3, 3, 3)).astype(np.float32)
    c = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)  # dense on all rows
    kw = dict(padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    w, mv = mt.tensor(w0, requires_grad=True), mt.tensor(v, requires_grad=True)
    out = F.embedding(mt.tensor(idx), w, **kw)
    (g,) = mt.autograd.grad((out * out * mv).sum(), w, create_graph=True)
    (g * g + g * mt.tensor(c)).sum().backward()
    tw, tv = torch.tensor(w0, requires_grad=True), torch.tensor(v, requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, **kw)
    (tg,) = torch.autograd.grad((tout * tout * tv).sum(), tw, create_graph=True)
    (tg * tg + tg * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mv.grad.data, tv.grad.numpy(), rtol=1e-5, atol=1e-6)
