"""Safe extraction of (possibly compressed) tar archives.

Every member is checked before anything is written; absolute paths, ``..`` components, links
whose target is absolute or lies outside the archive, paths running through a link, device files
and FIFOs make the whole archive rejected with :class:`UnsafeArchiveError`, which names each bad
member and why. ``safe_extract_tar`` extracts into a temporary directory beside the destination
(with Python's ``"data"`` filter on top) and then moves each top-level entry into place with
``os.replace``; ``read_tar_files`` returns selected files' contents without writing anything.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable

__all__ = [
    "UnsafeArchiveError",
    "check_tar_members",
    "member_parts",
    "read_tar_files",
    "safe_extract_tar",
]


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the destination, or is not a plain file."""


def member_parts(name: str) -> list[str]:
    """Path components of an archive member name (``\\`` counts as a separator; ``.`` dropped)."""
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _is_absolute(name: str) -> bool:
    name = name.replace("\\", "/")
    return name.startswith("/") or (len(name) >= 2 and name[1] == ":" and name[0].isalpha())


def _problem(member: tarfile.TarInfo, links: set[str]) -> str | None:
    """Why ``member`` is unsafe, or None. ``links`` holds the link members seen so far."""
    name = member.name
    if not name or "\x00" in name:
        return "empty or NUL-containing name"
    if _is_absolute(name):
        return "absolute path"
    parts = member_parts(name)
    if ".." in parts:
        return "path contains a '..' component"
    for i in range(1, len(parts)):
        if "/".join(parts[:i]) in links:
            return f"path runs through the link {'/'.join(parts[:i])!r}"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device file or FIFO (only files, directories and internal links are allowed)"
    if member.issym() or member.islnk():
        kind, target = "symlink" if member.issym() else "hardlink", member.linkname
        if not target or "\x00" in target or _is_absolute(target):
            return f"{kind} to an absolute or empty target {target!r}"
        # symlinks resolve from their own folder; hardlink targets are archive paths
        stack = parts[:-1] if member.issym() else []
        for part in target.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part != "..":
                stack.append(part)
            elif not stack or "/".join(stack) in links:  # '..' out of the root or of a link
                return f"{kind} pointing outside the archive ({target!r})"
            else:
                stack.pop()
        return None
    if not (member.isfile() or member.isdir()):
        return f"unsupported member type {member.type!r}"
    return None


class _Checker:
    """Checks members one at a time, remembering links, problems and top-level names."""

    def __init__(self) -> None:
        self.links: set[str] = set()
        self.problems: list[str] = []
        self.top: list[str] = []

    def ok(self, member: tarfile.TarInfo) -> bool:
        reason = _problem(member, self.links)
        if reason is not None:
            self.problems.append(f"  - {member.name!r}: {reason}")
            return False
        parts = member_parts(member.name)
        if member.issym() or member.islnk():
            self.links.add("/".join(parts))
        if parts and parts[0] not in self.top:
            self.top.append(parts[0])
        return True

    def raise_if_unsafe(self, archive_name: str) -> None:
        if self.problems:
            n = len(self.problems)
            raise UnsafeArchiveError(
                f"{archive_name}: refusing to extract: {n} unsafe member{'s' if n != 1 else ''} "
                "(nothing was written):\n" + "\n".join(self.problems)
            )


def check_tar_members(tar: tarfile.TarFile, archive_name: str = "<archive>") -> list[str]:
    """Check every member of an open archive; return the top-level names it would create.

    Raises :class:`UnsafeArchiveError` listing every unsafe member.
    """
    checker = _Checker()
    for member in tar.getmembers():
        checker.ok(member)
    checker.raise_if_unsafe(archive_name)
    return checker.top


def read_tar_files(
    archive: str | os.PathLike, select: Callable[[list[str]], bool]
) -> dict[str, bytes]:
    """The contents of the selected regular files of a tar archive, read in one pass
    without writing anything to disk.

    Every member is checked as :func:`safe_extract_tar` checks it, and an unsafe member makes
    the whole archive rejected (:class:`UnsafeArchiveError`). ``select`` gets each file's path
    components; the result maps the normalized path (``"a/b.txt"``) to its bytes.
    """
    archive = os.fspath(archive)
    checker = _Checker()
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                if checker.ok(member) and member.isfile():
                    parts = member_parts(member.name)
                    if select(parts):
                        out["/".join(parts)] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise UnsafeArchiveError(f"{archive}: not a readable tar archive: {e}") from e
    checker.raise_if_unsafe(archive)
    return out


def safe_extract_tar(
    archive: str | os.PathLike,
    dest_dir: str | os.PathLike,
    select: Callable[[list[str]], bool] | None = None,
) -> list[str]:
    """Extract a tar archive (any compression ``tarfile`` reads) into ``dest_dir`` safely.

    ``select``, given a member's path components, picks the members to write (all by default;
    every member is checked either way). Returns the top-level names created in ``dest_dir``; an
    existing entry of the same name is replaced. Raises :class:`UnsafeArchiveError` before
    writing anything if a member is unsafe or the file is not a readable tar archive.
    """
    archive, dest_dir = os.fspath(archive), os.fspath(dest_dir)
    os.makedirs(dest_dir, exist_ok=True)
    try:
        tar = tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UnsafeArchiveError(f"{archive}: not a readable tar archive: {e}") from e
    with tar:
        try:
            check_tar_members(tar, archive)
        except (tarfile.TarError, EOFError, OSError) as e:  # a corrupt stream while listing
            raise UnsafeArchiveError(f"{archive}: corrupt tar archive: {e}") from e
        chosen = [m for m in tar.getmembers() if select is None or select(member_parts(m.name))]
        top = list(dict.fromkeys(member_parts(m.name)[0] for m in chosen if member_parts(m.name)))
        tmp = tempfile.mkdtemp(dir=dest_dir, prefix=f".{os.path.basename(archive)}.", suffix=".x")
        try:
            try:
                tar.extractall(tmp, members=chosen, filter="data")
            except (tarfile.TarError, EOFError) as e:
                raise UnsafeArchiveError(f"{archive}: extraction failed: {e}") from e
            for name in top:
                dst = os.path.join(dest_dir, name)
                if os.path.isdir(dst) and not os.path.islink(dst):
                    shutil.rmtree(dst)
                elif os.path.lexists(dst):
                    os.unlink(dst)
                os.replace(os.path.join(tmp, name), dst)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return top
