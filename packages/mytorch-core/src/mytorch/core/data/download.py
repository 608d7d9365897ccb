"""Checksummed downloads from a list of mirrors, and the on-disk cache check, for datasets.

A file is streamed into a temporary file next to its destination, its MD5 is checked, and only
then is it moved into place with ``os.replace`` (atomic), so an interrupted or bad download never
leaves a partial file under the final name. URLs are tried in order; each one is retried with
exponential backoff on timeouts, dropped connections and 5xx/408/429 answers (an unknown host or
a refused connection is not retried: it fails at once); the one-line error raised when every URL
fails names the root cause. ``requests`` is imported on the first download (install it, e.g.
``pip install 'mytorch-core[download]'``): a cache hit never needs it.

A failed download is remembered for ``retry_after`` seconds (default 600, or
``$MYTORCH_DOWNLOAD_RETRY_AFTER``; 0 turns this off) in a small file beside the destination, so
that an offline machine does not pay for the same failing attempts on every run: within that
time the same file from the same URLs fails at once, without network access, saying when it
failed and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # imported on first download: a cache hit never pays for it
    import requests

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "RETRY_AFTER_ENV",
    "DownloadError",
    "check_md5",
    "download_file",
    "download_url",
    "file_md5",
    "is_cached",
    "retry_after_seconds",
]

_USER_AGENT = f"mytorch-core/{sys.modules['mytorch.core'].__version__}"  # __version__ is set before .data is imported
_CHUNK = 1 << 16
_MARKER = ".mytorch-verified.json"
_FAILURES = ".mytorch-download-failures.json"
RETRY_AFTER_ENV = "MYTORCH_DOWNLOAD_RETRY_AFTER"
DEFAULT_RETRY_AFTER = 600.0  # seconds a failed download is remembered


class DownloadError(RuntimeError):
    """No URL delivered the file with the expected checksum; ``failures`` lists ``(url, reason)``.

    ``remembered`` is True when no attempt was made because the same download failed less than
    ``retry_after`` seconds ago (``failures`` are then those of that attempt).
    """

    def __init__(
        self, message: str, failures: Sequence[tuple[str, str]] = (), remembered: bool = False
    ) -> None:
        super().__init__(message)
        self.failures = list(failures)
        self.remembered = remembered


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


# ---------------------------------------------------------------------------- fetch
class _ChecksumMismatch(Exception):
    pass


def _fetch(session: requests.Session, url: str, dest: str, md5: str, timeout, quiet: bool) -> None:
    """Stream ``url`` into a temp file beside ``dest``, check its MD5, move it into place."""
    directory = os.path.dirname(dest) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(dest)}.", suffix=".part")
    try:
        h = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as f, session.get(url, stream=True, timeout=timeout) as r:
            r.raise_for_status()
            if not quiet:  # said once the server answers, so an offline run prints nothing here
                size = r.headers.get("Content-Length", "")
                size = f" ({int(size) / 1e6:.1f} MB)" if size.isdigit() else ""
                print(f"Downloading {url}{size} to {dest}", file=sys.stderr, flush=True)
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


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception behind ``exc`` (requests wraps urllib3, which wraps the OS error)."""
    seen = {id(exc)}
    while True:
        reason = getattr(exc, "reason", None)
        inner = next(
            (
                e
                for e in (
                    exc.__cause__,
                    reason if isinstance(reason, BaseException) else None,
                    exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None,
                    exc.__context__,
                )
                if e is not None and id(e) not in seen
            ),
            None,
        )
        if inner is None:
            return exc
        seen.add(id(inner))
        exc = inner


def _unreachable(exc: BaseException) -> bool:
    """An unknown host or a refused connection: trying again a second later will not help."""
    cause = _root_cause(exc)
    return isinstance(cause, (socket.gaierror, ConnectionRefusedError))


def _retryable(exc: BaseException) -> bool:
    """Timeouts, dropped connections and server errors may pass; 4xx, bad content, an unknown
    host and a refused connection will not."""
    import requests

    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        return status is None or status >= 500 or status in (408, 429)
    return isinstance(exc, requests.RequestException) and not _unreachable(exc)


def _reason(exc: BaseException) -> str:
    """Why an attempt failed, in a few words: the root cause, not the wrappers' repr."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, _ChecksumMismatch):
        return str(exc)
    cause = _root_cause(exc)
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve the host name ({cause.strerror or cause})"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return f"{type(exc).__name__}: no answer within the timeout"
    if isinstance(cause, OSError) and cause.strerror:
        return f"{type(exc).__name__}: {cause.strerror}"
    text = (str(cause) or str(exc)).splitlines()
    return f"{type(exc).__name__}: {text[0] if text else type(cause).__name__}"


def _summary(filename: str, failures: Sequence[tuple[str, str]]) -> str:
    """One line: the file and why each URL failed (the reason once when they all agree)."""
    reasons = {reason for _, reason in failures}
    if len(reasons) == 1:
        hosts = list(dict.fromkeys(urlsplit(url).netloc or url for url, _ in failures))
        where = hosts[0] if len(hosts) == 1 else ", ".join(hosts[:-1]) + " or " + hosts[-1]
        return f"could not download {filename} from {where}: {reasons.pop()}"
    tried = "; ".join(f"{url}: {reason}" for url, reason in failures)
    return f"could not download {filename} from any of {len(failures)} URLs ({tried})"


# ---------------------------------------------------------------------------- failure memory
def retry_after_seconds(retry_after: float | None = None) -> float:
    """How long a failed download is remembered: ``retry_after`` if given, else
    ``$MYTORCH_DOWNLOAD_RETRY_AFTER``, else 600 seconds. 0 means never skip an attempt."""
    name = "retry_after"
    if retry_after is None:
        name, text = RETRY_AFTER_ENV, os.environ.get(RETRY_AFTER_ENV, "").strip()
        if not text:
            return DEFAULT_RETRY_AFTER
        try:
            retry_after = float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None
    if not retry_after >= 0:  # also catches NaN
        raise ValueError(f"{name} must be >= 0 seconds, got {retry_after!r}")
    return float(retry_after)


def _read_failures(directory: str) -> dict:
    try:
        with open(os.path.join(directory, _FAILURES), encoding="utf-8") as f:
            failures = json.load(f)
        return failures if isinstance(failures, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_failures(directory: str, failures: dict) -> None:
    """Best effort, like the cache marker: without it the next run just tries again."""
    path = os.path.join(directory, _FAILURES)
    try:
        if not failures:
            if os.path.exists(path):
                os.unlink(path)
            return
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_FAILURES, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(failures, f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)  # readable by everyone sharing the cache, like the data files
        os.replace(tmp, path)
    except OSError:
        pass


def _recent_failure(directory: str, filename: str, md5: str, urls: list[str], within: float):
    """The remembered failure of this very download (same checksum and URLs), if recent."""
    entry = _read_failures(directory).get(filename)
    if not isinstance(entry, dict) or entry.get("md5") != md5.lower() or entry.get("urls") != urls:
        return None
    age = time.time() - float(entry.get("time", 0))
    return entry if 0 <= age < within else None  # a clock set back does not extend it


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


# ---------------------------------------------------------------------------- download
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
    retry_after: float | None = None,
) -> str:
    """Download ``dest`` from the first of ``urls`` that serves it with checksum ``md5``.

    Each URL gets ``retries`` attempts, sleeping ``backoff * 2**attempt`` seconds between them
    (an unknown host or a refused connection gets one). Returns ``dest`` as an absolute path.
    Raises :class:`DownloadError`, with a one-line message naming the root cause, when every
    URL fails. The failure is remembered for ``retry_after`` seconds (see
    :func:`retry_after_seconds`): asked again for the same file from the same URLs within that
    time, this raises at once without touching the network.
    """
    urls = list(urls)
    dest = os.path.abspath(os.fspath(dest))
    directory, filename = os.path.split(dest)
    within = retry_after_seconds(retry_after)
    past = _recent_failure(directory, filename, md5, urls, within) if within else None
    if past is not None:
        age = time.time() - float(past["time"])
        failures = [tuple(f) for f in past.get("failures", [])]
        raise DownloadError(
            f"{past.get('message', f'could not download {filename}')} ({_ago(age)} ago; not "
            f"retried for {_ago(within - age)} more, {RETRY_AFTER_ENV}=0 retries now)",
            failures,
            remembered=True,
        )
    try:
        import requests  # imported on first download: a cache hit never pays for it
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("downloading needs requests: pip install 'mytorch-core[download]'") from e

    os.makedirs(directory, exist_ok=True)
    own_session = session is None
    if own_session:
        session = requests.Session()
        session.headers["User-Agent"] = _USER_AGENT
    failures: list[tuple[str, str]] = []
    try:
        for url in urls:
            for attempt in range(max(1, retries)):
                try:
                    _fetch(session, url, dest, md5, timeout, quiet)
                    _forget_failure(directory, filename)
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
    message = _summary(filename, failures)
    if within:
        _remember_failure(directory, filename, md5, urls, message, failures)
    raise DownloadError(message, failures)


def _remember_failure(
    directory: str, filename: str, md5: str, urls: list[str], message: str, failures: list
) -> None:
    entries = _read_failures(directory)
    entries[filename] = {
        "md5": md5.lower(),
        "urls": urls,
        "time": time.time(),
        "message": message,
        "failures": [list(f) for f in failures],
    }
    _write_failures(directory, entries)


def _forget_failure(directory: str, filename: str) -> None:
    entries = _read_failures(directory)
    if entries.pop(filename, None) is not None:
        _write_failures(directory, entries)


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
    retry_after: float | None = None,
) -> str:
    """Download ``filename`` into ``directory`` from the first mirror serving it with ``md5``.

    A mirror is a URL prefix ending in ``/`` (or the file's full URL). Retries and errors are
    those of :func:`download_url`, and so is the memory of a failure; the checksum is remembered for :func:`is_cached`. Returns the
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
        quiet=quiet, retry_after=retry_after,
    )  # fmt: skip
    _remember(directory, filename, md5)
    return dest
