"""Safe extraction and reading of (possibly compressed) tar archives, for dataset downloads.

Every member is checked before anything is written: absolute paths, ``..`` components, links
whose target is absolute or lies outside the link's own top-level folder (the data set's folder:
a link may not reach a sibling data set, nor be a top-level entry), hard links to anything but a
file earlier in the archive, paths that run through a link, device files and FIFOs make the
whole archive rejected with :class:`UnsafeArchiveError`, which names the archive, each bad
member and why. ``safe_extract_tar`` extracts into a temporary directory beside
the destination (with Python's ``"data"`` filter on top, which also re-checks paths against the
real file system and strips special permission bits) and then moves each top-level entry into
place with ``os.replace``, so a failed or interrupted extraction never leaves a partial tree under
the final name. ``read_tar_files`` returns selected files' contents without writing anything.

>>> safe_extract_tar("cifar-10-binary.tar.gz", "/data")  # doctest: +SKIP
['cifar-10-batches-bin']
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Collection

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


def _problem(member: tarfile.TarInfo, links: set[str], files: set[str]) -> str | None:
    """Why ``member`` is unsafe, or None. ``links`` and ``files`` hold the normalized names of
    the link members and of the files (regular files and hard links to them) so far."""
    name = member.name
    if not name or "\x00" in name:
        return "empty or NUL-containing name"
    if _is_absolute(name):
        return "absolute path"
    parts = member_parts(name)
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
        refused = "(an absolute or empty target is refused)"
        if not target or "\x00" in target:
            return f"{kind} with an empty target {refused}"
        if _is_absolute(target):
            return f"{kind} to an absolute path {target!r} {refused}"
        base = parts[:-1] if member.issym() else []  # hardlink targets are archive paths
        resolved = _resolve(base, target, links)
        if resolved is None:
            return f"{kind} pointing outside the archive ({target!r})"
        if member_parts(resolved)[:1] != parts[:1]:
            return f"{kind} pointing outside its folder {parts[0]!r} ({target!r})"
        if member.islnk() and resolved not in files:
            # tarfile looks the target up among the earlier members (a KeyError otherwise)
            return f"hardlink to {target!r}, which is not a file earlier in the archive"
        return None
    if not (member.isfile() or member.isdir()):
        return f"unsupported member type {member.type!r}"
    return None


class _Checker:
    """Checks members one at a time, remembering links, problems and top-level names."""

    def __init__(self, expect_top: Collection[str] | None = None) -> None:
        self.expect_top = expect_top
        self.links: set[str] = set()
        self.files: set[str] = set()
        self.problems: list[str] = []
        self.top: list[str] = []

    def ok(self, member: tarfile.TarInfo) -> bool:
        reason = _problem(member, self.links, self.files)
        parts = member_parts(member.name)
        if reason is None and parts and self.expect_top is not None:
            if parts[0] not in self.expect_top:
                expected = ", ".join(repr(t) for t in self.expect_top)
                reason = f"outside the expected folder {expected}"
        if reason is not None:
            self.problems.append(f"  - {member.name!r}: {reason}")
            return False
        if not parts:  # "./": the destination itself
            return True
        if member.issym() or member.islnk():
            self.links.add("/".join(parts))
        if member.isfile() or member.islnk():  # (isfile is false for hard links)
            self.files.add("/".join(parts))
        if parts[0] not in self.top:
            self.top.append(parts[0])
        return True

    def raise_if_unsafe(self, archive_name: str) -> None:
        if self.problems:
            n = len(self.problems)
            raise UnsafeArchiveError(
                f"{archive_name}: refusing to extract: {n} unsafe member{'s' if n != 1 else ''} "
                "(nothing was written):\n" + "\n".join(self.problems)
            )


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
    checker = _Checker(expect_top)
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
    expect_top: Collection[str] | None = None,
    *,
    select: Callable[[list[str]], bool] | None = None,
) -> list[str]:
    """Extract a tar archive (any compression ``tarfile`` reads) into ``dest_dir`` safely.

    ``expect_top`` restricts the top-level names the archive may contain (see
    :func:`check_tar_members`); ``select``, given a member's path components, picks the members
    to write (all by default; every member is checked either way). Returns the top-level names
    created in ``dest_dir``; an existing entry of the same name is replaced (each one
    atomically). Raises :class:`UnsafeArchiveError` before writing anything if a member is
    unsafe or the file is not a readable tar archive.
    """
    archive, dest_dir = os.fspath(archive), os.fspath(dest_dir)
    os.makedirs(dest_dir, exist_ok=True)
    try:
        tar = tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UnsafeArchiveError(f"{archive}: not a readable tar archive: {e}") from e
    with tar:
        try:
            check_tar_members(tar, archive, expect_top)
        except (tarfile.TarError, EOFError, OSError) as e:  # a corrupt stream while listing
            raise UnsafeArchiveError(f"{archive}: corrupt tar archive: {e}") from e
        chosen = [m for m in tar.getmembers() if select is None or select(member_parts(m.name))]
        top = list(dict.fromkeys(member_parts(m.name)[0] for m in chosen if member_parts(m.name)))
        tmp = tempfile.mkdtemp(dir=dest_dir, prefix=f".{os.path.basename(archive)}.", suffix=".x")
        try:
            try:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, members=chosen, filter="data")
                else:  # pragma: no cover - interpreters before the extraction filters
                    tar.extractall(tmp, members=chosen)
            except (tarfile.TarError, EOFError, KeyError) as e:  # KeyError: a missing link target
                raise UnsafeArchiveError(f"{archive}: extraction failed: {e}") from e
            for name in top:
                _move_into_place(os.path.join(tmp, name), os.path.join(dest_dir, name), tmp)
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
