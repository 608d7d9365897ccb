"""Dropout family, one_hot, normalize, cosine_similarity, pairwise_distance and the functional
namespace."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    mt.manual_seed(0)
    x = mt.ones(200_000)
    y = F.dropout(x, p)
    zeros = np.mean(y.data == 0)
    assert abs(zeros - p) < 0.01
    kept = y.data[y.data != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.02  # inverted dropout preserves the mean


def test_dropout_gradient_is_the_scaled_mask():
    mt.manual_seed(1)
    x = mt.ones(1000, dtype=mt.float64, requires_grad=True)
    y = F.dropout(x, 0.3)
    (y * mt.arange(1000.0, dtype=mt.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data * np.arange(1000.0))


def test_dropout_gradcheck_with_fixed_seed():
    x = mt.randn(4, 5, dtype=mt.float64, requires_grad=True)

    def fn(t):
        mt.manual_seed(3)  # the same mask on every evaluation
        return F.dropout(t, 0.4)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_dropout_is_identity_when_not_training_or_p_zero():
    x = mt.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.alpha_dropout(x, 0.5) is x  # alpha_dropout defaults to training=False
    assert F.dropout2d(mt.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)


def test_dropout_p_one_gives_zeros_and_zero_grad():
    x = mt.randn(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not np.any(y.data)
    y.sum().backward()
    assert not np.any(x.grad.data)


def test_dropout_is_reproducible_with_manual_seed():
    x = mt.ones(50, 50)
    mt.manual_seed(123)
    a = F.dropout(x, 0.5)
    mt.manual_seed(123)
    b = F.dropout(x, 0.5)
    c = F.dropout(x, 0.5)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(b.data, c.data)


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("fn", [F.dropout, F.alpha_dropout, F.dropout1d, F.dropout2d, F.dropout3d])
def test_dropout_rejects_bad_probability(p, fn):
    with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
        fn(mt.randn(2, 3, 4, 4, 4), p, training=True)


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_dropout_keeps_dtype(dtype):
    assert F.dropout(mt.randn(10, dtype=dtype), 0.5).dtype == dtype
    assert F.alpha_dropout(mt.randn(10, dtype=dtype), 0.5, training=True).dtype == dtype


def test_dropout_inplace_writes_into_input():
    mt.manual_seed(0)
    x = mt.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.data).tolist()) == {0.0, 2.0}


def test_dropout_rejects_integer_input():
    with pytest.raises(RuntimeError, match="floating point input, got int64"):
        F.dropout(mt.tensor([1, 2, 3]), 0.5)


def _channels_all_or_nothing(y: np.ndarray, scale: float) -> np.ndarray:
    """Per channel (dims 0 and 1): whether it was dropped; asserts channels are uniform."""
    flat = y.reshape(y.shape[0], y.shape[1], -1)
    dropped = np.all(flat == 0, axis=2)
    kept = np.all(np.isclose(flat, scale), axis=2)
    assert np.all(dropped | kept)
    return dropped


def test_dropout2d_drops_whole_channels():
    mt.manual_seed(0)
    y = F.dropout2d(mt.ones(50, 40, 3, 3), 0.25)
    dropped = _channels_all_or_nothing(y.data, 1 / 0.75)
    assert abs(dropped.mean() - 0.25) < 0.03


def test_dropout1d_and_3d_batched_and_unbatched():
    mt.manual_seed(0)
    y = F.dropout1d(mt.ones(30, 20, 7), 0.5)
    _channels_all_or_nothing(y.data, 2.0)
    y = F.dropout1d(mt.ones(20, 7), 0.5)  # (C, L)
    assert y.shape == (20, 7)
    _channels_all_or_nothing(y.data[None], 2.0)
    y = F.dropout3d(mt.ones(4, 10, 2, 2, 2), 0.5)
    _channels_all_or_nothing(y.data, 2.0)
    y = F.dropout3d(mt.ones(10, 2, 2, 2), 0.5)  # (C, D, H, W)
    _channels_all_or_nothing(y.data[None], 2.0)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(mt.ones(2, 3, 4, 5))


def test_dropout2d_warns_for_unusual_ranks():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(mt.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(mt.ones(2, 3))


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    mt.manual_seed(0)
    x = mt.randn(400_000)
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(y.data.mean()) < 0.01
    assert abs(y.data.std() - 1.0) < 0.01
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * 0.3 + 1) * 0.7)
    dropped = y.data[np.isclose(y.data, alpha * a * (0.3 - 1))]
    assert abs(dropped.size / x.numel() - 0.3) < 0.01


def test_alpha_dropout_gradient_and_feature_variant():
    mt.manual_seed(2)
    x = mt.randn(6, 8, 3, 3, dtype=mt.float64, requires_grad=True)
    y = F.feature_alpha_dropout(x, 0.5, training=True)
    y.sum().backward()
    g = x.grad.data.reshape(6, 8, -1)
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * 0.5 + 1) * 0.5)
    assert np.all(np.isclose(g, 0) | np.isclose(g, a))
    assert np.all(g.min(axis=2) == g.max(axis=2))  # whole channels share the mask


# ------------------------------------------------------------------------------- one_hot


@pytest.mark.parametrize("num_classes", [-1, 6])
@pytest.mark.parametrize("shape", [(5,), (2, 3), ()])
def test_one_hot_matches_torch(torch, num_classes, shape):
    t = np.asarray(RNG.integers(0, 4, shape))
    ours = F.one_hot(mt.tensor(t), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(t), num_classes)
    assert ours.dtype == mt.int64
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_one_hot_hand_computed_and_empty():
    assert F.one_hot(mt.tensor([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert F.one_hot(mt.zeros(0, dtype=mt.int64), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="only applicable to index tensor"):
        F.one_hot(mt.tensor([1.0]))
    with pytest.raises(RuntimeError, match="must be non-negative, got -1"):
        F.one_hot(mt.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match=r"smaller than num_classes \(2\), got 3"):
        F.one_hot(mt.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes"):
        F.one_hot(mt.zeros(0, dtype=mt.int64))


# ------------------------------------------------------------------------------- normalize


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_matches_torch(torch, p, dim):
    x = RNG.standard_normal((3, 4, 5))
    assert_matches_torch(
        lambda a: F.normalize(a, p, dim),
        x,
        torch_fn=lambda a: torch.nn.functional.normalize(a, p, dim),
    )


def test_normalize_gradchecks_and_handles_zero_vectors(torch):
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    assert gradcheck(F.normalize, (x,))
    assert gradgradcheck(F.normalize, (x,))
    z = np.zeros((2, 3), np.float32)
    z[1] = [3.0, 0.0, 4.0]
    out = F.normalize(mt.tensor(z))
    np.testing.assert_allclose(out.data, [[0, 0, 0], [0.6, 0, 0.8]], rtol=1e-6)
    assert_matches_torch(F.normalize, z, torch_fn=torch.nn.functional.normalize)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cosine_similarity_matches_torch(torch, dim):
    x, y = RNG.standard_normal((3, 4, 5)), RNG.standard_normal((3, 4, 5))
    assert_matches_torch(
        lambda a, b: F.cosine_similarity(a, b, dim),
        x,
        y,
        torch_fn=lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim),
    )


def test_cosine_similarity_broadcasts_and_handles_zero_vectors(torch):
    x, y = RNG.standard_normal((4, 5)), RNG.standard_normal((1, 5))
    x[2] = 0.0
    assert_matches_torch(F.cosine_similarity, x, y, torch_fn=torch.nn.functional.cosine_similarity)
    out = F.cosine_similarity(mt.tensor([[1.0, 0.0]]), mt.tensor([[2.0, 0.0]]))
    assert out.tolist() == [1.0]


def test_cosine_similarity_gradchecks():
    x = mt.randn(3, 5, dtype=mt.float64, requires_grad=True)
    y = mt.randn(3, 5, dtype=mt.float64, requires_grad=True)
    assert gradcheck(F.cosine_similarity, (x, y))
    assert gradgradcheck(F.cosine_similarity, (x, y))


@pytest.mark.parametrize("p, keepdim", [(2.0, False), (1.0, True), (3.0, False)])
def test_pairwise_distance_matches_torch(torch, p, keepdim):
    x, y = RNG.standard_normal((4, 6)), RNG.standard_normal((4, 6))
    assert_matches_torch(
        lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
        x,
        y,
        torch_fn=lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, keepdim=keepdim),
    )


# ------------------------------------------------------------------------------- namespace


def test_linear_and_pad_are_reexported(torch):
    x, w, b = RNG.standard_normal((2, 3, 5)), RNG.standard_normal((4, 5)), RNG.standard_normal(4)
    assert_matches_torch(F.linear, x, w, b, torch_fn=torch.nn.functional.linear)
    assert_matches_torch(
        lambda a: F.pad(a, (1, 2)), x, torch_fn=lambda a: torch.nn.functional.pad(a, (1, 2))
    )


def test_namespace_covers_torch_functional_names(torch):
    names = [
        "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
        "softplus", "hardtanh", "hardsigmoid", "hardswish", "sigmoid", "tanh", "softmax",
        "log_softmax", "softmin", "logsigmoid", "glu", "prelu", "rrelu", "threshold",
        "hardshrink", "softshrink", "softsign", "tanhshrink", "cross_entropy", "nll_loss",
        "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity", "pairwise_distance",
        "margin_ranking_loss", "soft_margin_loss", "poisson_nll_loss", "hinge_embedding_loss",
        "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
        "dropout3d", "one_hot", "normalize", "linear", "pad", "relu_", "elu_", "leaky_relu_",
        "hardtanh_", "threshold_", "rrelu_",
    ]  # fmt: skip
    for name in names:
        assert hasattr(torch.nn.functional, name), name
        assert callable(getattr(F, name)), name
