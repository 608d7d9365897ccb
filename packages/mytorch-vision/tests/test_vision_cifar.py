"""CIFAR-10: download against a local HTTP mirror, parsing, cache, checksum and archive safety,
the synthetic stand-in and FakeData. Never touches the internet."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from mytorch.core import Tensor
from mytorch.core.creation import from_numpy
from mytorch.core.data import DataLoader
from mytorch.vision import transforms as T
from mytorch.vision.datasets import (
    CIFAR10,
    CIFARError,
    DownloadError,
    FakeData,
    UnsafeArchiveError,
    load_cifar_arrays,
    parse_cifar_batch,
    read_cifar_batch,
    safe_extract_tar,
)

BASE = "cifar-10-batches-bin"
ARCHIVE = "cifar-10-binary.tar.gz"
TRAIN_SIZES = (3, 2, 4, 1, 2)  # records in data_batch_1..5
TEST_SIZE = 3


def batch_bytes(images_hwc: np.ndarray, labels: np.ndarray) -> bytes:
    """The CIFAR binary records of uint8 (N, 32, 32, 3) images: label byte + planar R, G, B."""
    planes = images_hwc.transpose(0, 3, 1, 2).reshape(len(labels), 3072)  # (N, 3072) CHW
    records = np.concatenate([labels.astype(np.uint8)[:, None], planes], axis=1)  # (N, 3073)
    return records.tobytes()


def make_tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A deterministic .tar.gz of the given (TarInfo, data) entries."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            info.mtime = 0
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return gzip.compress(raw.getvalue(), mtime=0)


def file_entry(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def dir_entry(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info, None


def link_entry(name: str, target: str, hard: bool = False) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, None


class FakeCIFAR:
    """Random CIFAR batches (sizes above) and the .tar.gz of them."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.batches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name, n in zip(names, TRAIN_SIZES + (TEST_SIZE,)):
            images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)  # (n, 32, 32, 3)
            self.batches[name] = (images, rng.integers(0, 10, n).astype(np.int64))

    def entries(self, **replace: bytes) -> list:
        """Archive entries; ``replace[name]`` overrides a batch file's bytes."""
        out = [dir_entry(BASE), file_entry(f"{BASE}/batches.meta.txt", b"airplane\n")]
        for name, (images, labels) in self.batches.items():
            out.append(file_entry(f"{BASE}/{name}", replace.get(name, batch_bytes(images, labels))))
        return out

    def split(self, train: bool) -> tuple[np.ndarray, np.ndarray]:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        return (
            np.concatenate([self.batches[n][0] for n in names]),
            np.concatenate([self.batches[n][1] for n in names]),
        )


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def fake() -> FakeCIFAR:
    return FakeCIFAR()


@pytest.fixture
def cifar_mirror(helpers, fake, monkeypatch):
    """A local mirror serving the fake archive, with CIFAR10 pointed at it (its md5 overridden).

    ``serve(archive_bytes)`` swaps in another archive and its checksum.
    """
    m = helpers.LocalMirror({})

    def serve(archive: bytes) -> None:
        m.files[ARCHIVE] = archive
        monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))

    serve(make_tar(fake.entries()))
    m.serve = serve
    monkeypatch.setattr(CIFAR10, "mirrors", [m.url])
    monkeypatch.setattr(CIFAR10, "download_retries", 2)
    monkeypatch.setattr(CIFAR10, "download_backoff", 0.001)
    monkeypatch.setattr(CIFAR10, "download_timeout", 5.0)
    yield m
    m.stop()


def listing(root) -> list[str]:
    """Every path under ``root``, relative, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


# ---------------------------------------------------------------------------- download + parse
@pytest.mark.parametrize("train", [True, False])
def test_download_extract_parse(tmp_path, cifar_mirror, fake, train):
    ds = CIFAR10(tmp_path, train=train)
    images, labels = fake.split(train)
    assert ds.source == "full" and len(ds) == len(labels) == (12 if train else 3)
    assert isinstance(ds.data, Tensor) and ds.data.dtype == np.uint8
    assert ds.data.shape == (len(labels), 32, 32, 3)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert isinstance(ds.targets, Tensor) and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert ds.classes[0] == "airplane" and ds.classes[9] == "truck" and len(ds.classes) == 10
    assert ds.class_to_idx["cat"] == 3
    img, target = ds[1]
    assert isinstance(img, Tensor) and img.shape == (32, 32, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img.numpy(), images[1])
    assert type(target) is int and target == labels[1]
    img.data[...] = 0  # items are copies
    np.testing.assert_array_equal(ds.data.numpy()[1], images[1])
    assert ds[-1][1] == labels[-1]
    assert cifar_mirror.requests == ["/mnist/" + ARCHIVE]
    top = sorted(os.listdir(tmp_path))
    assert top == sorted([ARCHIVE, BASE, ".mytorch-verified.json"])  # no temp dirs left
    assert sorted(os.listdir(tmp_path / BASE)) == sorted(["batches.meta.txt"] + list(fake.batches))


def test_planar_chw_records_become_hwc_pixels():
    r = np.full((32, 32), 10, np.uint8)
    r[2, 5] = 200
    g = np.repeat(np.arange(32, dtype=np.uint8)[:, None], 32, axis=1)  # row index
    b = np.repeat(np.arange(32, dtype=np.uint8)[None, :], 32, axis=0)  # column index
    record = bytes([4]) + r.tobytes() + g.tobytes() + b.tobytes()
    images, labels = parse_cifar_batch(record + bytes([9]) + bytes(3072))
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8 and images.flags.writeable
    assert labels.tolist() == [4, 9] and labels.dtype == np.int64
    assert images[0, 2, 5].tolist() == [200, 2, 5]
    assert images[0, 7, 30].tolist() == [10, 7, 30]
    assert not images[1].any()
    chw = T.ToTensor()(from_numpy(images[0])).numpy()  # back to planar, scaled
    np.testing.assert_array_equal(chw * 255, np.stack([r, g, b]).astype(np.float32))


def test_items_through_transforms_and_dataloader(tmp_path, cifar_mirror, fake):
    tf = T.Compose(
        [
            T.ToTensor(),
            T.RandomCrop(32, padding=4),
            T.RandomHorizontalFlip(),
            T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
        ]
    )
    ds = CIFAR10(tmp_path, transform=tf, target_transform=lambda t: t + 100)
    batches = list(DataLoader(ds, batch_size=5, shuffle=True))
    assert [tuple(x.shape) for x, _ in batches] == [(5, 3, 32, 32), (5, 3, 32, 32), (2, 3, 32, 32)]
    assert all(x.dtype == np.float32 and y.dtype == np.int64 for x, y in batches)
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(labels.tolist()) == sorted((fake.split(True)[1] + 100).tolist())


def test_cache_hit_makes_no_request(tmp_path, cifar_mirror, fake):
    CIFAR10(tmp_path)
    assert len(cifar_mirror.requests) == 1
    cifar_mirror.stop()  # any request now fails
    for train in (True, False):
        ds = CIFAR10(tmp_path, train=train)
        np.testing.assert_array_equal(ds.data.numpy(), fake.split(train)[0])
    assert CIFAR10(tmp_path, download=False).source == "full"
    # extracted folder gone, archive kept: re-extracted from the verified archive, offline
    for name in os.listdir(tmp_path / BASE):
        os.unlink(tmp_path / BASE / name)
    os.rmdir(tmp_path / BASE)
    ds = CIFAR10(tmp_path, train=False, download=False)
    np.testing.assert_array_equal(ds.targets.numpy(), fake.split(False)[1])
    assert len(cifar_mirror.requests) == 1


def test_incomplete_folder_is_replaced_from_archive(tmp_path, cifar_mirror, fake):
    CIFAR10(tmp_path)
    os.unlink(tmp_path / BASE / "data_batch_4.bin")
    (tmp_path / BASE / "stray.txt").write_text("left over")
    ds = CIFAR10(tmp_path, download=False)
    np.testing.assert_array_equal(ds.data.numpy(), fake.split(True)[0])
    assert "stray.txt" not in os.listdir(tmp_path / BASE)  # the folder was swapped whole
    assert len(cifar_mirror.requests) == 1


def test_hand_extracted_folder_is_used(tmp_path, fake, monkeypatch, helpers):
    monkeypatch.setattr(CIFAR10, "mirrors", [helpers.dead_url()])
    (tmp_path / BASE).mkdir()
    for name, (images, labels) in fake.batches.items():
        (tmp_path / BASE / name).write_bytes(batch_bytes(images, labels))
    ds = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data.numpy(), fake.split(False)[0])


def test_nothing_is_unpickled(tmp_path, cifar_mirror, fake, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", refuse)
    assert len(CIFAR10(tmp_path)) == 12


def test_missing_without_download(tmp_path, monkeypatch, helpers):
    monkeypatch.setattr(CIFAR10, "mirrors", [helpers.dead_url()])
    with pytest.raises(
        RuntimeError,
        match=r"dataset not found: test_batch\.bin missing .* Use download=True to download it",
    ):
        CIFAR10(tmp_path, train=False, download=False)
    assert listing(tmp_path) == []


def test_all_mirrors_down(tmp_path, monkeypatch, helpers):
    monkeypatch.setattr(CIFAR10, "mirrors", [helpers.dead_url()])
    monkeypatch.setattr(CIFAR10, "download_retries", 1)
    with pytest.raises(DownloadError, match=r"(?s)CIFAR10: could not download .*synthetic\(n\)"):
        CIFAR10(tmp_path)


def test_checksum_mismatch_leaves_nothing(tmp_path, cifar_mirror, monkeypatch):
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(
        DownloadError,
        match=r"cifar-10-binary\.tar\.gz from 127\.0\.0\.1:\d+: checksum mismatch: expected md5 0{32}, got [0-9a-f]{32}",
    ):
        CIFAR10(tmp_path)
    assert listing(tmp_path) == [".mytorch-download-failures.json"]  # no partial file


def test_interrupted_transfer_is_retried(tmp_path, cifar_mirror):
    cifar_mirror.behaviour[ARCHIVE] = ["cut"]
    assert len(CIFAR10(tmp_path, train=False)) == TEST_SIZE
    assert len(cifar_mirror.requests) == 2


# ---------------------------------------------------------------------------- malformed batches
def test_truncated_batch_file(tmp_path, cifar_mirror, fake):
    images, labels = fake.batches["data_batch_3.bin"]
    cifar_mirror.serve(
        make_tar(fake.entries(**{"data_batch_3.bin": batch_bytes(images, labels)[:-100]}))
    )
    with pytest.raises(
        CIFARError,
        match=r"data_batch_3\.bin: not a CIFAR-10 binary batch: its length 12192 bytes is not a "
        r"positive multiple of the record size 3073 .* 3 whole records and 2973 extra bytes",
    ):
        CIFAR10(tmp_path)
    assert len(CIFAR10(tmp_path, train=False)) == TEST_SIZE  # the other split still loads


def test_empty_batch_file_and_bad_label(tmp_path):
    with pytest.raises(CIFARError, match=r"x\.bin: .*length 0 bytes"):
        parse_cifar_batch(b"", "x.bin")
    bad = bytes([3]) + bytes(3072) + bytes([10]) + bytes(3072)
    with pytest.raises(CIFARError, match=r"record 1 has label 10; expected labels in \[0, 9\]"):
        parse_cifar_batch(bad)
    path = tmp_path / "b.bin"
    path.write_bytes(bad[:3073])
    images, labels = read_cifar_batch(path)
    assert images.shape == (1, 32, 32, 3) and labels.tolist() == [3]


def test_archive_without_a_batch(tmp_path, cifar_mirror, fake):
    entries = [e for e in fake.entries() if not e[0].name.endswith("data_batch_5.bin")]
    cifar_mirror.serve(make_tar(entries))
    with pytest.raises(CIFARError, match=r"the archive has no data_batch_5\.bin"):
        CIFAR10(tmp_path)


# ---------------------------------------------------------------------------- unsafe archives
def _device() -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(f"{BASE}/null")
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info, None


def _fifo() -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(f"{BASE}/pipe")
    info.type = tarfile.FIFOTYPE
    return info, None


EVIL = b"evil payload"


def malicious(kind: str, outside: str) -> list:
    """Entries that, extracted naively into <tmp>/root, would touch <tmp>/outside."""
    return {
        "absolute": [file_entry(f"{outside}/evil", EVIL)],
        "dotdot": [file_entry(f"{BASE}/../../outside/evil", EVIL)],
        "dotdot_top": [file_entry("../outside/evil", EVIL)],
        "backslash_dotdot": [file_entry(f"{BASE}\\..\\..\\outside\\evil", EVIL)],
        "symlink_outside": [link_entry(f"{BASE}/link", "../../outside")],
        "symlink_absolute": [link_entry(f"{BASE}/link", outside)],
        "write_through_symlink": [
            link_entry(f"{BASE}/link", "."),
            file_entry(f"{BASE}/link/evil", EVIL),
        ],
        "chained_symlinks": [
            dir_entry(f"{BASE}/p"),
            dir_entry(f"{BASE}/p/q"),
            link_entry(f"{BASE}/p/q/d", ".."),  # resolves to BASE/p: inside
            link_entry(f"{BASE}/x", "p/q/d/../../.."),  # lexically BASE/..; really above root
        ],
        "hardlink_outside": [link_entry(f"{BASE}/hard", "../outside/evil", hard=True)],
        "hardlink_absolute": [link_entry(f"{BASE}/hard", f"{outside}/evil", hard=True)],
        "device": [_device()],
        "fifo": [_fifo()],
        "outside_expected_folder": [file_entry("README", EVIL)],
    }[kind]


REASONS = {
    "absolute": "absolute path",
    "dotdot": "'..' component",
    "dotdot_top": "'..' component",
    "backslash_dotdot": "'..' component",
    "symlink_outside": "symlink pointing outside the archive",
    "symlink_absolute": "symlink to an absolute path",
    "write_through_symlink": "path runs through the link",
    "chained_symlinks": "symlink pointing outside the archive",
    "hardlink_outside": "hardlink pointing outside the archive",
    "hardlink_absolute": "hardlink to an absolute path",
    "device": "device file",
    "fifo": "FIFO",
    "outside_expected_folder": f"outside the expected folder '{BASE}'",
}


@pytest.mark.parametrize("kind", list(REASONS))
def test_unsafe_member_is_rejected_and_nothing_written(tmp_path, cifar_mirror, fake, kind):
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    cifar_mirror.serve(make_tar(fake.entries() + malicious(kind, str(outside))))
    with pytest.raises(UnsafeArchiveError, match=rf"(?s)refusing to extract: .*{REASONS[kind]}"):
        CIFAR10(root)
    assert listing(outside) == []
    assert sorted(os.listdir(tmp_path)) == ["outside", "root"]
    # the verified archive stays, but nothing was extracted and no temp dir is left
    assert listing(root) == sorted([ARCHIVE, ".mytorch-verified.json"])


def test_unsafe_error_lists_every_bad_member(tmp_path):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(
        make_tar([file_entry("/abs", EVIL), file_entry("ok/../../x", EVIL), file_entry("f", b"")])
    )
    with pytest.raises(UnsafeArchiveError, match=r"2 unsafe members \(nothing was written\)"):
        safe_extract_tar(path, tmp_path / "dest")
    assert not (tmp_path / "dest" / "f").exists()


def test_safe_extract_allows_internal_links_and_dot_prefix(tmp_path):
    path = tmp_path / "a.tar"
    path.write_bytes(
        make_tar(
            [
                dir_entry("./"),
                dir_entry("./top"),
                file_entry("./top/data.bin", b"payload"),
                link_entry("top/alias", "data.bin"),
                link_entry("top/hard", "top/data.bin", hard=True),
                dir_entry("top/sub"),
                link_entry("top/sub/up", "../data.bin"),
            ]
        )
    )
    dest = tmp_path / "dest"
    assert safe_extract_tar(path, dest, expect_top=["top"]) == ["top"]
    for name in ("data.bin", "alias", "hard", "sub/up"):
        assert (dest / "top" / name).read_bytes() == b"payload"
    assert os.path.islink(dest / "top" / "alias")
    assert sorted(os.listdir(dest)) == ["top"]


def test_safe_extract_rejects_non_archives(tmp_path):
    path = tmp_path / "not.tar.gz"
    path.write_bytes(b"definitely not a tar archive" * 20)
    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive"):
        safe_extract_tar(path, tmp_path / "dest")
    assert listing(tmp_path / "dest") == []


# ---------------------------------------------------------------------------- arrays, offline
def test_load_cifar_arrays(tmp_path, cifar_mirror, fake):
    x, y = load_cifar_arrays(tmp_path, train=True)
    images, labels = fake.split(True)
    assert isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == (12, 32, 32, 3)
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64 and y.tolist() == labels.tolist()
    xc, _ = load_cifar_arrays(tmp_path, train=True, channels_first=True)
    assert xc.shape == (12, 3, 32, 32) and xc.flags.c_contiguous
    np.testing.assert_array_equal(xc, images.transpose(0, 3, 1, 2))


def test_synthetic_is_deterministic_balanced_and_learnable():
    a, b = CIFAR10.synthetic(200, seed=3), CIFAR10.synthetic(200, seed=3)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    np.testing.assert_array_equal(a.targets.numpy(), b.targets.numpy())
    assert a.source == "synthetic" and a.data.shape == (200, 32, 32, 3)
    assert a.data.dtype == np.uint8 and a.targets.dtype == np.int64
    assert np.bincount(a.targets.numpy()).tolist() == [20] * 10
    c = CIFAR10.synthetic(200, seed=4)
    assert not np.array_equal(a.data.numpy(), c.data.numpy())
    test = CIFAR10.synthetic(100, seed=3, train=False)
    assert not np.array_equal(a.data.numpy()[:100], test.data.numpy())
    # nearest class mean (learned on the train split) classifies the test split
    x, y = a.arrays()
    means = np.stack([x[y == k].reshape(-1, 3072).mean(0) for k in range(10)])  # (10, 3072)
    xt, yt = test.arrays()
    dist = ((xt.reshape(-1, 1, 3072) - means[None]) ** 2).sum(-1)  # (100, 10)
    assert (dist.argmin(1) == yt).mean() > 0.95
    # patterns are left-right symmetric, so flipping keeps them
    np.testing.assert_allclose(means.reshape(10, 32, 32, 3)[:, :, ::-1].mean(), means.mean())
    img, target = CIFAR10.synthetic(3, transform=T.ToTensor())[2]
    assert img.shape == (3, 32, 32) and img.dtype == np.float32 and type(target) is int
    assert len(CIFAR10.synthetic(0)) == 0
    with pytest.raises(ValueError, match="n must be non-negative"):
        CIFAR10.synthetic(-1)


def test_repr(tmp_path):
    text = repr(CIFAR10.synthetic(4, transform=T.ToTensor()))
    assert "Dataset CIFAR10" in text and "Number of datapoints: 4" in text
    assert "Source: synthetic" in text and "ToTensor()" in text


def test_fakedata():
    ds = FakeData(6, image_size=(3, 8, 5), num_classes=4, seed=1)
    assert len(ds) == 6
    img, target = ds[2]
    assert isinstance(img, Tensor) and img.shape == (8, 5, 3) and img.dtype == np.uint8
    assert type(target) is int and 0 <= target < 4
    again = FakeData(6, image_size=(3, 8, 5), num_classes=4, seed=1)
    for i in (5, 2, 0):  # per-index determinism, any order
        np.testing.assert_array_equal(again[i][0].numpy(), ds[i][0].numpy())
        assert again[i][1] == ds[i][1]
    np.testing.assert_array_equal(ds[-1][0].numpy(), ds[5][0].numpy())
    assert not np.array_equal(FakeData(6, seed=2)[0][0].numpy(), FakeData(6, seed=1)[0][0].numpy())
    shifted = FakeData(6, image_size=(3, 8, 5), num_classes=4, seed=1, random_offset=2)
    np.testing.assert_array_equal(shifted[0][0].numpy(), ds[2][0].numpy())
    targets = [FakeData(400, num_classes=3)[i][1] for i in range(400)]
    assert set(targets) == {0, 1, 2}
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[6]
    with pytest.raises(ValueError, match=r"image_size must be three positive sizes"):
        FakeData(2, image_size=(32, 32))
    with pytest.raises(ValueError, match="num_classes must be positive"):
        FakeData(2, num_classes=0)


def test_fakedata_through_dataloader():
    ds = FakeData(10, transform=T.Compose([T.ToTensor(), T.RandomCrop(28)]), seed=5)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 28, 28) and x.dtype == np.float32
    assert y.shape == (4,) and y.dtype == np.int64
    gray = FakeData(2, image_size=(1, 6, 6), transform=T.ToTensor())
    assert gray[0][0].shape == (1, 6, 6)
