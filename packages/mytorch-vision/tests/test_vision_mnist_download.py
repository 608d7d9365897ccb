"""MNIST download, cache and error paths against a local HTTP mirror (never the internet)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import numpy as np
import platformdirs
import pytest

from mytorch.core import Tensor
from mytorch.core.data.download import download_file, is_cached
from mytorch.vision.datasets import MNIST, DownloadError, FashionMNIST, IDXError, default_root


def raw_files(root) -> list[str]:
    """Everything in <root>/MNIST/raw except the checksum marker and the failure memory."""
    raw = os.path.join(root, "MNIST", "raw")
    if not os.path.isdir(raw):
        return []
    markers = (".mytorch-verified.json", ".mytorch-download-failures.json")
    return sorted(f for f in os.listdir(raw) if f not in markers)


@pytest.mark.parametrize("train", [True, False])
def test_download_and_parse(tmp_path, fast_mnist, mirror, synthetic, train):
    fast_mnist.mirrors = [mirror.url]
    ds = MNIST(tmp_path, train=train, source="download")
    images, labels = synthetic.arrays["train" if train else "t10k"]
    assert ds.source == "full"
    assert isinstance(ds.data, Tensor) and ds.data.dtype == np.uint8
    assert ds.data.shape == images.shape
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert len(ds) == len(labels)
    img, target = ds[3]
    assert isinstance(img, Tensor) and img.shape == (28, 28) and img.dtype == np.uint8
    np.testing.assert_array_equal(img.numpy(), images[3])
    assert type(target) is int and target == labels[3]
    img.data[0, 0] = 0  # items are copies: the dataset is not changed through them
    np.testing.assert_array_equal(ds.data.numpy()[3], images[3])
    assert ds[-1][1] == labels[-1]
    prefix = "train" if train else "t10k"
    assert raw_files(tmp_path) == [
        f"{prefix}-images-idx3-ubyte.gz",
        f"{prefix}-labels-idx1-ubyte.gz",
    ]
    assert len(mirror.requests) == 2  # only this split's two files
    assert (
        os.stat(tmp_path / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte.gz").st_mode & 0o644
    ) == 0o644


def test_items_through_transforms(tmp_path, fast_mnist, mirror, synthetic):
    fast_mnist.mirrors = [mirror.url]
    ds = MNIST(
        tmp_path,
        transform=lambda im: im.numpy().astype(np.float32) / 255,
        target_transform=lambda t: t + 100,
    )
    img, target = ds[0]
    images, labels = synthetic.arrays["train"]
    np.testing.assert_allclose(img, images[0] / 255, rtol=1e-6)
    assert target == labels[0] + 100


def test_cache_hit_makes_no_request(tmp_path, fast_mnist, mirror, synthetic):
    fast_mnist.mirrors = [mirror.url]
    MNIST(tmp_path, source="download")
    assert len(mirror.requests) == 2
    mirror.stop()  # any request now fails
    for _ in range(2):
        ds = MNIST(tmp_path, source="download")
        assert ds.source == "full"
        np.testing.assert_array_equal(ds.data.numpy(), synthetic.arrays["train"][0])
    ds = MNIST(tmp_path, download=False)
    assert ds.source == "full" and len(ds) == 12
    assert len(mirror.requests) == 2


def test_cache_marker_skips_rehash_but_notices_changed_file(
    tmp_path, fast_mnist, mirror, monkeypatch
):
    fast_mnist.mirrors = [mirror.url]
    MNIST(tmp_path, source="download")
    raw = tmp_path / "MNIST" / "raw"
    assert (raw / ".mytorch-verified.json").is_file()
    with monkeypatch.context() as m:  # a verified cache hit computes no checksum

        def no_hashing(path):
            raise AssertionError(f"rehashed {path}")

        m.setattr("mytorch.core.data.download.file_md5", no_hashing)
        assert MNIST(tmp_path, download=False).source == "full"
    path = raw / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")  # corrupted after caching
    with pytest.raises(
        RuntimeError, match=r"train-labels-idx1-ubyte\.gz missing \(or with a wrong checksum\)"
    ):
        MNIST(tmp_path, download=False)
    ds = MNIST(tmp_path, source="download")  # re-downloads only the bad file
    assert ds.source == "full"
    assert mirror.requests[-1].endswith("train-labels-idx1-ubyte.gz") and len(mirror.requests) == 3


def test_hand_placed_files_are_used(tmp_path, fast_mnist, synthetic):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, data in synthetic.files.items():
        (raw / name).write_bytes(data)
    ds = MNIST(tmp_path, train=False, source="download")  # mirrors point at a dead port
    assert ds.source == "full" and len(ds) == 7


def test_download_method_fetches_all_four(tmp_path, fast_mnist, mirror, synthetic):
    fast_mnist.mirrors = [mirror.url]
    ds = MNIST(tmp_path, source="download")
    ds.download()
    assert raw_files(tmp_path) == sorted(synthetic.files)
    assert len(mirror.requests) == 4
    ds.download()  # all cached now
    assert len(mirror.requests) == 4


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path, fast_mnist, mirror):
    mirror.files["train-images-idx3-ubyte.gz"] = b"not the file you are looking for"
    fast_mnist.mirrors = [mirror.url]
    with pytest.raises(
        DownloadError,
        match=r"train-images-idx3-ubyte\.gz from 127\.0\.0\.1:\d+: checksum mismatch: expected md5 [0-9a-f]{32}, got [0-9a-f]{32}",
    ):
        MNIST(tmp_path, source="download")
    assert raw_files(tmp_path) == []
    # a mismatch is not retried on the same mirror
    assert mirror.requests == ["/mnist/train-images-idx3-ubyte.gz"]


def test_checksum_mismatch_on_first_mirror_falls_through(tmp_path, fast_mnist, mirror, synthetic):
    bad = type(mirror)({k: b"corrupt" for k in synthetic.files})
    try:
        fast_mnist.mirrors = [bad.url, mirror.url]
        ds = MNIST(tmp_path, source="download")
    finally:
        bad.stop()
    assert ds.source == "full" and len(bad.requests) == 2 and len(mirror.requests) == 2
    assert raw_files(tmp_path) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_first_mirror_closed_port_second_up(tmp_path, fast_mnist, mirror, helpers):
    fast_mnist.mirrors = [helpers.dead_url(), mirror.url]
    ds = MNIST(tmp_path, source="download")
    assert ds.source == "full" and len(ds) == 12


def test_first_mirror_404_second_up(tmp_path, fast_mnist, mirror, synthetic):
    empty = type(mirror)({})
    try:
        fast_mnist.mirrors = [empty.url, mirror.url]
        ds = MNIST(tmp_path, source="download")
    finally:
        empty.stop()
    assert ds.source == "full"
    assert len(empty.requests) == 2  # one per file: a 404 is not retried
    assert len(mirror.requests) == 2


def test_server_error_is_retried(tmp_path, fast_mnist, mirror):
    mirror.behaviour["train-images-idx3-ubyte.gz"] = ["500"]
    fast_mnist.mirrors = [mirror.url]
    ds = MNIST(tmp_path, source="download")
    assert ds.source == "full"
    assert mirror.requests.count("/mnist/train-images-idx3-ubyte.gz") == 2


def test_retries_are_configurable(tmp_path, fast_mnist, mirror):
    mirror.behaviour["train-images-idx3-ubyte.gz"] = ["500"] * 3
    fast_mnist.mirrors = [mirror.url]
    fast_mnist.download_retries = 3
    with pytest.raises(DownloadError, match=r"HTTP 500 .*\(after 3 attempts\)"):
        MNIST(tmp_path, source="download")
    assert mirror.requests.count("/mnist/train-images-idx3-ubyte.gz") == 3


def test_interrupted_transfer_leaves_no_partial_file(tmp_path, fast_mnist, mirror):
    mirror.behaviour["train-images-idx3-ubyte.gz"] = ["cut", "cut"]
    fast_mnist.mirrors = [mirror.url]
    with pytest.raises(
        DownloadError,
        match=r"train-images-idx3-ubyte\.gz from 127\.0\.0\.1:\d+: ChunkedEncodingError",
    ):
        MNIST(tmp_path, source="download")
    assert raw_files(tmp_path) == []


def test_interrupted_then_resumed(tmp_path, fast_mnist, mirror):
    mirror.behaviour["train-labels-idx1-ubyte.gz"] = ["cut"]
    fast_mnist.mirrors = [mirror.url]
    assert MNIST(tmp_path, source="download").source == "full"


def test_timeout(tmp_path, fast_mnist, mirror):
    mirror.behaviour["train-images-idx3-ubyte.gz"] = ["slow"]
    mirror.slow_s = 1.0
    fast_mnist.mirrors = [mirror.url]
    fast_mnist.download_retries = 1
    fast_mnist.download_timeout = 0.2
    with pytest.raises(DownloadError, match=r"ReadTimeout|Timeout"):
        MNIST(tmp_path, source="download")
    assert raw_files(tmp_path) == []


def test_all_mirrors_down_names_every_url_and_the_manual_fix(tmp_path, fast_mnist, helpers):
    urls = [helpers.dead_url(), helpers.dead_url()]
    fast_mnist.mirrors = urls
    with pytest.raises(DownloadError) as info:
        MNIST(tmp_path, source="download")
    msg = str(info.value)
    hosts = [urlsplit(url).netloc for url in urls]
    first = msg.splitlines()[0]  # the cause, whole, on one line
    assert first == (
        f"MNIST: could not download train-images-idx3-ubyte.gz from {hosts[0]} or {hosts[1]}: "
        "connection refused"
    )
    assert info.value.failures == [
        (u + "train-images-idx3-ubyte.gz", "connection refused") for u in urls
    ]
    assert (
        f"place them, gzipped and under these exact names, in {tmp_path / 'MNIST' / 'raw'}" in msg
    )
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        assert name in msg
    assert "source='sample'" in msg
    assert raw_files(tmp_path) == []


def test_download_false_and_missing(tmp_path, fast_mnist, mirror):
    fast_mnist.mirrors = [mirror.url]
    for source in ("auto", "download"):
        with pytest.raises(
            RuntimeError,
            match=r"MNIST: dataset not found: train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz missing.*download=True",
        ):
            MNIST(tmp_path, download=False, source=source)
    assert mirror.requests == []


def test_truncated_idx_with_matching_checksum(tmp_path, fast_mnist, mirror, synthetic, helpers):
    images = synthetic.arrays["train"][0]
    bad = helpers.gz(helpers.idx_bytes(images)[:-28])
    mirror.files["train-images-idx3-ubyte.gz"] = bad
    fast_mnist.resources = [
        (n, helpers.md5(bad) if n == "train-images-idx3-ubyte.gz" else m)
        for n, m in synthetic.resources
    ]
    fast_mnist.mirrors = [mirror.url]
    with pytest.raises(
        IDXError,
        match=r"train-images-idx3-ubyte\.gz: IDX payload truncated: header says shape \(12, 28, 28\) of uint8 = 9408 bytes, got 9380 bytes",
    ):
        MNIST(tmp_path, source="download")


def test_image_label_count_mismatch(tmp_path, fast_mnist, mirror, synthetic, helpers):
    labels = helpers.gz(helpers.idx_bytes(np.zeros(11, np.uint8)))
    mirror.files["train-labels-idx1-ubyte.gz"] = labels
    fast_mnist.resources = [
        (n, helpers.md5(labels) if n == "train-labels-idx1-ubyte.gz" else m)
        for n, m in synthetic.resources
    ]
    fast_mnist.mirrors = [mirror.url]
    with pytest.raises(
        IDXError, match="holds 12 images but train-labels-idx1-ubyte.gz holds 11 labels"
    ):
        MNIST(tmp_path, source="download")


def test_label_out_of_range(tmp_path, fast_mnist, mirror, synthetic, helpers):
    labels = helpers.gz(helpers.idx_bytes(np.full(12, 10, np.uint8)))
    mirror.files["train-labels-idx1-ubyte.gz"] = labels
    fast_mnist.resources = [
        (n, helpers.md5(labels) if n == "train-labels-idx1-ubyte.gz" else m)
        for n, m in synthetic.resources
    ]
    fast_mnist.mirrors = [mirror.url]
    with pytest.raises(IDXError, match=r"holds label 10; expected labels in \[0, 9\]"):
        MNIST(tmp_path, source="download")


def test_invalid_source(tmp_path):
    with pytest.raises(
        ValueError, match=r"source must be one of \('auto', 'download', 'sample'\), got 'full'"
    ):
        MNIST(tmp_path, source="full")


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MYTORCH_DATA", str(tmp_path / "data"))
    assert default_root() == str(tmp_path / "data")
    assert MNIST(source="sample").root == str(tmp_path / "data")
    monkeypatch.delenv("MYTORCH_DATA")
    assert default_root() == platformdirs.user_cache_dir("mytorch")


def test_default_mirrors_and_checksums():
    assert MNIST.mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert dict(MNIST.resources)["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert (
        dict(FashionMNIST.resources)["train-images-idx3-ubyte.gz"]
        == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    )
    assert "fashion-mnist" in FashionMNIST.mirrors[0] and len(FashionMNIST.mirrors) >= 2
    assert len(MNIST.classes) == len(FashionMNIST.classes) == 10
    assert FashionMNIST.classes[9] == "Ankle boot"


def test_fashion_mnist_own_folder_and_no_sample(tmp_path, monkeypatch, mirror, synthetic, helpers):
    monkeypatch.setattr(FashionMNIST, "resources", synthetic.resources)
    monkeypatch.setattr(FashionMNIST, "download_backoff", 0.001)
    monkeypatch.setattr(FashionMNIST, "mirrors", [mirror.url])
    ds = FashionMNIST(tmp_path, train=False)
    assert ds.source == "full" and len(ds) == 7
    assert ds.class_to_idx["Trouser"] == 1
    assert sorted(os.listdir(tmp_path / "FashionMNIST" / "raw")) == [
        ".mytorch-verified.json",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    with pytest.raises(ValueError, match="no bundled sample"):
        FashionMNIST(tmp_path, source="sample")
    monkeypatch.setattr(FashionMNIST, "mirrors", [helpers.dead_url()])
    with pytest.raises(DownloadError, match=r"FashionMNIST: could not download train-images"):
        FashionMNIST(tmp_path / "other")  # "auto" has no sample to fall back to


def test_download_file_directly(tmp_path, mirror, synthetic):
    name = "t10k-labels-idx1-ubyte.gz"
    path = download_file(
        name, dict(synthetic.resources)[name], [mirror.url], tmp_path / "d", quiet=True
    )
    assert path == str(tmp_path / "d" / name)
    assert is_cached(tmp_path / "d", name, dict(synthetic.resources)[name])
    assert not is_cached(tmp_path / "d", name, "0" * 32)
    assert not is_cached(tmp_path / "d", "absent.gz", "0" * 32)
