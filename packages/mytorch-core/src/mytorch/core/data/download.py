"""Checksummed downloads from a list of mirrors, and the on-disk cache check, for datasets.

A file is streamed into a temporary file next to its destination, its MD5 is checked, and only
then is it moved into place with ``os.replace`` (atomic), so an interrupted or bad download never
leaves a partial file under the final name. URLs are tried in order; each one is retried with
exponential backoff on connection errors, timeouts and 5xx/408/429 answers; the error raised
when every URL fails names each one and why. ``requests`` is imported on the first download
(install it, e.g. ``pip install 'mytorch-core[download]'``): a cache hit never needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first download: a cache hit never pays for it
    import requests

__all__ = ["DownloadError", "check_md5", "download_file", "download_url", "file_md5", "is_cached"]

_USER_AGENT = f"mytorch-core/{sys.modules['mytorch.core'].__version__}"  # __version__ is set before .data is imported
_CHUNK = 1 << 16
_MARKER = ".mytorch-verified.json"


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


def check_md5(path: str | os.PathLike, md5: str) -> bool:
    """Whether the file exists and its MD5 is ``md5``."""
    return os.path.isfile(path) and file_md5(path) == md5.lower()


# ---------------------------------------------------------------------------- cache marker
def _read_marker(directory: str) -> dict:
    try:
        with open(os.path.join(directory, _MARKER), encoding="utf-8") as f:
            marker = json.load(f)
        return marker if isinstance(marker, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_marker(directory: str, marker: dict) -> None:
    """Best effort: a read-only cache directory just means checksums are recomputed."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_MARKER, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(marker, f, indent=1, sort_keys=True)
        os.replace(tmp, os.path.join(directory, _MARKER))
    except OSError:
        pass


def _stamp(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def is_cached(directory: str | os.PathLike, filename: str, md5: str) -> bool:
    """Whether ``directory/filename`` holds the file with checksum ``md5``.

    The checksum is computed once; a marker file in ``directory`` remembers the file's size and
    modification time for later calls, so a cache hit costs one ``stat``.
    """
    directory = os.fspath(directory)
    path = os.path.join(directory, filename)
    if not os.path.isfile(path):
        return False
    entry = _read_marker(directory).get(filename)
    if entry == {"md5": md5.lower(), "stamp": _stamp(path)}:
        return True
    if file_md5(path) != md5.lower():
        return False
    _remember(directory, filename, md5)
    return True


def _remember(directory: str, filename: str, md5: str) -> None:
    """Record in the marker that ``filename`` (as it is now) has checksum ``md5``."""
    marker = _read_marker(directory)
    marker[filename] = {"md5": md5.lower(), "stamp": _stamp(os.path.join(directory, filename))}
    _write_marker(directory, marker)


# ---------------------------------------------------------------------------- download
class _ChecksumMismatch(Exception):
    pass


def _fetch(session: requests.Session, url: str, dest: str, md5: str, timeout) -> None:
    """Stream ``url`` into a temp file beside ``dest``, check its MD5, move it into place."""
    directory = os.path.dirname(dest) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(dest)}.", suffix=".part")
    try:
        h = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as f, session.get(url, stream=True, timeout=timeout) as r:
            r.raise_for_status()
            for chunk in r.iter_content(_CHUNK):
                h.update(chunk)
                f.write(chunk)
        got = h.hexdigest()
        if got != md5.lower():
            raise _ChecksumMismatch(f"checksum mismatch: expected md5 {md5.lower()}, got {got}")
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a cache may be shared
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _retryable(exc: BaseException) -> bool:
    """Connection errors, timeouts and server errors may pass; 4xx and bad content will not."""
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
    session: requests.Session | None = None,
    quiet: bool = False,
) -> str:
    """Download ``dest`` from the first of ``urls`` that serves it with checksum ``md5``.

    Each URL gets ``retries`` attempts, sleeping ``backoff * 2**attempt`` seconds between them.
    Returns ``dest`` as an absolute path. Raises :class:`DownloadError` listing every URL tried and why it failed.
    """
    try:
        import requests  # imported on first download: a cache hit never pays for it
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("downloading needs requests: pip install 'mytorch-core[download]'") from e

    dest = os.path.abspath(os.fspath(dest))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    own_session = session is None
    if own_session:
        session = requests.Session()
        session.headers["User-Agent"] = _USER_AGENT
    failures: list[tuple[str, str]] = []
    try:
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
    finally:
        if own_session:
            session.close()
    lines = "\n".join(f"  - {url}: {reason}" for url, reason in failures)
    raise DownloadError(
        f"could not download {os.path.basename(dest)} from any mirror "
        f"({len(failures)} URL{'s' if len(failures) != 1 else ''} tried):\n{lines}",
        failures,
    )


def download_file(
    filename: str,
    md5: str,
    mirrors: Sequence[str],
    directory: str | os.PathLike,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float | tuple[float, float] = 30.0,
    session: requests.Session | None = None,
    quiet: bool = False,
) -> str:
    """Download ``filename`` into ``directory`` from the first mirror serving it with ``md5``.

    A mirror is a URL prefix ending in ``/`` (or the file's full URL). Retries and errors are
    those of :func:`download_url`; the checksum is remembered for :func:`is_cached`. Returns the
    final path.

    >>> download_file("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
    ...               ["https://ossci-datasets.s3.amazonaws.com/mnist/"], "/tmp/raw")  # doctest: +SKIP
    '/tmp/raw/t10k-labels-idx1-ubyte.gz'
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    dest = os.path.join(directory, filename)
    urls = [m if m.endswith(filename) else m.rstrip("/") + "/" + filename for m in mirrors]
    download_url(
        urls, dest, md5, retries=retries, backoff=backoff, timeout=timeout, session=session,
        quiet=quiet,
    )  # fmt: skip
    _remember(directory, filename, md5)
    return dest
