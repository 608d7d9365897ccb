"""Fixtures for mytorch-vision tests: synthetic IDX files and a local HTTP mirror on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from mytorch.vision.datasets import MNIST


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    """Plain IDX bytes for ``arr`` (dtype code ``code``; payload big-endian)."""
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(arr, dtype=dt).tobytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class SyntheticMNIST:
    """Small valid MNIST-format files: 12 train and 7 test images with their gzipped bytes."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.arrays = {
            "train": (
                rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
                rng.integers(0, 10, 12).astype(np.uint8),
            ),
            "t10k": (
                rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
                rng.integers(0, 10, 7).astype(np.uint8),
            ),
        }
        self.files: dict[str, bytes] = {}
        for split, (images, labels) in self.arrays.items():
            self.files[f"{split}-images-idx3-ubyte.gz"] = gz(idx_bytes(images))
            self.files[f"{split}-labels-idx1-ubyte.gz"] = gz(idx_bytes(labels))

    @property
    def resources(self) -> list[tuple[str, str]]:
        return [(name, md5(data)) for name, data in self.files.items()]


class LocalMirror:
    """An HTTP server on 127.0.0.1 serving ``files`` (name -> bytes) under ``url``.

    ``behaviour[name]`` may be a list of per-request actions consumed in order: ``"500"`` (server
    error), ``"404"``, ``"cut"`` (declare the full length, send half, close), ``"slow"`` (sleep
    ``slow_s`` before answering). Every request path is recorded in ``requests``.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.behaviour: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.slow_s = 0.5
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(self.path)
                actions = mirror.behaviour.get(name, [])
                action = actions.pop(0) if actions else None
                if action == "slow":
                    time.sleep(mirror.slow_s)
                if action == "500":
                    self.send_error(500, "boom")
                    return
                if action == "404" or name not in mirror.files:
                    self.send_error(404, "not here")
                    return
                body = mirror.files[name]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if action == "cut":
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

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
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def synthetic() -> SyntheticMNIST:
    return SyntheticMNIST()


@pytest.fixture
def mirror(synthetic):
    m = LocalMirror(synthetic.files)
    yield m
    m.stop()


@pytest.fixture
def fast_mnist(monkeypatch, synthetic):
    """MNIST with the synthetic checksums and tiny retry delays; set ``MNIST.mirrors`` per test."""
    monkeypatch.setattr(MNIST, "resources", synthetic.resources)
    monkeypatch.setattr(MNIST, "download_retries", 2)
    monkeypatch.setattr(MNIST, "download_backoff", 0.001)
    monkeypatch.setattr(MNIST, "download_timeout", 5.0)
    monkeypatch.setattr(MNIST, "mirrors", [dead_url()])
    return MNIST


@pytest.fixture
def helpers():
    """The helpers above, for test modules (conftest is not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        idx_bytes=idx_bytes,
        gz=gz,
        md5=md5,
        dead_url=dead_url,
        LocalMirror=LocalMirror,
        SyntheticMNIST=SyntheticMNIST,
    )
