"""Files written atomically: ``atomic_write(path, write)``.

The bytes go to a temporary file beside ``path`` (``.<name>.<random>.tmp``) that is flushed,
fsynced and then renamed over ``path``, so a reader sees the old file or the new one, never a
part of it. A write that raises removes its temporary file; one that is killed outright (power
loss, SIGKILL) leaves it behind, and the next ``atomic_write`` of the same path removes it. A
temporary file that another process is still writing is locked and left alone.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> atomic_write(path, lambda f: f.write(b"hello"))
>>> open(path, "rb").read()
b'hello'
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there, which protects it instead
    fcntl = None

__all__ = ["atomic_write"]

PathLike = str | os.PathLike


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_pattern(name: str) -> re.Pattern:
    """The names ``tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")`` gives."""
    return re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.tmp")


def _remove_stale(directory: str, name: str) -> None:
    """Delete temporary files of ``name`` left by interrupted writes (unlocked ones only)."""
    pattern = _temp_pattern(name)
    try:
        entries = [e.name for e in os.scandir(directory) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for entry in entries:
        tmp = os.path.join(directory, entry)
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # another process is writing it right now
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        finally:
            os.close(fd)


def atomic_write(path: PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(f)`` (``f`` a binary file) all at once or not at all.

    An existing file keeps its permissions; a new one gets the default (``0o666`` less the
    umask). If ``write`` raises, ``path`` is left as it was and the error propagates.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    _remove_stale(directory, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # held until closed: the file is in use
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, mode)
            if fcntl is not None:
                os.replace(tmp, path)  # still locked, so no other writer removes it first
        if fcntl is None:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # persist the rename itself (best effort)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
