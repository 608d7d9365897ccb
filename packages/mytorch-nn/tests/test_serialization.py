"""nn.save / nn.load: safetensors (+ JSON structure) and npz, atomic writes, clear errors."""

from __future__ import annotations

import io
import os
from collections import OrderedDict

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core import optim


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def _assert_same(a, b) -> None:
    if isinstance(a, mt.Tensor):
        assert isinstance(b, mt.Tensor) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.data, b.data)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b))  # NaN == NaN here


@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".pt"])
def test_state_dict_round_trip(tmp_path, suffix):
    model = _model()
    model(mt.randn(8, 4))  # running stats and num_batches_tracked move
    path = tmp_path / f"model{suffix}"
    nn.save(model.state_dict(), path)
    loaded = nn.load(path)
    assert isinstance(loaded, OrderedDict)
    _assert_same(OrderedDict((k, v.detach()) for k, v in model.state_dict().items()), loaded)
    assert loaded["1.num_batches_tracked"].dtype == mt.int64
    assert loaded["0.weight"].dtype == mt.float32
    other = _model()
    other.load_state_dict(loaded)
    other.eval(), model.eval()
    x = mt.randn(3, 4)
    np.testing.assert_array_equal(other(x).data, model(x).data)
    loaded["0.weight"].data[0, 0] = 5.0  # loaded arrays are writable and owned


def test_nested_checkpoint_with_optimizer_state(tmp_path):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    for _ in range(2):
        opt.zero_grad()
        model(mt.randn(6, 4)).pow(2).mean().backward()
        opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
    path = tmp_path / "ckpt.safetensors"
    nn.save(ckpt, path)
    loaded = nn.load(path)
    assert loaded["epoch"] == 3
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.99)
    assert list(loaded["optimizer"]["state"]) == list(opt.state_dict()["state"])  # int keys
    _assert_same(opt.state_dict(), loaded["optimizer"])
    model2 = _model()
    opt2 = optim.Adam(model2.parameters(), lr=1.0)
    model2.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.param_groups[0]["lr"] == 1e-3
    for m in (model, model2):  # one more identical step keeps them identical
        m.zero_grad()
        m(mt.ones(6, 4)).pow(2).mean().backward()
    opt.step()
    opt2.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_plain_values_round_trip(tmp_path):
    obj = {
        "ints": [1, -2, 2**40],
        "floats": [0.1, float("inf"), float("nan"), -0.0],
        "none": None,
        "flags": (True, False),
        "text": "héllo",
        "nested": OrderedDict([(0, {"step": 7, "buf": mt.arange(3)}), (1.5, [None, []])]),
        (1, "tuple"): "tuple key",
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "scalar": mt.tensor(2.5),
        "bool": mt.tensor([True, False]),
        "f64": mt.tensor([1.0, 2.0], dtype=mt.float64),
        "np_scalar": np.float32(1.5),
    }
    path = tmp_path / "x.safetensors"
    nn.save(obj, path)
    loaded = nn.load(path)
    expected = dict(obj)
    expected["np_scalar"] = 1.5
    _assert_same(expected, loaded)


def test_top_level_tensor_and_file_objects():
    buf = io.BytesIO()
    nn.save(mt.arange(4.0), buf)
    buf.seek(0)
    assert nn.load(buf).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_non_contiguous_tensors_are_saved_by_value(tmp_path):
    base = mt.arange(12).reshape(3, 4)
    view = mt.from_numpy(base.data[:, ::2].T)
    nn.save({"v": view}, tmp_path / "v.safetensors")
    np.testing.assert_array_equal(nn.load(tmp_path / "v.safetensors")["v"].data, view.data)


def test_shared_and_colliding_names(tmp_path):
    t = mt.ones(2)
    obj = {"a.b": t, "a": {"b": mt.zeros(2)}, "same": [t, t]}
    nn.save(obj, tmp_path / "c.safetensors")
    loaded = nn.load(tmp_path / "c.safetensors")
    assert loaded["a.b"].tolist() == [1.0, 1.0] and loaded["a"]["b"].tolist() == [0.0, 0.0]
    assert loaded["same"][1].tolist() == [1.0, 1.0]


def test_unsupported_objects_are_refused():
    with pytest.raises(TypeError, match="cannot store an object of type object at 'opt.x'"):
        nn.save({"opt": {"x": object()}}, io.BytesIO())
    with pytest.raises(TypeError, match="dict keys must be"):
        nn.save({frozenset(): 1}, io.BytesIO())
    with pytest.raises(TypeError, match="flat state_dict"):
        nn.save({"a": {"b": mt.ones(1)}}, "never_written.npz")
    assert not os.path.exists("never_written.npz")


# ---------------------------------------------------------------------------------- errors


def _saved(tmp_path) -> tuple[os.PathLike, bytes]:
    path = tmp_path / "model.safetensors"
    nn.save(_model().state_dict(), path)
    return path, path.read_bytes()


def test_truncated_file_raises_clear_error(tmp_path):
    path, data = _saved(tmp_path)
    for cut in (4, 100, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(
            ValueError, match=r"checkpoint '.*model.safetensors' is corrupted or trun"
        ):
            nn.load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="corrupted or truncated: file has only 0 bytes"):
        nn.load(path)


def test_corrupted_file_raises_clear_error(tmp_path):
    path, data = _saved(tmp_path)
    corrupt = bytearray(data)
    corrupt[-3] ^= 0xFF  # flip bits inside tensor data
    path.write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="corrupted or truncated: the file does not match its"):
        nn.load(path)
    corrupt = bytearray(data)
    corrupt[8] = ord("x")  # break the JSON header
    path.write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="corrupted or truncated: header is not valid JSON"):
        nn.load(path)
    corrupt = bytearray(data)
    corrupt[10] = ord("}")  # still JSON, but no longer a valid tensor table
    path.write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="corrupted or truncated: .*header"):
        nn.load(path)


def test_corrupted_npz_raises_clear_error(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(_model().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"checkpoint '.*m.npz' is corrupted or truncated"):
        nn.load(path)


def test_mismatched_checkpoint_errors_are_clear(tmp_path):
    path = tmp_path / "small.safetensors"
    nn.save(nn.Sequential(nn.Linear(4, 3)).state_dict(), path)
    with pytest.raises(RuntimeError) as info:
        nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 1)).load_state_dict(nn.load(path))
    msg = str(info.value)
    assert 'Missing key(s) in state_dict: "2.weight", "2.bias".' in msg
    assert "size mismatch for 0.weight: copying a param with shape [3, 4] from checkpoint, " \
           "the shape in current model is [3, 5]." in msg  # fmt: skip


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        nn.load("/nonexistent/dir/model.safetensors")


# ---------------------------------------------------------------------------------- atomicity


def _listing(path) -> list:
    return sorted(os.listdir(path))


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path, old = _saved(tmp_path)
    before = _listing(tmp_path)
    with pytest.raises(TypeError):
        nn.save({"bad": object()}, path)
    assert path.read_bytes() == old and _listing(tmp_path) == before

    def fail(*args):
        raise OSError("disk full")

    for target in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(os, target, fail)
            with pytest.raises(OSError, match="disk full"):
                nn.save({"w": mt.ones(3)}, path)
        assert path.read_bytes() == old, target
        assert _listing(tmp_path) == before, target
    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fail)
        with pytest.raises(OSError):
            nn.save({"w": mt.ones(3)}, tmp_path / "new.npz")
    assert _listing(tmp_path) == before
    nn.save({"w": mt.ones(3)}, path)  # a successful save replaces it
    assert nn.load(path)["w"].tolist() == [1.0, 1.0, 1.0] and _listing(tmp_path) == before


def test_save_keeps_existing_permissions(tmp_path):
    path, _ = _saved(tmp_path)
    os.chmod(path, 0o640)
    nn.save({"w": mt.ones(1)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640


# ---------------------------------------------------------------------------------- torch interop


def test_loads_torch_safetensors_state_dict(torch, tmp_path):
    from safetensors.torch import load_file, save_file

    def build(m):
        return m.Sequential(m.Linear(6, 8), m.BatchNorm1d(8), m.GELU(), m.Linear(8, 3),
                            m.LayerNorm(3))  # fmt: skip

    theirs = build(torch.nn)
    theirs(torch.randn(10, 6))  # update running statistics
    theirs.eval()
    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    ours = build(nn)
    ours.load_state_dict(nn.load(path))
    ours.eval()
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(
        ours(mt.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    # and back: a file we write is a plain safetensors state_dict for PyTorch
    nn.save(ours.state_dict(), tmp_path / "ours.safetensors")
    fresh = build(torch.nn).eval()
    fresh.load_state_dict(load_file(str(tmp_path / "ours.safetensors")))
    np.testing.assert_allclose(
        fresh(torch.from_numpy(x)).detach().numpy(), ours(mt.tensor(x)).data, rtol=1e-5, atol=1e-6
    )
