"""Smoke test for an installed mytorch-vision: the bundled MNIST sample, read offline, and its
license notice shipped beside it."""

from __future__ import annotations

from importlib.metadata import version
from importlib.resources import files

import mytorch.vision as vision
from mytorch.vision import datasets
from mytorch.vision import transforms as T


def test_version_comes_from_the_installed_metadata():
    assert vision.__version__ == version("mytorch-vision")


def test_bundled_mnist_sample_loads_and_transforms(tmp_path):
    test = datasets.MNIST(tmp_path, train=False, source="sample")
    assert test.source == "sample" and len(test) == 1000
    image, label = test[0]
    assert tuple(image.shape) == (28, 28) and 0 <= label <= 9
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    assert tuple(tf(image.numpy()).shape) == (1, 28, 28)


def test_sample_license_is_shipped():
    notice = files("mytorch.vision.datasets").joinpath("_data/mnist_sample/LICENSE").read_text()
    assert "CC BY-SA 3.0" in notice
