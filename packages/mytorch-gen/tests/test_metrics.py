"""Sample-quality metrics: the Frechet distance, the shipped classifier, coverage, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mytorch.gen.metrics import (
    class_coverage,
    classifier_features,
    classifier_frechet_distance,
    feature_statistics,
    frechet_distance,
    reconstruction_error,
)
from mytorch.vision.datasets import load_sample


@pytest.fixture(scope="module")
def sample():
    x_tr, y_tr = load_sample(train=True)
    x_te, y_te = load_sample(train=False)
    return x_tr.reshape(-1, 784) / 255.0, y_tr, x_te.reshape(-1, 784) / 255.0, y_te


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((m1 - m2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    got = frechet_distance(m1, np.diag(v1), m2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_is_zero_for_equal_and_symmetric():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    s1, s2 = a @ a.T, np.cov(rng.normal(size=(50, 5)), rowvar=False)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
        frechet_distance(mu2, s2, mu1, s1), rel=1e-8
    )
    # a rotation of both leaves it unchanged (non-commuting covariances)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    rotated = frechet_distance(q @ mu1, q @ s1 @ q.T, q @ mu2, q @ s2 @ q.T)
    assert rotated == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=1e-8)
    with pytest.raises(ValueError, match="shapes differ"):
        frechet_distance(mu1, s1, mu2[:3], s2[:3, :3])


def test_shipped_classifier_is_accurate_and_real_images_are_close(sample):
    x_tr, _, x_te, y_te = sample
    from mytorch.gen import load_mnist_classifier

    clf = load_mnist_classifier()
    import mytorch.core as mt

    with mt.no_grad():
        acc = (clf(mt.tensor(x_te.astype(np.float32))).argmax(dim=1).numpy() == y_te).mean()
    assert acc >= 0.96
    feats = classifier_features(x_tr[:1500])
    assert feats.shape == (1500, 64) and feats.dtype == np.float64
    ref = feature_statistics(feats)
    real = classifier_frechet_distance(x_te, ref)
    noise = classifier_frechet_distance(np.random.default_rng(0).random((300, 784)), ref)
    ones = classifier_frechet_distance(x_te[y_te == 1], ref)  # only one digit: far
    assert real < 10 and noise > 100 * real and ones > 10 * real, (real, noise, ones)


def test_class_coverage(sample):
    _, _, x_te, y_te = sample
    cov = class_coverage(x_te)
    assert cov["counts"].sum() == 1000 and cov["min_class_fraction"] > 0.08
    assert cov["label_entropy"] == pytest.approx(math.log(10), abs=0.01)
    assert cov["confident_fraction"] > 0.85
    sevens = class_coverage(x_te[y_te == 7])
    assert sevens["fractions"][7] > 0.9 and sevens["label_entropy"] < 0.5
    assert sevens["min_class_fraction"] == 0.0


def test_reconstruction_error_by_hand():
    x = np.array([[0.0, 1.0], [1.0, 1.0]])
    x_hat = np.array([[0.5, 1.0], [0.75, 0.5]])
    err = reconstruction_error(x, x_hat)
    assert err["mse"] == pytest.approx((0.25 + 0 + 0.0625 + 0.25) / 4)
    bce = (-np.log(0.5) - np.log(1 - 1e-7) - np.log(0.75) - np.log(0.5)) / 2
    assert err["bce"] == pytest.approx(bce, rel=1e-6)
    with pytest.raises(ValueError, match="differ"):
        reconstruction_error(x, x_hat[:1])


def test_metrics_reject_bad_shapes():
    with pytest.raises(ValueError, match="expected images"):
        class_coverage(np.zeros((3, 10)))
