"""Checkpoint integrity: the checksum covers the whole file (header included), structure
metadata nested too deeply is refused with ValueError, and a killed save leaves nothing behind
for long."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
import safetensors.numpy

import mytorch.core as mt
import mytorch.nn as nn

CORRUPT = "is corrupted or truncated"


def _checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    model(mt.randn(4, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    return path, path.read_bytes()


def _header(data: bytes) -> tuple[int, dict]:
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8 : 8 + n])


def _write(meta: dict | None, arrays: dict, path) -> None:
    path.write_bytes(safetensors.numpy.save(arrays, metadata=meta))


def _with_checksum(meta: dict, arrays: dict) -> bytes:
    """A file as ``save`` writes it, with the checksum computed here, independently."""
    meta = dict(meta, **{"mytorch.checksum": "crc32:00000000"})
    data = bytearray(safetensors.numpy.save(arrays, metadata=meta))
    at = data.index(b'"mytorch.checksum":"crc32:') + len(b'"mytorch.checksum":"crc32:')
    data[at : at + 8] = f"{zlib.crc32(data):08x}".encode()
    return bytes(data)


def test_the_checksum_is_of_the_whole_file(tmp_path):
    path, data = _checkpoint(tmp_path)
    n, header = _header(data)
    stored = header["__metadata__"]["mytorch.checksum"]
    zeroed = data.replace(stored.encode(), b"crc32:00000000")
    assert stored == f"crc32:{zlib.crc32(zeroed):08x}"


def test_every_flipped_header_byte_is_an_error(tmp_path):
    path, data = _checkpoint(tmp_path)
    n, _ = _header(data)
    for i in range(8 + n):  # the length, the tensor table, the structure, the checksum
        for bit in (0x01, 0x40):
            bad = bytearray(data)
            bad[i] ^= bit
            with pytest.raises(ValueError, match=CORRUPT):
                nn.load(io.BytesIO(bad))


def test_every_flipped_data_byte_is_an_error(tmp_path):
    path, data = _checkpoint(tmp_path)
    n, _ = _header(data)
    for i in range(8 + n, len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises(ValueError, match="does not match its checksum"):
            nn.load(io.BytesIO(bad))


@pytest.mark.parametrize(
    "old, new",
    [
        (b'"dtype":"F32"', b'"dtype":"I32"'),  # same size: safetensors alone would accept it
        (b'"shape":[2,3]', b'"shape":[3,2]'),
        (b'\\"epoch\\",3', b'\\"epoch\\",4'),  # the structure metadata
    ],
)
def test_edited_header_fields_are_errors(tmp_path, old, new):
    path, data = _checkpoint(tmp_path)
    assert data.count(old) >= 1
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(ValueError, match="does not match its checksum"):
        nn.load(path)


def test_a_removed_checksum_is_an_error_not_a_flat_dict(tmp_path):
    path, data = _checkpoint(tmp_path)
    _, header = _header(data)
    meta = header["__metadata__"]
    arrays = {k: v for k, v in safetensors.numpy.load(data).items()}
    for drop in (["mytorch.checksum"], ["mytorch.checksum", "mytorch.structure"]):
        _write({k: v for k, v in meta.items() if k not in drop}, arrays, path)
        with pytest.raises(ValueError, match="the header has no checksum"):
            nn.load(path)
    without_structure = {k: v for k, v in meta.items() if k != "mytorch.structure"}
    path.write_bytes(_with_checksum(without_structure, arrays))
    with pytest.raises(ValueError, match="the header has no structure"):
        nn.load(path)


def test_files_of_other_safetensors_writers_still_load(tmp_path):
    path = tmp_path / "other.safetensors"
    _write({"format": "pt"}, {"w": np.ones((2, 2), np.float32)}, path)
    assert nn.load(path)["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    _write(None, {"w": np.zeros(1, np.float64)}, path)
    assert nn.load(path)["w"].dtype == np.float64


def test_older_files_with_a_tensor_checksum_still_load(tmp_path):
    w = np.arange(4, dtype=np.float32)
    crc = zlib.crc32(w.tobytes(), zlib.crc32(b"w"))
    structure = json.dumps({"__dict__": [["w", {"__tensor__": "w"}]]})
    meta = {"format": "mytorch", "mytorch.structure": structure, "mytorch.crc32": f"{crc:08x}"}
    path = tmp_path / "old.safetensors"
    _write(meta, {"w": w}, path)
    assert nn.load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    _write(meta, {"w": w + 1}, path)
    with pytest.raises(ValueError, match="tensor data does not match its checksum"):
        nn.load(path)


def test_deep_structure_metadata_is_a_value_error(tmp_path):
    path = tmp_path / "deep.safetensors"
    arrays = {"w": np.ones(1, np.float32)}
    for depth in (101, 100_000):  # past the limit; past Python's recursion limit
        structure = "[" * depth + '{"__tensor__":"w"}' + "]" * depth
        meta = {"format": "mytorch", "mytorch.structure": structure}
        path.write_bytes(_with_checksum(meta, arrays))
        with pytest.raises(ValueError, match=f"{CORRUPT}: .*(100 levels|nested)"):
            nn.load(path)
    structure = "[" * 100 + '{"__tensor__":"w"}' + "]" * 100  # at the limit: fine
    path.write_bytes(_with_checksum({"format": "mytorch", "mytorch.structure": structure}, arrays))
    value = nn.load(path)
    for _ in range(100):
        (value,) = value
    assert value.tolist() == [1.0]


def test_deep_json_in_the_header_is_a_value_error(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    header = f'{{"__metadata__":{{"format":"x"}},"w":{deep}}}'.encode()
    path = tmp_path / "deep_header.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match=f"{CORRUPT}: header is nested too deeply"):
        nn.load(path)


def test_saving_an_object_nested_too_deeply_is_refused(tmp_path):
    obj = mt.ones(1)
    for _ in range(101):
        obj = {"k": obj}
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        nn.save(obj, tmp_path / "deep.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    nn.save({"w": mt.zeros(3)}, path)
    script = textwrap.dedent(
        f"""
        import os
        from mytorch.core.files import atomic_write

        def write(f):
            f.write(b"partial")
            f.flush()
            os._exit(9)  # killed in the middle of a save

        atomic_write({str(path)!r}, write)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.safetensors.")
    assert nn.load(path)["w"].tolist() == [0.0, 0.0, 0.0]  # the old file is intact
    nn.save({"w": mt.ones(3)}, path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]
    assert nn.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
