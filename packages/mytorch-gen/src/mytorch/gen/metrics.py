"""Sample-quality metrics for MNIST generators, under their own names.

- ``classifier_frechet_distance``: the Frechet distance between Gaussians fitted to the
  64-dimensional features of the small MNIST classifier shipped with this package
  (``classifier.load_mnist_classifier``) for two image sets. It follows the recipe of FID but
  in the feature space of that classifier: it is NOT the Inception FID and its values are not
  comparable to published FIDs; compare it between models and against real held-out images.
- ``class_coverage``: the classifier's predicted-class histogram of samples, the entropy of that
  histogram (ln 10 = 2.303 nats when all ten digits are equally frequent), the mean per-sample
  prediction entropy and the fraction of samples classified with confidence > 0.9.
- ``reconstruction_error``: per-example squared error and binary cross-entropy.

All take images with grey levels in [0, 1], shaped (N, 1, 28, 28) or (N, 784).

>>> import mytorch.core as mt
>>> from mytorch.vision.datasets import load_sample
>>> x, _ = load_sample(train=False)
>>> imgs = mt.tensor(x[:200].reshape(-1, 1, 28, 28) / 255.0).float()
>>> cov = class_coverage(imgs)
>>> cov["min_class_fraction"] > 0.05
True
"""

from __future__ import annotations

import math

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core import Tensor
from mytorch.gen.classifier import MNISTClassifier, load_mnist_classifier

__all__ = [
    "class_coverage",
    "classifier_features",
    "classifier_frechet_distance",
    "feature_statistics",
    "frechet_distance",
    "reconstruction_error",
    "sample_quality",
]

_CLASSIFIER: MNISTClassifier | None = None


def _classifier(classifier: MNISTClassifier | None) -> MNISTClassifier:
    global _CLASSIFIER
    if classifier is not None:
        return classifier
    if _CLASSIFIER is None:
        _CLASSIFIER = load_mnist_classifier()
    return _CLASSIFIER


def _as_images(images) -> Tensor:
    x = images if isinstance(images, Tensor) else mt.tensor(np.asarray(images, dtype=np.float32))
    x = x.float()
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(x.shape[0], 1, 28, 28)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(
            f"metrics: expected images (N, 1, 28, 28) or (N, 784), got {tuple(x.shape)}"
        )
    return x


@mt.no_grad()
def _run(images, classifier, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    clf = _classifier(classifier)
    x = _as_images(images)
    feats, probs = [], []
    for i in range(0, x.shape[0], batch_size):
        f = clf.features(x[i : i + batch_size])  # (b, 64)
        feats.append(f.numpy().astype(np.float64))
        probs.append(F.softmax(clf.fc2(f), dim=1).numpy().astype(np.float64))
    return np.concatenate(feats), np.concatenate(probs)


def classifier_features(images, classifier=None, batch_size: int = 500) -> np.ndarray:
    """The classifier's 64 penultimate features per image: float64 (N, 64)."""
    return _run(images, classifier, batch_size)[0]


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, as FID uses) of features (N, D)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"feature_statistics: need (N >= 2, D) features, got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared 2-Wasserstein (Frechet) distance between N(mu1, sigma1) and N(mu2, sigma2):
    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1^{1/2} sigma2 sigma1^{1/2})^{1/2})``."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"frechet_distance: shapes differ: mu {mu1.shape} / {mu2.shape}, sigma "
            f"{sigma1.shape} / {sigma2.shape}"
        )
    root1 = _psd_sqrt(sigma1)
    # the eigenvalues of sigma1^{1/2} sigma2 sigma1^{1/2} (symmetric PSD) are those of
    # sigma1 sigma2, so the trace of its square root is the sum of their square roots
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * cross)


def classifier_frechet_distance(images, reference, classifier=None) -> float:
    """Frechet distance between the classifier-feature Gaussians of ``images`` and of
    ``reference`` (images, or a precomputed ``(mu, sigma)`` pair)."""
    mu1, s1 = feature_statistics(classifier_features(images, classifier))
    if isinstance(reference, tuple):
        mu2, s2 = reference
    else:
        mu2, s2 = feature_statistics(classifier_features(reference, classifier))
    return frechet_distance(mu1, s1, mu2, s2)


def class_coverage(images, classifier=None, confidence: float = 0.9) -> dict:
    """How the classifier labels ``images``: ``counts`` (10,) of predicted classes,
    ``fractions`` (10,), ``min_class_fraction``, ``label_entropy`` (entropy of the predicted-
    class histogram in nats; ln 10 at best), ``mean_prediction_entropy`` (nats; low = each
    sample is clearly one digit) and ``confident_fraction`` (max probability > ``confidence``)."""
    probs = _run(images, classifier, 500)[1]  # (N, 10)
    counts = np.bincount(probs.argmax(axis=1), minlength=10)
    fractions = counts / counts.sum()
    nz = fractions[fractions > 0]
    per_sample = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(axis=1)
    return {
        "counts": counts,
        "fractions": fractions,
        "min_class_fraction": float(fractions.min()),
        "label_entropy": float(-(nz * np.log(nz)).sum()) + 0.0,  # no -0.0
        "max_label_entropy": math.log(10),
        "mean_prediction_entropy": float(per_sample.mean()),
        "confident_fraction": float((probs.max(axis=1) > confidence).mean()),
    }


def sample_quality(images, reference, classifier=None) -> dict:
    """``class_coverage`` plus ``frechet`` (classifier-Frechet distance to ``reference``)."""
    out = class_coverage(images, classifier)
    out["frechet"] = classifier_frechet_distance(images, reference, classifier)
    return out


def reconstruction_error(x, x_hat) -> dict:
    """Per-example reconstruction errors of ``x_hat`` (in [0, 1]) against ``x``, averaged:
    ``mse`` (mean squared error per pixel) and ``bce`` (binary cross-entropy summed over
    pixels, nats per example)."""
    a = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    b = x_hat.numpy() if isinstance(x_hat, Tensor) else np.asarray(x_hat)
    if a.shape != b.shape:
        raise ValueError(f"reconstruction_error: x {a.shape} and x_hat {b.shape} differ")
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    b = np.clip(b.reshape(b.shape[0], -1).astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -(a * np.log(b) + (1 - a) * np.log(1 - b)).sum(axis=1)
    return {"mse": float(((a - b) ** 2).mean()), "bce": float(bce.mean())}
