"""The small MNIST classifier whose features the sample-quality metrics use.

``MNISTClassifier``: conv 3x3 (1->16) - ReLU - max-pool 2 - conv 3x3 (16->32) - ReLU - max-pool
2 - linear 1568->64 - ReLU (the 64 features) - linear 64->10. Inputs are images in [0, 1],
(B, 1, 28, 28) or (B, 784). ``load_mnist_classifier()`` returns it with the weights shipped in
this package (``_weights/mnist_classifier.safetensors``), made by
``python -m mytorch.gen.train_classifier`` (see that module for the recipe and its accuracy).

>>> import mytorch.core as mt
>>> clf = load_mnist_classifier()
>>> clf.features(mt.zeros(2, 1, 28, 28)).shape
(2, 64)
"""

from __future__ import annotations

from importlib import resources

import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = ["FEATURE_DIM", "MNISTClassifier", "WEIGHTS_FILE", "load_mnist_classifier"]

FEATURE_DIM = 64
WEIGHTS_FILE = "mnist_classifier.safetensors"


class MNISTClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, FEATURE_DIM)
        self.fc2 = nn.Linear(FEATURE_DIM, 10)

    def features(self, x: Tensor) -> Tensor:
        """Images in [0, 1] -> the 64 penultimate ReLU activations (B, 64)."""
        x = x.reshape(x.shape[0], 1, 28, 28)
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (B, 16, 14, 14)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # (B, 32, 7, 7)
        return F.relu(self.fc1(h.reshape(h.shape[0], -1)))  # (B, 64)

    def forward(self, x: Tensor) -> Tensor:
        """Images in [0, 1] -> class logits (B, 10)."""
        return self.fc2(self.features(x))


def load_mnist_classifier() -> MNISTClassifier:
    """The classifier with the shipped weights, in eval mode."""
    model = MNISTClassifier()
    path = resources.files("mytorch.gen").joinpath("_weights", WEIGHTS_FILE)
    with resources.as_file(path) as p:
        state = nn.load(p)
    model.load_state_dict(state)
    return model.eval()
