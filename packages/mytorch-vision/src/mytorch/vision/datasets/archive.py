"""Safe extraction of (possibly compressed) tar archives.

Every member is checked before anything is written: absolute paths, ``..`` components, links
whose target lies outside the archive, paths that run through a link, device files and FIFOs are
rejected with :class:`UnsafeArchiveError` naming the archive, the member and the reason. The
archive is then extracted into a temporary directory beside the destination and each top-level
entry is moved into place with ``os.replace`` (atomic), so a failed or interrupted extraction never
leaves a partial tree under the final name. Python's ``"data"`` extraction filter (which also
re-checks paths against the real file system and strips special permission bits) is applied on
top when the interpreter provides it.

>>> safe_extract_tar("cifar-10-binary.tar.gz", "/data")  # doctest: +SKIP
['cifar-10-batches-bin']
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Collection

__all__ = ["UnsafeArchiveError", "check_tar_members", "safe_extract_tar"]


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the destination, or is not a plain file."""


def _parts(name: str) -> list[str]:
    """Path components of an archive name, splitting on both separators (``\\`` too)."""
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _is_absolute(name: str) -> bool:
    name = name.replace("\\", "/")
    return name.startswith("/") or (len(name) >= 2 and name[1] == ":" and name[0].isalpha())


def _resolve(base: list[str], target: str, links: set[str]) -> str | None:
    """Normalize ``target`` relative to ``base``; None if it leaves the archive or runs through
    another link (whose own target the file system would follow first)."""
    stack = list(base)
    for part in target.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack or "/".join(stack) in links:
                return None
            stack.pop()
        else:
            stack.append(part)
    return "/".join(stack)


def _problem(member: tarfile.TarInfo, links: set[str]) -> str | None:
    """Why ``member`` is unsafe, or None. ``links`` holds the normalized link members so far."""
    name = member.name
    if not name or "\x00" in name:
        return "empty or NUL-containing name"
    if _is_absolute(name):
        return "absolute path"
    parts = _parts(name)
    if ".." in parts:
        return "path contains a '..' component"
    if not parts and not member.isdir():
        return "path names the destination itself"
    for i in range(1, len(parts)):
        if "/".join(parts[:i]) in links:
            return f"path runs through the link {'/'.join(parts[:i])!r}"
    if member.isdev():
        kind = "FIFO" if member.isfifo() else "device file"
        return f"{kind} (only regular files, directories and internal links are allowed)"
    if member.issym() or member.islnk():
        target = member.linkname
        kind = "symlink" if member.issym() else "hardlink"
        if not target or "\x00" in target:
            return f"{kind} with an empty target"
        if _is_absolute(target):
            return f"{kind} to an absolute path {target!r}"
        base = parts[:-1] if member.issym() else []  # hardlink targets are archive paths
        if _resolve(base, target, links) is None:
            return f"{kind} pointing outside the archive ({target!r})"
        return None
    if not (member.isfile() or member.isdir()):
        return f"unsupported member type {member.type!r}"
    return None


def check_tar_members(
    tar: tarfile.TarFile,
    archive_name: str = "<archive>",
    expect_top: Collection[str] | None = None,
) -> list[str]:
    """Check every member of an open archive; return the top-level names it would create.

    With ``expect_top``, members outside those top-level names are unsafe too (so extracting
    cannot replace unrelated files in the destination). Raises :class:`UnsafeArchiveError`
    listing every unsafe member.
    """
    links: set[str] = set()
    problems: list[str] = []
    top: list[str] = []
    for member in tar.getmembers():
        reason = _problem(member, links)
        if reason is not None:
            problems.append(f"  - {member.name!r}: {reason}")
            continue
        parts = _parts(member.name)
        if not parts:  # "./": the destination itself
            continue
        if expect_top is not None and parts[0] not in expect_top:
            expected = ", ".join(repr(t) for t in expect_top)
            problems.append(f"  - {member.name!r}: outside the expected folder {expected}")
            continue
        if member.issym() or member.islnk():
            links.add("/".join(parts))
        if parts[0] not in top:
            top.append(parts[0])
    if problems:
        raise UnsafeArchiveError(
            f"{archive_name}: refusing to extract: {len(problems)} unsafe member"
            f"{'s' if len(problems) != 1 else ''} (nothing was written):\n" + "\n".join(problems)
        )
    return top


def _open(archive: str) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UnsafeArchiveError(f"{archive}: not a readable tar archive: {e}") from e


def safe_extract_tar(
    archive: str | os.PathLike,
    dest_dir: str | os.PathLike,
    expect_top: Collection[str] | None = None,
) -> list[str]:
    """Extract a tar archive (any compression tarfile reads) into ``dest_dir`` safely.

    Returns the top-level names created in ``dest_dir``. An existing entry of the same name is
    replaced (each one atomically). ``expect_top`` restricts the top-level names the archive may
    contain (see :func:`check_tar_members`). Raises :class:`UnsafeArchiveError` before writing anything if
    a member is unsafe or the file is not a tar archive.
    """
    archive = os.fspath(archive)
    dest_dir = os.fspath(dest_dir)
    os.makedirs(dest_dir, exist_ok=True)
    with _open(archive) as tar:
        try:
            top = check_tar_members(tar, archive, expect_top)
        except (tarfile.TarError, EOFError, OSError) as e:  # a corrupt stream while listing
            raise UnsafeArchiveError(f"{archive}: corrupt tar archive: {e}") from e
        tmp = tempfile.mkdtemp(dir=dest_dir, prefix=f".{os.path.basename(archive)}.", suffix=".x")
        try:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # pragma: no cover - interpreters before the extraction filters
                tar.extractall(tmp)
            for name in top:
                _move_into_place(os.path.join(tmp, name), os.path.join(dest_dir, name), tmp)
        except tarfile.TarError as e:
            raise UnsafeArchiveError(f"{archive}: extraction failed: {e}") from e
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return top


def _move_into_place(src: str, dst: str, scratch: str) -> None:
    """Move ``src`` to ``dst``; an existing ``dst`` is first moved into ``scratch`` (discarded)."""
    if os.path.lexists(dst):
        if os.path.isdir(dst) and not os.path.islink(dst):
            os.replace(dst, os.path.join(tempfile.mkdtemp(dir=scratch), "old"))
        else:
            os.unlink(dst)
    os.replace(src, dst)
