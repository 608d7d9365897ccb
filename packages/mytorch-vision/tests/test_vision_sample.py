"""The bundled 5,000-image sample: fixed stratified split and the offline fallback of source='auto'."""

from __future__ import annotations

import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.vision
from mytorch.vision.datasets import (
    MNIST,
    DownloadError,
    SampleFallbackWarning,
    load_mnist_arrays,
    load_sample,
    read_idx_images,
    read_idx_labels,
)
from mytorch.vision.datasets.sample import sample_split_indices

SAMPLE = resources.files("mytorch.vision.datasets").joinpath("_data", "mnist_sample")


@pytest.fixture(scope="module")
def raw_sample():
    with resources.as_file(SAMPLE) as d:
        return read_idx_images(d / "images-idx3-ubyte.gz"), read_idx_labels(
            d / "labels-idx1-ubyte.gz"
        )


def test_sample_ships_inside_the_package():
    with resources.as_file(SAMPLE) as d:
        pkg = Path(mytorch.vision.__file__).parent
        assert Path(d).resolve().is_relative_to(pkg.resolve())
        assert sorted(os.listdir(d)) == [
            "LICENSE",  # CC BY-SA 3.0 notice: the data's license travels with it
            "README.md",
            "images-idx3-ubyte.gz",
            "labels-idx1-ubyte.gz",
        ]


@pytest.mark.parametrize("train,n", [(True, 4000), (False, 1000)])
def test_sample_split_sizes_and_stratification(tmp_path, train, n):
    ds = MNIST(tmp_path, train=train, source="sample")
    assert ds.source == "sample"
    assert len(ds) == n
    assert ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (n,) and ds.targets.dtype == np.int64
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == [n // 10] * 10
    assert not os.path.exists(tmp_path / "MNIST")  # no network, no cache files


def test_sample_split_is_a_partition(raw_sample):
    _, labels = raw_sample
    train_idx, test_idx = sample_split_indices(labels)
    assert len(train_idx) == 4000 and len(test_idx) == 1000
    assert np.intersect1d(train_idx, test_idx).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(5000))
    assert np.bincount(labels[test_idx]).tolist() == [100] * 10
    # shuffled order: not sorted by label, so an unshuffled loader still sees every digit early
    assert len(set(labels[train_idx[:100]].tolist())) == 10
    assert len(set(labels[test_idx[:50]].tolist())) == 10


def test_sample_items_are_the_bundled_images(raw_sample):
    images, labels = raw_sample
    train_idx, test_idx = sample_split_indices(labels)
    for train, idx in ((True, train_idx), (False, test_idx)):
        x, y = load_sample(train)
        np.testing.assert_array_equal(x, images[idx])
        np.testing.assert_array_equal(y, labels[idx])


def test_sample_split_is_deterministic_and_ignores_global_seed(tmp_path):
    mt.manual_seed(1)
    np.random.seed(1)
    a = MNIST(tmp_path, train=False, source="sample")
    mt.manual_seed(12345)
    np.random.seed(999)
    np.random.rand(10)
    b = MNIST(tmp_path, train=False, source="sample")
    np.testing.assert_array_equal(a.targets.numpy(), b.targets.numpy())
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())


def test_sample_split_pinned_values(raw_sample):
    """The split is part of the package's contract: same indices on every machine and version."""
    _, labels = raw_sample
    train_idx, test_idx = sample_split_indices(labels)
    assert test_idx[:5].tolist() == [984, 4864, 2323, 4629, 2653]
    assert train_idx[:5].tolist() == [3107, 3218, 4965, 1529, 4506]
    _, y_test = load_sample(False)
    assert y_test[:12].tolist() == [1, 9, 4, 9, 5, 5, 1, 5, 8, 4, 7, 7]


def test_auto_falls_back_loudly_when_mirrors_are_down(tmp_path, fast_mnist, helpers, capsys):
    fast_mnist.mirrors = [helpers.dead_url(), helpers.dead_url()]
    with pytest.warns(
        SampleFallbackWarning,
        match=r"could not download .* connection refused\. Using the bundled 5,000-image MNIST sample",
    ) as caught:
        ds = MNIST(tmp_path, train=True)  # source="auto" is the default
    assert len(caught) == 1  # one warning, on one line, saying where the files go
    message = str(caught[0].message)
    assert "\n" not in message and "4,000 train" in message
    assert f"in {tmp_path / 'MNIST' / 'raw'}, or pass source='sample'" in message
    assert capsys.readouterr().err == ""  # nothing else printed
    assert ds.source == "sample" and len(ds) == 4000
    img, target = ds[0]
    assert img.shape == (28, 28) and isinstance(target, int)
    raw = tmp_path / "MNIST" / "raw"
    assert os.listdir(raw) == [".mytorch-download-failures.json"]  # nothing partial left behind


def test_auto_fallback_is_remembered(tmp_path, fast_mnist, mirror, capsys, monkeypatch):
    monkeypatch.delenv("MYTORCH_DOWNLOAD_RETRY_AFTER", raising=False)
    mirror.files.clear()  # every file is a 404: not retried
    fast_mnist.mirrors = [mirror.url]
    with pytest.warns(SampleFallbackWarning, match=r"HTTP 404 not here\. Using the bundled"):
        MNIST(tmp_path)
    assert len(mirror.requests) == 1
    with pytest.warns(SampleFallbackWarning) as caught:  # the next run, within the window
        ds = MNIST(tmp_path)
    assert len(caught) == 1 and ds.source == "sample"
    message = str(caught[0].message)
    assert "\n" not in message and "ago; not retried for" in message
    assert f"place {', '.join(n for n, _ in fast_mnist.resources[:-1])} and " in message
    assert len(mirror.requests) == 1  # no network attempt
    monkeypatch.setenv("MYTORCH_DOWNLOAD_RETRY_AFTER", "0")
    with pytest.warns(SampleFallbackWarning):
        MNIST(tmp_path)
    assert len(mirror.requests) == 2  # retried on request
    assert capsys.readouterr().err == ""


def test_auto_uses_full_data_when_download_works(tmp_path, fast_mnist, mirror):
    fast_mnist.mirrors = [mirror.url]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = MNIST(tmp_path, train=False)
    assert ds.source == "full" and len(ds) == 7


def test_download_source_does_not_fall_back(tmp_path, fast_mnist, helpers):
    fast_mnist.mirrors = [helpers.dead_url()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DownloadError):
            MNIST(tmp_path, source="download")


def test_load_mnist_arrays(tmp_path, fast_mnist, helpers):
    x, y = load_mnist_arrays(tmp_path, train=False, source="sample")
    assert isinstance(x, np.ndarray) and x.shape == (1000, 28, 28) and x.dtype == np.uint8
    assert isinstance(y, np.ndarray) and y.shape == (1000,) and y.dtype == np.int64
    fast_mnist.mirrors = [helpers.dead_url()]
    with pytest.warns(SampleFallbackWarning):
        x2, y2 = load_mnist_arrays(tmp_path, train=False)
    np.testing.assert_array_equal(y, y2)
