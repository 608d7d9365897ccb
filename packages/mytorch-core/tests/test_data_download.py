"""mytorch.core.data.download and .archive: checksummed downloads from a local HTTP server, the
cache check, and safe tar extraction (the dataset packages build on these)."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading

import pytest

from mytorch.core.data.archive import UnsafeArchiveError, read_tar_files, safe_extract_tar
from mytorch.core.data.download import DownloadError, download_file, download_url, is_cached

PAYLOAD = b"mytorch test payload\n" * 100
MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture(scope="module")
def server():
    """A local HTTP server: /ok/data.bin serves PAYLOAD, everything else is a 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
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
    assert list(tmp_path.iterdir()) == []  # no partial or temporary file left


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
