"""Classification metrics: accuracy, top-k accuracy and the confusion matrix.

Predictions may be scores of shape (N, C, *d) (the class is their argmax over dim 1) or class
indices of the target's shape.

>>> import mytorch.core as mt
>>> scores = mt.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
>>> accuracy(scores, mt.tensor([0, 1, 1]))  # doctest: +ELLIPSIS
0.666...
>>> confusion_matrix(mt.tensor([0, 1, 0]), mt.tensor([0, 1, 1]), 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.tensor import Tensor

__all__ = ["accuracy", "confusion_matrix", "top_k_accuracy", "topk_accuracy"]


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _labels(target, name: str) -> np.ndarray:
    t = _array(target)
    if t.dtype.kind not in "iub":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")
    return t


def _predicted(input, target: np.ndarray, name: str) -> np.ndarray:
    """Class indices from scores (N, C, *d) or from indices shaped like target."""
    x = _array(input)
    if x.ndim == target.ndim + 1 and x.ndim >= 2:
        if x.shape[:1] + x.shape[2:] != target.shape:
            raise ValueError(
                f"{name}: scores of shape {list(x.shape)} do not match target of shape "
                f"{list(target.shape)} (expected (N, C, *d) scores for (N, *d) targets)"
            )
        return x.argmax(axis=1)
    if x.shape != target.shape:
        raise ValueError(
            f"{name}: predictions of shape {list(x.shape)} do not match target of shape "
            f"{list(target.shape)}"
        )
    if x.dtype.kind not in "iub":
        raise TypeError(
            f"{name}: predictions shaped like the target must be integer class indices, got "
            f"dtype {x.dtype}"
        )
    return x


def accuracy(input, target) -> float:
    """Fraction of positions where the predicted class equals ``target``.

    ``input`` holds scores (N, C, *d), whose argmax over dim 1 is the prediction, or predicted
    class indices of the target's shape.
    """
    t = _labels(target, "accuracy")
    pred = _predicted(input, t, "accuracy")
    if t.size == 0:
        raise ValueError("accuracy: empty target")
    return float(np.count_nonzero(pred == t)) / t.size


def top_k_accuracy(input, target, k: int = 5) -> float:
    """Fraction of positions whose target class is among the k highest scores (dim 1).

    Ties at the k-th score are broken by position, as a stable descending sort would.
    """
    t = _labels(target, "top_k_accuracy")
    x = _array(input)
    if x.ndim != t.ndim + 1 or x.ndim < 2 or x.shape[:1] + x.shape[2:] != t.shape:
        raise ValueError(
            f"top_k_accuracy: expected scores (N, C, *d) for targets (N, *d), got scores "
            f"{list(x.shape)} and target {list(t.shape)}"
        )
    c = x.shape[1]
    if not 1 <= k <= c:
        raise ValueError(f"top_k_accuracy: k must be in [1, {c}] (the number of classes), got {k}")
    if t.size == 0:
        raise ValueError("top_k_accuracy: empty target")
    if t.min() < 0 or t.max() >= c:
        raise ValueError(
            f"top_k_accuracy: target values must be in [0, {c}), got {t.min()}..{t.max()}"
        )
    own = np.take_along_axis(x, t[:, None].astype(np.int64), axis=1)  # (N, 1, *d)
    idx = np.arange(c).reshape((1, c) + (1,) * (x.ndim - 2))
    # rank of the target's score: classes scoring higher, plus equal scores at lower positions
    rank = (x > own).sum(axis=1) + ((x == own) & (idx < t[:, None])).sum(axis=1)
    return float(np.count_nonzero(rank < k)) / t.size


topk_accuracy = top_k_accuracy


def confusion_matrix(pred, target, num_classes: int) -> Tensor:
    """int64 (num_classes, num_classes) counts: row = true class, column = predicted class.

    ``pred`` holds predicted class indices of the target's shape, or scores (N, C, *d).
    """
    t = _labels(target, "confusion_matrix")
    p = _predicted(pred, t, "confusion_matrix")
    for name, a in (("target", t), ("pred", p)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} values must be in [0, {num_classes}), got "
                f"{a.min()}..{a.max()}"
            )
    flat = t.reshape(-1).astype(np.int64) * num_classes + p.reshape(-1)
    counts = np.bincount(flat, minlength=num_classes * num_classes)
    return Tensor._make(counts.reshape(num_classes, num_classes).astype(np.int64))
