"""Links in extracted data sets stay inside their own folder; a hard link whose target is not
in the archive is an UnsafeArchiveError (tarfile itself raises KeyError)."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from mytorch.core.data.archive import UnsafeArchiveError, read_tar_files, safe_extract_tar


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, hard: bool = False) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, None


def _dir(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, None


def _archive(tmp_path, members) -> str:
    path = tmp_path / "data.tar"
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return str(path)


def _tree(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, dirs, files in os.walk(root)
        for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]
    )


SIBLINGS = [_file("a/x.txt", b"a"), _file("b/x.txt", b"b")]


@pytest.mark.parametrize(
    "members, reason",
    [
        ([_link("a/l", "../b/x.txt")], "symlink pointing outside its folder 'a'"),
        ([_link("a/sub/l", "../../b")], "symlink pointing outside its folder 'a'"),
        ([_link("a/l", "..")], "symlink pointing outside its folder 'a'"),
        ([_link("l", "a/x.txt")], "symlink pointing outside its folder 'l'"),
        ([_link("a/h", "b/x.txt", hard=True)], "hardlink pointing outside its folder 'a'"),
        ([_link("a/h", "a/missing.txt", hard=True)], "not a file earlier in the archive"),
        ([_link("a/h", "a/y.txt", hard=True), _file("a/y.txt", b"y")], "not a file earlier"),
        ([_dir("a/d"), _link("a/h", "a/d", hard=True)], "not a file earlier in the archive"),
        ([_link("a/s", "x.txt"), _link("a/h", "a/s", hard=True)], "not a file earlier"),
    ],
)
def test_links_leaving_their_data_set_or_missing_targets_are_refused(tmp_path, members, reason):
    archive = _archive(tmp_path, SIBLINGS + members)
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract_tar(archive, dest)
    assert _tree(dest) == []  # nothing was written
    with pytest.raises(UnsafeArchiveError, match=reason):
        read_tar_files(archive, lambda parts: True)


def test_a_missing_hard_link_target_is_never_a_key_error(tmp_path):
    archive = _archive(tmp_path, [_file("a/x.txt", b"a"), _link("a/h", "a/gone", hard=True)])
    # what tarfile alone does (the extraction filters exist from Python 3.11.4)
    data_filter = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(archive) as tar, pytest.raises(KeyError):
        tar.extractall(tmp_path / "plain", **data_filter)
    with pytest.raises(UnsafeArchiveError, match=r"data\.tar: refusing to extract"):
        safe_extract_tar(archive, tmp_path / "out")


def test_links_inside_their_own_folder_are_extracted(tmp_path):
    archive = _archive(
        tmp_path,
        SIBLINGS
        + [
            _link("a/sub/l", "../x.txt"),
            _link("a/self", "."),
            _link("a/h", "a/x.txt", hard=True),
            _link("a/h2", "a/./h", hard=True),  # a hard link to a hard link of a file
        ],
    )
    dest = tmp_path / "out"
    assert safe_extract_tar(archive, dest) == ["a", "b"]
    assert (dest / "a" / "sub" / "l").read_bytes() == b"a"
    assert (dest / "a" / "h").read_bytes() == b"a" and (dest / "a" / "h2").read_bytes() == b"a"
    assert os.path.samefile(dest / "a" / "self", dest / "a")
    assert read_tar_files(archive, lambda parts: parts[-1] == "x.txt") == {
        "a/x.txt": b"a",
        "b/x.txt": b"b",
    }
