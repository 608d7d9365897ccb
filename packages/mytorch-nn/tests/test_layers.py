"""Layers against PyTorch: outputs, input and parameter gradients, reprs; plus Dropout modes."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------------- linear family


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(check_layer, bias, shape):
    check_layer(lambda m: m.Linear(4, 3, bias=bias), randn(*shape))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(5,), (2, 3)])
def test_bilinear(check_layer, bias, lead):
    check_layer(
        lambda m: m.Bilinear(3, 4, 2, bias=bias), randn(*lead, 3), randn(*lead, 4, seed=1),
        rtol=1e-5, atol=1e-5,
    )  # fmt: skip


def test_bilinear_shape_errors():
    with pytest.raises(RuntimeError, match=r"expected inputs of shape \[\*, 3\] and \[\*, 4\]"):
        nn.Bilinear(3, 4, 2)(mt.randn(2, 3), mt.randn(2, 5))


def test_identity_flatten_unflatten(check_layer):
    check_layer(lambda m: m.Identity(3, foo=1), randn(2, 3))
    check_layer(lambda m: m.Flatten(), randn(2, 3, 4, 5))
    check_layer(lambda m: m.Flatten(0, 2), randn(2, 3, 4, 5))
    check_layer(lambda m: m.Unflatten(1, (2, 6)), randn(3, 12))
    check_layer(lambda m: m.Unflatten(-1, (2, -1)), randn(3, 2, 8))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)


# ---------------------------------------------------------------------------------- embedding


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding(check_layer, padding_idx):
    idx = np.array([[0, 2, 9, 2], [9, 1, 1, 0]])
    ours, _ = check_layer(lambda m: m.Embedding(10, 3, padding_idx=padding_idx), idx)
    if padding_idx is not None:
        row = padding_idx % 10
        assert not np.any(ours.weight.grad.data[row])


def test_embedding_scale_grad_by_freq_and_max_norm(check_layer):
    idx = np.array([1, 1, 1, 4, 2])
    check_layer(lambda m: m.Embedding(6, 4, scale_grad_by_freq=True, padding_idx=2), idx)
    ours, theirs = check_layer(lambda m: m.Embedding(6, 4, max_norm=0.5), idx)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)


def test_embedding_double_backward_through_gradient():
    emb = nn.Embedding(5, 3, padding_idx=1)
    idx = mt.tensor([0, 1, 3, 3])
    out = emb(idx)
    (g,) = mt.autograd.grad((out * out).sum(), emb.weight, create_graph=True)
    assert not np.any(g.data[1])
    g.sum().backward()  # d/dw sum(2 * scatter(w[idx])) = 2 * count(row), 0 at padding
    expected = np.array([2, 0, 0, 4, 0], np.float32)[:, None] * np.ones((1, 3), np.float32)
    np.testing.assert_allclose(emb.weight.grad.data, expected)


@pytest.mark.parametrize("padding_idx, scale", [(None, False), (2, True)])
def test_embedding_gradcheck(padding_idx, scale):
    from mytorch.core.testing import gradcheck, gradgradcheck
    from mytorch.nn.functional import embedding

    w = mt.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=mt.float64,
                  requires_grad=True)  # fmt: skip
    idx = mt.tensor([[0, 2, 2], [4, 2, 1]])
    fn = lambda w: embedding(idx, w, padding_idx, scale_grad_by_freq=scale) ** 2  # noqa: E731
    if padding_idx is None and not scale:  # otherwise the gradient is altered on purpose
        assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))  # the (altered) gradient's own derivative


def test_embedding_init_and_errors():
    mt.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.data
    assert not np.any(w[3])
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    with pytest.raises(IndexError, match="index out of range"):
        emb(mt.tensor([1000]))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        emb(mt.tensor([1.0]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_embedding_from_pretrained():
    weights = mt.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    emb = nn.Embedding.from_pretrained(weights)
    assert not emb.weight.requires_grad and emb.weight.data is weights.data
    assert emb(mt.tensor([1])).tolist() == [[4.0, 5.099999904632568, 6.300000190734863]]
    assert nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(mt.ones(3))


# ---------------------------------------------------------------------------------- activations

ACTIVATIONS = [
    lambda m: m.ReLU(),
    lambda m: m.ReLU6(),
    lambda m: m.LeakyReLU(0.2),
    lambda m: m.ELU(alpha=0.7),
    lambda m: m.SELU(),
    lambda m: m.CELU(alpha=1.3),
    lambda m: m.GELU(),
    lambda m: m.GELU(approximate="tanh"),
    lambda m: m.SiLU(),
    lambda m: m.Mish(),
    lambda m: m.Softplus(beta=2.0, threshold=5.0),
    lambda m: m.Hardtanh(-0.5, 0.8),
    lambda m: m.Hardsigmoid(),
    lambda m: m.Hardswish(),
    lambda m: m.Sigmoid(),
    lambda m: m.Tanh(),
    lambda m: m.Softmax(dim=1),
    lambda m: m.Softmax(dim=-1),
    lambda m: m.LogSoftmax(dim=1),
    lambda m: m.Softmin(dim=0),
    lambda m: m.LogSigmoid(),
    lambda m: m.GLU(),
    lambda m: m.GLU(dim=1),
    lambda m: m.Threshold(0.1, 20.0),
    lambda m: m.Hardshrink(0.3),
    lambda m: m.Softshrink(0.3),
    lambda m: m.Softsign(),
    lambda m: m.Tanhshrink(),
    lambda m: m.PReLU(),
    lambda m: m.PReLU(4, init=0.1),
    lambda m: m.RReLU(),  # eval mode: the mean slope
    lambda m: m.Softmax2d(),
]


@pytest.mark.parametrize("make", ACTIVATIONS, ids=lambda f: repr(f(nn)))
def test_activation(check_layer, make):
    check_layer(make, randn(3, 4, 2, 2) * 3, train=False, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ["ReLU", "SiLU", "Mish", "ELU", "SELU", "Hardtanh", "LeakyReLU"])
def test_inplace_activation(torch, cls):
    x = randn(3, 4)
    ours = getattr(nn, cls)(inplace=True)
    theirs = getattr(torch.nn, cls)(inplace=True)
    mx, tx = mt.tensor(x), torch.tensor(x)
    out = ours(mx)
    theirs(tx)
    assert out is mx
    np.testing.assert_allclose(mx.data, tx.numpy(), rtol=1e-6, atol=1e-7)


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = nn.Softmax()(mt.randn(2, 3))
    np.testing.assert_allclose(out.data.sum(1), 1, rtol=1e-6)


# ---------------------------------------------------------------------------------- dropout


def test_dropout_train_and_eval():
    mt.manual_seed(0)
    drop = nn.Dropout(p=0.3)
    x = mt.ones(200, 100)
    y = drop(x).data
    zeros = (y == 0).mean()
    assert abs(zeros - 0.3) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).data, x.data)
    mt.manual_seed(5)
    a = nn.Dropout(0.5)(x).data
    mt.manual_seed(5)
    b = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = mt.randn(50, 40, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data == 0, y.data == 0)


def test_channel_and_alpha_dropout():
    mt.manual_seed(1)
    y = nn.Dropout2d(0.5)(mt.ones(8, 16, 3, 3)).data
    per_channel = y.reshape(8, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels drop together
    assert {0.0, 2.0} == set(np.unique(y).tolist())
    x = mt.randn(400, 400)
    out = nn.AlphaDropout(0.2)(x).data
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02  # self-normalizing
    assert nn.AlphaDropout(0.2).eval()(x).data is x.data or np.array_equal(
        nn.AlphaDropout(0.2).eval()(x).data, x.data
    )


# ---------------------------------------------------------------------------------- losses


def _targets(shape, classes, seed=1):
    return np.random.default_rng(seed).integers(0, classes, shape)


def _probs(*shape, seed=2):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape).astype(np.float32)


LOSSES = {
    "ce": (lambda m, t: m.CrossEntropyLoss(), lambda: (randn(6, 5), _targets(6, 5))),
    "ce_weighted": (
        lambda m, t: m.CrossEntropyLoss(
            weight=t.tensor([1.0, 2.0, 0.5, 1.0, 3.0]), ignore_index=2, label_smoothing=0.1
        ),
        lambda: (randn(6, 5), _targets(6, 5)),
    ),
    "ce_sum_3d": (
        lambda m, t: m.CrossEntropyLoss(reduction="sum"),
        lambda: (randn(3, 5, 4), _targets((3, 4), 5)),
    ),
    "nll": (
        lambda m, t: m.NLLLoss(weight=t.tensor([0.2, 1.0, 2.0])),
        lambda: (randn(7, 3), _targets(7, 3)),
    ),
    "mse": (lambda m, t: m.MSELoss(), lambda: (randn(4, 3), randn(4, 3, seed=1))),
    "l1_none": (
        lambda m, t: m.L1Loss(reduction="none"),
        lambda: (randn(4, 3), randn(4, 3, seed=1)),
    ),
    "smooth_l1": (lambda m, t: m.SmoothL1Loss(beta=0.5), lambda: (randn(8), randn(8, seed=1))),
    "huber": (lambda m, t: m.HuberLoss(delta=0.7), lambda: (randn(8), randn(8, seed=1))),
    "bce": (
        lambda m, t: m.BCELoss(weight=t.tensor([1.0, 0.5, 2.0])),
        lambda: (_probs(4, 3), _probs(4, 3, seed=3)),
    ),
    "bce_logits": (
        lambda m, t: m.BCEWithLogitsLoss(pos_weight=t.tensor([1.0, 3.0, 0.5])),
        lambda: (randn(4, 3), _probs(4, 3, seed=3)),
    ),
    "kl": (
        lambda m, t: m.KLDivLoss(reduction="batchmean"),
        lambda: (np.log(_probs(4, 3)), _probs(4, 3, seed=3)),
    ),
    "kl_log_target": (
        lambda m, t: m.KLDivLoss(reduction="sum", log_target=True),
        lambda: (np.log(_probs(4, 3)), np.log(_probs(4, 3, seed=3))),
    ),
    "margin_ranking": (
        lambda m, t: m.MarginRankingLoss(margin=0.2),
        lambda: (randn(6), randn(6, seed=1), np.sign(randn(6, seed=2))),
    ),
    "soft_margin": (lambda m, t: m.SoftMarginLoss(), lambda: (randn(6), np.sign(randn(6, seed=2)))),
    "hinge": (
        lambda m, t: m.HingeEmbeddingLoss(margin=0.5),
        lambda: (randn(6), np.sign(randn(6, seed=2))),
    ),
    "poisson": (lambda m, t: m.PoissonNLLLoss(), lambda: (randn(6), _probs(6) * 3)),
}


NO_TARGET_GRAD = {"soft_margin", "hinge", "margin_ranking"}  # PyTorch refuses a target grad


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_modules(torch, check_layer, name):
    build, data = LOSSES[name]
    arrays = data()
    grads = tuple(a.dtype.kind == "f" for a in arrays[:-1])
    grads += (arrays[-1].dtype.kind == "f" and name not in NO_TARGET_GRAD,)
    check_layer(
        lambda m: build(m, mt if m is nn else torch), *arrays, requires_grad=grads,
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    assert repr(build(nn, mt)) == repr(build(torch.nn, torch))
    ours, theirs = build(nn, mt).state_dict(), build(torch.nn, torch).state_dict()
    assert list(ours) == list(theirs)  # class weights are (persistent) buffers


def test_loss_legacy_reduction_args():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_distance_modules(check_layer):
    check_layer(lambda m: m.CosineSimilarity(), randn(4, 5), randn(4, 5, seed=1))
    check_layer(lambda m: m.CosineSimilarity(dim=0, eps=1e-6), randn(4, 5), randn(4, 5, seed=1))
    check_layer(lambda m: m.PairwiseDistance(), randn(4, 5), randn(4, 5, seed=1))
    check_layer(lambda m: m.PairwiseDistance(p=1.0, keepdim=True), randn(4, 5), randn(4, 5, seed=1))


# ---------------------------------------------------------------------------------- reprs

REPRS = [
    lambda m: m.Linear(3, 4, bias=False),
    lambda m: m.Bilinear(2, 3, 4),
    lambda m: m.Identity(),
    lambda m: m.Flatten(0, 2),
    lambda m: m.Unflatten(1, (2, 5)),
    lambda m: m.Dropout(0.2, inplace=True),
    lambda m: m.Dropout1d(),
    lambda m: m.Dropout2d(0.1),
    lambda m: m.Dropout3d(),
    lambda m: m.AlphaDropout(0.3),
    lambda m: m.FeatureAlphaDropout(),
    lambda m: m.Embedding(
        10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True
    ),  # fmt: skip
    lambda m: m.BatchNorm1d(3, momentum=None, affine=False),
    lambda m: m.BatchNorm1d(3, bias=False),
    lambda m: m.BatchNorm2d(3, eps=1e-3, track_running_stats=False),
    lambda m: m.LayerNorm([4, 5], elementwise_affine=False),
    lambda m: m.LayerNorm(4, bias=False),
    lambda m: m.RMSNorm(4),
    lambda m: m.RMSNorm([4, 5], eps=1e-6),
    lambda m: m.CosineSimilarity(),
    lambda m: m.PairwiseDistance(),
    lambda m: m.CrossEntropyLoss(),
    *ACTIVATIONS,
    lambda m: m.ReLU(inplace=True),
    lambda m: m.ReLU6(inplace=True),
    lambda m: m.LeakyReLU(0.2, inplace=True),
    lambda m: m.ELU(inplace=True),
    lambda m: m.CELU(inplace=True),
    lambda m: m.SELU(inplace=True),
    lambda m: m.SiLU(inplace=True),
    lambda m: m.Mish(inplace=True),
    lambda m: m.Hardswish(inplace=True),
    lambda m: m.Hardsigmoid(inplace=True),
    lambda m: m.Hardtanh(inplace=True),
    lambda m: m.Threshold(1, 2, inplace=True),
    lambda m: m.RReLU(0.1, 0.3, inplace=True),
    lambda m: m.Softmax(),
    lambda m: m.Sequential(
        m.Flatten(),
        m.Linear(784, 512),
        m.ReLU(),
        m.Dropout(0.2),
        m.Sequential(m.Linear(512, 10), m.LogSoftmax(dim=1)),
    ),  # fmt: skip
]


@pytest.mark.parametrize("make", REPRS, ids=lambda f: repr(f(nn)).split("(")[0])
def test_repr_equals_torch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_custom_module_repr_equals_torch(torch):
    def build(m):
        class Net(m.Module):
            def __init__(self):
                super().__init__()
                self.features = m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.GELU())
                self.heads = m.ModuleDict({"a": m.Linear(8, 2), "b": m.Identity()})
                self.norm = m.LayerNorm(8)

            def extra_repr(self):
                return "custom=1\nsecond line"

        return Net()

    assert repr(build(nn)) == repr(build(torch.nn))
