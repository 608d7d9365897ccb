"""Classification metrics on hand-computed examples."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F

SCORES = mt.tensor(
    [
        [0.1, 0.7, 0.2],  # predicts 1, second best 2
        [0.8, 0.15, 0.05],  # predicts 0, second best 1
        [0.3, 0.3, 0.4],  # predicts 2, tie between 0 and 1 for second
        [0.2, 0.5, 0.3],  # predicts 1, second best 2
    ]
)
TARGET = mt.tensor([1, 1, 0, 2])


def test_accuracy_from_scores():
    acc = F.accuracy(SCORES, TARGET)
    assert isinstance(acc, float)
    assert acc == 0.25  # only the first row is right


def test_accuracy_from_class_indices():
    assert F.accuracy(mt.tensor([0, 1, 2, 2]), mt.tensor([0, 1, 1, 2])) == 0.75
    assert F.accuracy(mt.tensor([3, 3]), mt.tensor([3, 3])) == 1.0


def test_accuracy_on_spatial_scores():
    scores = mt.zeros(2, 3, 2)  # (N, C, d)
    scores[0, 2, 0] = 1.0  # predicts 2
    scores[0, 1, 1] = 1.0  # predicts 1
    scores[1, 0, 0] = 1.0  # predicts 0
    scores[1, 2, 1] = 1.0  # predicts 2
    assert F.accuracy(scores, mt.tensor([[2, 0], [0, 2]])) == 0.75


def test_accuracy_errors():
    with pytest.raises(ValueError, match="do not match target"):
        F.accuracy(mt.randn(4, 3), mt.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.accuracy(mt.randn(4), mt.tensor([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        F.accuracy(mt.randn(4, 3), mt.randn(4))
    with pytest.raises(ValueError, match="empty target"):
        F.accuracy(mt.zeros(0, 3), mt.zeros(0, dtype=mt.int64))


def test_top_k_accuracy_hand_computed():
    assert F.top_k_accuracy(SCORES, TARGET, k=1) == F.accuracy(SCORES, TARGET)
    # top-2 sets: {1, 2}, {0, 1}, {2, 0} (the 0/1 tie goes to the lower index), {1, 2}
    assert F.top_k_accuracy(SCORES, TARGET, k=2) == 1.0
    assert F.top_k_accuracy(SCORES, mt.tensor([0, 2, 1, 0]), k=2) == 0.0
    assert F.top_k_accuracy(SCORES, TARGET, k=3) == 1.0
    assert F.topk_accuracy is F.top_k_accuracy


def test_top_k_accuracy_default_k_is_five():
    scores = mt.tensor(np.arange(10.0)[None].repeat(2, 0))  # class 9 best, class 0 worst
    assert F.top_k_accuracy(scores, mt.tensor([5, 4])) == 0.5  # top-5 is classes 5..9


def test_top_k_accuracy_errors():
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\]"):
        F.top_k_accuracy(SCORES, TARGET, k=5)
    with pytest.raises(ValueError, match="expected scores"):
        F.top_k_accuracy(mt.tensor([0, 1]), mt.tensor([0, 1]), k=1)
    with pytest.raises(ValueError, match=r"target values must be in \[0, 3\)"):
        F.top_k_accuracy(SCORES, mt.tensor([0, 1, 2, 3]), k=2)


def test_confusion_matrix_hand_computed():
    pred = mt.tensor([0, 1, 1, 2, 2, 2])
    target = mt.tensor([0, 1, 2, 2, 0, 2])
    cm = F.confusion_matrix(pred, target, 3)
    assert cm.dtype == mt.int64
    assert cm.tolist() == [
        [1, 0, 1],  # true 0: predicted 0 once, 2 once
        [0, 1, 0],  # true 1: predicted 1
        [0, 1, 2],  # true 2: predicted 1 once, 2 twice
    ]
    assert int(cm.data.sum()) == 6
    assert np.trace(cm.data) / 6 == F.accuracy(pred, target)


def test_confusion_matrix_from_scores_and_unused_classes():
    cm = F.confusion_matrix(SCORES, TARGET, 4)
    expected = np.zeros((4, 4), np.int64)
    for t, p in zip([1, 1, 0, 2], [1, 0, 2, 1]):
        expected[t, p] += 1
    np.testing.assert_array_equal(cm.data, expected)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"pred values must be in \[0, 2\)"):
        F.confusion_matrix(mt.tensor([0, 2]), mt.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match=r"target values must be in \[0, 2\)"):
        F.confusion_matrix(mt.tensor([0, 1]), mt.tensor([-1, 1]), 2)
