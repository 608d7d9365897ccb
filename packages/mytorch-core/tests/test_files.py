"""atomic_write: all or nothing, permissions kept, temporary files of interrupted writes removed."""

from __future__ import annotations

import os

import pytest

from mytorch.core.files import atomic_write

fcntl = pytest.importorskip("fcntl", reason="the in-use lock is a POSIX flock")


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write(path, lambda f: f.write(b"one"))
    atomic_write(str(path), lambda f: f.write(b"two"))
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write(path, lambda f: f.write(b"old"))

    def fail(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.txt"]


def test_keeps_permissions(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write(path, lambda f: f.write(b"x"))
    os.chmod(path, 0o600)
    atomic_write(path, lambda f: f.write(b"y"))
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_stale_temporary_files_of_the_same_path_are_removed(tmp_path):
    for name in (".a.txt.k3j_9xq0.tmp", ".a.txt.00000000.tmp"):  # left by killed writes
        (tmp_path / name).write_bytes(b"partial")
    keep = [".b.txt.k3j_9xq0.tmp", ".a.txt.backup.tmp", "a.txt.k3j_9xq0.tmp", ".a.txt.tmp"]
    for name in keep:  # other files' temporaries and names mkstemp does not make
        (tmp_path / name).write_bytes(b"other")
    atomic_write(tmp_path / "a.txt", lambda f: f.write(b"new"))
    assert sorted(os.listdir(tmp_path)) == sorted(["a.txt", *keep])


def test_a_temporary_file_being_written_is_left_alone(tmp_path):
    busy = tmp_path / ".a.txt.abcd1234.tmp"
    busy.write_bytes(b"in progress")
    with open(busy, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # as a concurrent atomic_write holds it
        atomic_write(tmp_path / "a.txt", lambda g: g.write(b"new"))
        assert busy.exists()
    atomic_write(tmp_path / "a.txt", lambda g: g.write(b"newer"))  # unlocked now: removed
    assert os.listdir(tmp_path) == ["a.txt"]
