"""Checksummed downloads from a list of mirror URLs.

The file is streamed into a temporary file beside its destination, its MD5 checked, and only then
moved into place with ``os.replace`` (atomic): an interrupted or corrupt download never leaves a
file under the final name. Each URL is retried with exponential backoff on connection errors,
timeouts and 5xx/408/429 answers; the error raised when every URL fails names each one and why.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence

__all__ = ["DownloadError", "download_url", "file_md5"]

_USER_AGENT = "mytorch-seq/0.1.0"
_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No URL delivered the file with the expected checksum; ``failures`` lists ``(url, reason)``."""

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


def file_md5(path: str | os.PathLike) -> str:
    """Hex MD5 of a file's content."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _ChecksumMismatch(Exception):
    pass


def _fetch(session, url: str, dest: str, md5: str, timeout) -> None:
    """Stream ``url`` into a temp file beside ``dest``, check its MD5, move it into place."""
    fd, tmp = tempfile.mkstemp(
        dir=os.path.dirname(dest), prefix=f".{os.path.basename(dest)}.", suffix=".part"
    )
    try:
        h = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as f, session.get(url, stream=True, timeout=timeout) as r:
            r.raise_for_status()
            for chunk in r.iter_content(_CHUNK):
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != md5.lower():
            raise _ChecksumMismatch(
                f"checksum mismatch: expected md5 {md5.lower()}, got {h.hexdigest()}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a cache may be shared
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _retryable(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        return status is None or status >= 500 or status in (408, 429)
    return isinstance(exc, requests.RequestException)


def _reason(exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, _ChecksumMismatch):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def download_url(
    urls: Sequence[str],
    dest: str | os.PathLike,
    md5: str,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float | tuple[float, float] = 30.0,
    quiet: bool = False,
) -> str:
    """Download ``dest`` from the first of ``urls`` that serves it with checksum ``md5``.

    Each URL gets ``retries`` attempts, sleeping ``backoff * 2**attempt`` seconds between them.
    Returns ``dest``. Raises :class:`DownloadError` listing every URL tried and why it failed.
    """
    import requests  # imported on first download: a cache hit never pays for it

    dest = os.fspath(dest)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    dest = os.path.abspath(dest)
    failures: list[tuple[str, str]] = []
    with requests.Session() as session:
        session.headers["User-Agent"] = _USER_AGENT
        for url in urls:
            for attempt in range(max(1, retries)):
                if not quiet:
                    print(f"Downloading {url} to {dest}", file=sys.stderr)
                try:
                    _fetch(session, url, dest, md5, timeout)
                    return dest
                except (requests.RequestException, _ChecksumMismatch, OSError) as e:
                    if _retryable(e) and attempt + 1 < retries:
                        time.sleep(backoff * 2**attempt)
                        continue
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    failures.append((url, _reason(e) + tries))
                    break
    lines = "\n".join(f"  - {url}: {reason}" for url, reason in failures)
    raise DownloadError(
        f"could not download {os.path.basename(dest)} from any mirror "
        f"({len(failures)} URL{'s' if len(failures) != 1 else ''} tried):\n{lines}",
        failures,
    )
