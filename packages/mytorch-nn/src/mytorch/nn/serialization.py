"""Checkpoints without pickle: ``save(obj, path)`` / ``load(path)``.

``obj`` is a tensor, or dicts/lists/tuples nesting tensors, NumPy arrays and plain values
(str, int, float, bool, None), such as ``model.state_dict()``, ``optimizer.state_dict()``
or ``{"model": ..., "optimizer": ..., "epoch": 3}``.

Files are safetensors: every tensor is stored under a dotted key (a flat state_dict keeps its
own keys, so other safetensors readers load it as is), and the rest of the structure is one
JSON string in the header's ``__metadata__``, with a CRC-32 of the whole file (header and
tensor bytes, computed with the checksum's own eight digits as zeros), so any changed byte, or
a missing checksum, is an error. A ``.npz`` path stores a flat state_dict as a NumPy archive
instead. Writes are atomic (``mytorch.core.files.atomic_write``): a temporary file in the same
directory is fsynced, then renamed over the target; the next save of the same path removes the
temporary file of a save that was killed.

>>> import os, tempfile
>>> import mytorch.core as mt
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> save({"w": mt.ones(2), "epoch": 3, "betas": (0.9, 0.999)}, path)
>>> ckpt = load(path)
>>> ckpt["w"].tolist(), ckpt["epoch"], ckpt["betas"]
([1.0, 1.0], 3, (0.9, 0.999))
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np
import safetensors.numpy

from mytorch.core.creation import from_numpy
from mytorch.core.files import atomic_write
from mytorch.core.tensor import Tensor

__all__ = ["save", "load"]

_STRUCTURE_KEY = "mytorch.structure"
_CHECKSUM_KEY = "mytorch.checksum"  # "crc32:<8 hex digits>" of the whole file
_LEGACY_CRC_KEY = "mytorch.crc32"  # older files: a CRC-32 of the tensor names and bytes only
_FORMAT = "mytorch"
_PLACEHOLDER = "crc32:00000000"
_CHECKSUM_FIELD = re.compile(rb'"mytorch\.checksum":"(crc32:[0-9a-f]{8})"')
MAX_DEPTH = 100  # nesting of dicts/lists/tuples a checkpoint may have

PathLike = str | os.PathLike


# ----------------------------------------------------------------------------------------------
# Encoding: Python structure <-> (JSON skeleton, named arrays)
# ----------------------------------------------------------------------------------------------


class _Encoder:
    """Replace tensors/arrays by references to named arrays; keep the rest as JSON values."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def name(self, path: str) -> str:
        base = path or "tensor"
        name, k = base, 1
        while name in self.arrays:
            name, k = f"{base}~{k}", k + 1
        return name

    def encode(self, obj: Any, path: str, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(
                f"save: the object is nested more than {MAX_DEPTH} levels deep at {path!r}"
            )
        if isinstance(obj, Tensor):
            name = self.name(path)
            self.arrays[name] = np.asarray(obj.data, order="C")  # keeps 0-d shape
            return {"__tensor__": name}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(
                    f"save: cannot store a NumPy array of dtype {obj.dtype} at {path or 'top'!r}"
                )
            name = self.name(path)
            self.arrays[name] = np.asarray(obj, order="C")
            return {"__ndarray__": name}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, float)):
            return obj
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, Mapping):
            tag = "__odict__" if isinstance(obj, OrderedDict) else "__dict__"
            items = []
            for k, v in obj.items():
                key = self.encode_key(k, path)
                items.append([key, self.encode(v, f"{path}.{k}" if path else str(k), depth + 1)])
            return {tag: items}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{path}.{i}" if path else str(i), depth + 1)
                                  for i, v in enumerate(obj)]}  # fmt: skip
        if isinstance(obj, list):
            return [
                self.encode(v, f"{path}.{i}" if path else str(i), depth + 1)
                for i, v in enumerate(obj)
            ]
        raise TypeError(
            f"save: cannot store an object of type {type(obj).__name__} at {path or 'top'!r}; "
            "only tensors, NumPy arrays, dicts, lists, tuples, str, int, float, bool and None "
            "are supported (no pickle)"
        )

    def encode_key(self, key: Any, path: str) -> Any:
        if key is None or isinstance(key, (bool, int, float, str)):
            return key
        if isinstance(key, np.generic):
            return key.item()
        if isinstance(key, tuple):
            return {"__tuple__": [self.encode_key(k, path) for k in key]}
        raise TypeError(
            f"save: dict keys must be str, int, float, bool, None or tuples of those; got "
            f"{type(key).__name__} in {path or 'top'!r}"
        )


def _decode(node: Any, arrays: Mapping[str, np.ndarray], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, list):
        return [_decode(v, arrays, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    ((tag, value),) = node.items()
    if tag == "__tensor__":
        return from_numpy(arrays[value])
    if tag == "__ndarray__":
        return arrays[value]
    if tag == "__tuple__":
        return tuple(_decode(v, arrays, depth + 1) for v in value)
    if tag in ("__dict__", "__odict__"):
        items = [(_decode_key(k, depth + 1), _decode(v, arrays, depth + 1)) for k, v in value]
        return OrderedDict(items) if tag == "__odict__" else dict(items)
    raise ValueError(f"unknown entry {tag!r} in the checkpoint structure")


def _decode_key(key: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(key, dict):
        return tuple(_decode_key(k, depth + 1) for k in key["__tuple__"])
    return key


def _file_crc32(data: bytes | bytearray, field: re.Match) -> str:
    """CRC-32 of a whole file, read with the checksum's digits (``field``'s group 1) as zeros."""
    start, end = field.span(1)
    crc = zlib.crc32(memoryview(data)[:start])
    crc = zlib.crc32(_PLACEHOLDER.encode(), crc)
    return f"crc32:{zlib.crc32(memoryview(data)[end:], crc):08x}"


def _legacy_crc32(arrays: Mapping[str, np.ndarray]) -> str:
    crc = 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        crc = zlib.crc32(name.encode(), crc)
        crc = zlib.crc32(memoryview(a).cast("B") if a.size else b"", crc)
    return f"{crc:08x}"


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------


def _is_npz(f) -> bool:
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).lower().endswith(".npz")


def _label(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    return getattr(f, "name", None) or type(f).__name__


def _write(f, write: Callable[[BinaryIO], None]) -> None:
    if hasattr(f, "write"):
        write(f)
    else:
        atomic_write(f, write)


def _npz_arrays(obj: Any) -> dict[str, np.ndarray]:
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"save: a .npz file holds a flat state_dict (a dict of tensors), got "
            f"{type(obj).__name__}; use a .safetensors path for other objects"
        )
    arrays = {}
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, (Tensor, np.ndarray)):
            raise TypeError(
                f"save: a .npz file holds a flat state_dict of tensors; entry {k!r} is "
                f"{type(v).__name__}; use a .safetensors path for nested checkpoints"
            )
        arrays[k] = np.asarray(v.data if isinstance(v, Tensor) else v, order="C")
    return arrays


def _write_npz(fh: BinaryIO, arrays: Mapping[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` archive (what ``np.savez`` writes), one ``.npy`` per entry."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


def save(obj: Any, f: PathLike | BinaryIO) -> None:
    """Write ``obj`` (tensors nested in dicts/lists/tuples with plain values) to ``f``.

    ``f`` is a path (``.npz`` selects the NumPy format for flat state dicts; anything else
    is safetensors) or a binary file object. A failed save leaves an existing file intact.
    Raises ``TypeError`` for objects it cannot store and ``ValueError`` for nesting deeper
    than ``MAX_DEPTH`` levels.
    """
    if _is_npz(f):
        arrays = _npz_arrays(obj)
        _write(f, lambda fh: _write_npz(fh, arrays))
        return
    encoder = _Encoder()
    structure = encoder.encode(obj, "")
    metadata = {
        "format": _FORMAT,
        _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":")),
        _CHECKSUM_KEY: _PLACEHOLDER,
    }
    data = bytearray(safetensors.numpy.save(encoder.arrays, metadata=metadata))
    (n,) = struct.unpack("<Q", data[:8])
    (field,) = _CHECKSUM_FIELD.finditer(data, 8, 8 + n)  # the structure's quotes are escaped
    start, end = field.span(1)
    data[start:end] = _file_crc32(data, field).encode()
    _write(f, lambda fh: fh.write(data))


def _corrupted(label: str, detail: str) -> ValueError:
    return ValueError(f"checkpoint '{label}' is corrupted or truncated: {detail}")


def _read_header(data: bytes, label: str) -> dict:
    if len(data) < 8:
        raise _corrupted(label, f"file has only {len(data)} bytes, shorter than a header")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise _corrupted(
            label, f"header announces {n} bytes but the file has only {len(data) - 8} after it"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupted(label, f"header is not valid JSON ({e})") from None
    except RecursionError:
        raise _corrupted(label, "header is nested too deeply") from None
    if not isinstance(header, dict):
        raise _corrupted(label, "header is not a JSON object")
    return header


def _check_sum(data: bytes, header: dict, label: str) -> None:
    """Verify the whole-file checksum of a file this module wrote; a file from another
    safetensors writer (no ``mytorch.`` metadata) has none to verify."""
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        meta = {}
    ours = meta.get("format") == _FORMAT or any(str(k).startswith("mytorch.") for k in meta)
    if not ours:
        return
    if _LEGACY_CRC_KEY in meta and _CHECKSUM_KEY not in meta:
        return  # an older file: _legacy_crc32 checks its tensor data once they are read
    (n,) = struct.unpack("<Q", data[:8])
    fields = list(_CHECKSUM_FIELD.finditer(data, 8, 8 + n))
    if _CHECKSUM_KEY not in meta or len(fields) != 1:
        raise _corrupted(label, f"the header has no checksum ({_CHECKSUM_KEY!r})")
    stored = fields[0].group(1).decode()
    if meta[_CHECKSUM_KEY] != stored or stored != _file_crc32(data, fields[0]):
        raise _corrupted(label, "the file does not match its checksum (a byte has changed)")
    if _STRUCTURE_KEY not in meta:
        raise _corrupted(label, f"the header has no structure ({_STRUCTURE_KEY!r})")


def _load_safetensors(data: bytes, label: str) -> Any:
    header = _read_header(data, label)
    _check_sum(data, header, label)
    meta = header.get("__metadata__") or {}
    try:
        raw = safetensors.numpy.load(data)
    except Exception as e:  # safetensors reports bad offsets, sizes and dtypes
        raise _corrupted(label, str(e)) from None
    arrays = {k: np.array(v) for k, v in raw.items()}  # own, writable, aligned copies
    legacy = meta.get(_LEGACY_CRC_KEY)
    if legacy is not None and _CHECKSUM_KEY not in meta and legacy != _legacy_crc32(arrays):
        raise _corrupted(label, "tensor data does not match its checksum")
    structure = meta.get(_STRUCTURE_KEY)
    if structure is None:  # written by another safetensors writer: a flat dict of tensors
        names = [k for k in header if k != "__metadata__"]
        return OrderedDict((k, from_numpy(arrays[k])) for k in names)
    try:
        return _decode(json.loads(structure), arrays)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise _corrupted(label, f"invalid structure metadata ({e!r})") from None
    except RecursionError:
        raise _corrupted(label, f"structure nested more than {MAX_DEPTH} levels deep") from None


def _load_npz(source, label: str) -> OrderedDict:
    try:
        with np.load(source, allow_pickle=False) as archive:
            return OrderedDict((k, from_numpy(archive[k])) for k in archive.files)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise _corrupted(label, str(e) or type(e).__name__) from None


def load(f: PathLike | BinaryIO, map_location=None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote: tensors come back as mytorch Tensors with their saved dtype.

    Also reads flat safetensors files written by other tools (e.g. a PyTorch state_dict saved
    with ``safetensors.torch.save_file``). ``map_location`` and ``weights_only`` exist for
    PyTorch compatibility (everything loads to the CPU, and nothing is unpickled). A damaged
    file raises ``ValueError`` ("checkpoint ... is corrupted or truncated: ..."): a checksum
    that does not match or is missing, a bad header, or structure nested deeper than
    ``MAX_DEPTH`` levels.
    """
    if map_location not in (None, "cpu"):
        raise RuntimeError(f"load: mytorch runs on the CPU only, got map_location={map_location!r}")
    label = _label(f)
    if _is_npz(f):
        return _load_npz(os.fspath(f), label)
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(f, "rb") as fh:
            data = fh.read()
    if data[:4] == b"PK\x03\x04":  # a zip archive: npz from a file object
        return _load_npz(io.BytesIO(data), label)
    return _load_safetensors(data, label)
