"""mytorch.core.data.download and .archive: checksummed downloads from a local HTTP server, the
cache check, and safe tar extraction (the dataset packages build on these)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading
import time

import pytest

from mytorch.core.data import download as download_module
from mytorch.core.data.archive import UnsafeArchiveError, read_tar_files, safe_extract_tar
from mytorch.core.data.download import (
    RETRY_AFTER_ENV,
    DownloadError,
    download_file,
    download_url,
    is_cached,
)

PAYLOAD = b"mytorch test payload\n" * 100
MD5 = hashlib.md5(PAYLOAD).hexdigest()


REQUESTS: list[str] = []  # every path the local server was asked for


@pytest.fixture(scope="module")
def server():
    """A local HTTP server: /ok/data.bin serves PAYLOAD, everything else is a 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            REQUESTS.append(self.path)
            if self.path == "/ok/data.bin":
                self.send_response(200)
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.end_headers()
                self.wfile.write(PAYLOAD)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_tries_urls_in_order_and_caches(server, tmp_path):
    urls = [f"{server}/missing/data.bin", f"{server}/ok/data.bin"]
    dest = download_url(urls, tmp_path / "a" / "data.bin", MD5, backoff=0.001, quiet=True)
    assert open(dest, "rb").read() == PAYLOAD
    path = download_file("data.bin", MD5, [f"{server}/ok/"], tmp_path / "b", quiet=True)
    assert path == str(tmp_path / "b" / "data.bin")
    assert is_cached(tmp_path / "b", "data.bin", MD5)
    assert not is_cached(tmp_path / "b", "data.bin", "0" * 32)


def test_checksum_mismatch_leaves_nothing_and_names_every_url(server, tmp_path):
    urls = [f"{server}/ok/data.bin", f"{server}/gone/data.bin"]
    with pytest.raises(DownloadError, match="checksum mismatch") as err:
        download_url(urls, tmp_path / "data.bin", "0" * 32, backoff=0.001, quiet=True)
    assert [url for url, _ in err.value.failures] == urls
    assert "HTTP 404" in err.value.failures[1][1]
    # no partial or temporary file left: only the memory of the failure
    assert [p.name for p in tmp_path.iterdir()] == [".mytorch-download-failures.json"]


def refused_url() -> str:
    """A URL on a 127.0.0.1 port nothing listens on: the connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.bin"


def test_unreachable_host_fails_at_once_with_the_cause_on_one_line(tmp_path, capsys):
    url = refused_url()
    start = time.perf_counter()
    with pytest.raises(DownloadError) as err:
        download_url([url], tmp_path / "data.bin", MD5, retries=3, backoff=1.0)
    assert time.perf_counter() - start < 1.0  # not retried: backoff would sleep 1 + 2 s
    host = url.split("/")[2]
    assert str(err.value) == f"could not download data.bin from {host}: connection refused"
    assert err.value.failures == [(url, "connection refused")] and not err.value.remembered
    assert capsys.readouterr().err == ""  # no "Downloading ..." line for a failed attempt


def test_a_failure_is_remembered_and_not_retried_within_the_window(server, tmp_path, monkeypatch):
    monkeypatch.delenv(RETRY_AFTER_ENV, raising=False)
    urls = [f"{server}/gone/data.bin", refused_url()]
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as first:
        download_url(urls, dest, MD5, backoff=0.001, quiet=True)
    asked = len(REQUESTS)
    memory = json.loads((tmp_path / ".mytorch-download-failures.json").read_text())
    assert memory["data.bin"]["urls"] == urls and memory["data.bin"]["md5"] == MD5

    def no_network(*args, **kwargs):
        raise AssertionError("a remembered failure must not touch the network")

    monkeypatch.setattr(download_module, "_fetch", no_network)
    with pytest.raises(DownloadError) as again:
        download_url(urls, dest, MD5, backoff=0.001, quiet=True)
    assert again.value.remembered and again.value.failures == first.value.failures
    message = str(again.value)
    assert "\n" not in message and message.startswith(str(first.value))
    assert "ago; not retried for " in message and f"{RETRY_AFTER_ENV}=0 retries now" in message
    assert len(REQUESTS) == asked  # no request reached the server
    monkeypatch.undo()

    # retry_after=0, the environment variable set to 0, other URLs, or the time up: tried again
    with pytest.raises(DownloadError) as err:
        download_url(urls, dest, MD5, backoff=0.001, quiet=True, retry_after=0)
    assert not err.value.remembered and len(REQUESTS) == asked + 1
    monkeypatch.setenv(RETRY_AFTER_ENV, "0")
    with pytest.raises(DownloadError) as err:
        download_url(urls, dest, MD5, backoff=0.001, quiet=True)
    assert not err.value.remembered and len(REQUESTS) == asked + 2
    monkeypatch.delenv(RETRY_AFTER_ENV)
    with pytest.raises(DownloadError) as err:
        download_url(urls[:1], dest, MD5, backoff=0.001, quiet=True)
    assert not err.value.remembered and len(REQUESTS) == asked + 3
    real_time = time.time
    monkeypatch.setattr(download_module.time, "time", lambda: real_time() + 601)
    with pytest.raises(DownloadError) as err:
        download_url(urls[:1], dest, MD5, backoff=0.001, quiet=True)
    assert not err.value.remembered and len(REQUESTS) == asked + 4
    monkeypatch.undo()

    # a success forgets the failure
    download_url([f"{server}/ok/data.bin"], dest, MD5, quiet=True)
    assert not (tmp_path / ".mytorch-download-failures.json").exists()


def test_success_forgets_the_failure_and_says_downloading_once(server, tmp_path, capsys):
    url = f"{server}/ok/data.bin"
    (tmp_path / ".mytorch-download-failures.json").write_text(
        json.dumps({"data.bin": {"md5": MD5, "urls": [url], "time": time.time(), "message": "x"}})
    )
    with pytest.raises(DownloadError, match="not retried for"):
        download_url([url], tmp_path / "data.bin", MD5)
    download_url([url], tmp_path / "data.bin", MD5, retry_after=0)
    assert not (tmp_path / ".mytorch-download-failures.json").exists()
    err = capsys.readouterr().err
    assert err == f"Downloading {url} (0.0 MB) to {tmp_path / 'data.bin'}\n"
    assert download_file("data.bin", MD5, [url], tmp_path) == str(tmp_path / "data.bin")


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_bad_retry_after_is_an_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv(RETRY_AFTER_ENV, value)
    with pytest.raises(ValueError, match=f"^{RETRY_AFTER_ENV} must be "):
        download_url([refused_url()], tmp_path / "data.bin", MD5)
    with pytest.raises(ValueError, match="^retry_after must be >= 0 seconds, got -1"):
        download_url([refused_url()], tmp_path / "data.bin", MD5, retry_after=-1)


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_safe_extract_and_read_selected_files(tmp_path):
    archive = tmp_path / "good.tar.gz"
    _tar(archive, [("top/a.txt", b"a"), ("top/sub/b.bin", b"b")])
    dest = tmp_path / "out"
    assert safe_extract_tar(archive, dest, expect_top=["top"]) == ["top"]
    assert (dest / "top" / "sub" / "b.bin").read_bytes() == b"b"
    assert safe_extract_tar(archive, dest, select=lambda p: p[-1] == "a.txt") == ["top"]
    assert not (dest / "top" / "sub").exists()  # the old tree was replaced
    assert read_tar_files(archive, lambda p: p[-1].endswith(".txt")) == {"top/a.txt": b"a"}


def test_unsafe_members_reject_the_whole_archive(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    _tar(archive, [("top/ok.txt", b"ok"), ("../evil.txt", b"x"), ("other/c.txt", b"c")])
    with pytest.raises(UnsafeArchiveError, match=r"2 unsafe members[\s\S]*'\.\.' component"):
        safe_extract_tar(archive, tmp_path / "out", expect_top=["top"])
    assert not (tmp_path / "out" / "top").exists()  # nothing was written
    with pytest.raises(UnsafeArchiveError, match="'..' component"):
        read_tar_files(archive, lambda p: True)
