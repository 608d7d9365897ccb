"""state_dict / load_state_dict: PyTorch's key names, loading torch weights, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn


def _mlp(m):
    return m.Sequential(m.Linear(6, 8), m.BatchNorm1d(8), m.ReLU(), m.Dropout(0.1), m.Linear(8, 3))


def _nested(m):
    class Encoder(m.Module):
        def __init__(self):
            super().__init__()
            self.emb = m.Embedding(10, 6, padding_idx=0)
            self.norm = m.LayerNorm(6)
            self.blocks = m.ModuleList([m.Linear(6, 6), m.Linear(6, 6, bias=False)])
            self.heads = m.ModuleDict({"cls": m.Linear(6, 2), "reg": m.Sequential(m.Linear(6, 1))})
            self.bn = m.BatchNorm1d(6, affine=False)
            self.rms = m.RMSNorm([6])

        def forward(self, ids):
            x = self.norm(self.emb(ids)).mean(1)  # (N, 6)
            for block in self.blocks:
                x = block(x).relu()
            x = self.rms(self.bn(x))
            return self.heads["cls"](x) + self.heads["reg"](x)

    return Encoder()


ARCHS = {"mlp": _mlp, "nested": _nested}


@pytest.mark.parametrize("arch", list(ARCHS))
def test_state_dict_keys_and_shapes_equal_torch(torch, arch):
    ours = ARCHS[arch](nn).state_dict()
    theirs = ARCHS[arch](torch.nn).state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert ours[k].shape == tuple(theirs[k].shape), k
        assert ours[k].dtype == theirs[k].numpy().dtype, k


def test_state_dict_values_are_detached_and_shared():
    model = _mlp(nn)
    sd = model.state_dict()
    assert type(sd).__name__ == "OrderedDict"
    w = sd["0.weight"]
    assert not w.requires_grad and not isinstance(w, nn.Parameter)
    assert w.data is model[0].weight.data
    kept = model.state_dict(keep_vars=True)
    assert kept["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net.")) == ["net." + k for k in sd]
    assert sd["1.num_batches_tracked"].dtype == mt.int64 and sd["1.num_batches_tracked"].ndim == 0


def test_non_persistent_and_none_entries_are_excluded():
    m = nn.Module()
    m.register_buffer("keep", mt.zeros(1))
    m.register_buffer("temp", mt.zeros(1), persistent=False)
    m.register_buffer("empty", None)
    m.register_parameter("nothing", None)
    assert list(m.state_dict()) == ["keep"]
    assert m.load_state_dict({"keep": np.ones(1, np.float32)}).missing_keys == []
    assert m.keep.tolist() == [1.0]


@pytest.mark.parametrize("arch", list(ARCHS))
def test_loading_torch_weights_gives_torch_outputs(torch, arch):
    theirs = ARCHS[arch](torch.nn)
    ours = ARCHS[arch](nn)
    theirs.train()
    if arch == "mlp":
        x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
        theirs(torch.from_numpy(x))  # move the running statistics away from their defaults
    else:
        x = np.random.default_rng(0).integers(0, 10, (4, 7))
        theirs(torch.from_numpy(x))
    theirs.eval()
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    ours.eval()
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(mt.tensor(x)).data, expected, rtol=1e-5, atol=1e-5)
    if arch == "mlp":
        assert ours[1].num_batches_tracked.item() == 1


def test_load_keeps_parameter_identity_and_dtype():
    model = nn.Linear(3, 2)
    w = model.weight
    model.load_state_dict({"weight": np.ones((2, 3)), "bias": mt.zeros(2, dtype=mt.float64)})
    assert model.weight is w and w.dtype == mt.float32
    assert w.data.tolist() == [[1.0] * 3] * 2
    assert w._version > 0


def test_load_from_objects_with_numpy_or_array():
    class HasNumpy:
        def __init__(self, a):
            self.a = a

        def numpy(self):
            return self.a

    class HasArray:
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a

    model = nn.Linear(2, 2)
    model.load_state_dict(
        {"weight": HasNumpy(np.full((2, 2), 3.0)), "bias": HasArray(np.full(2, 4.0))}
    )
    assert model.weight.data.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert model.bias.data.tolist() == [4.0, 4.0]


def test_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    sd = dict(model.state_dict())
    del sd["1.running_var"]
    sd["1.extra"] = mt.zeros(1)
    sd["2.weight"] = mt.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.running_var".' in msg
    # the root module reports "2.weight" before module "1" reports "1.extra", as in PyTorch
    assert 'Unexpected key(s) in state_dict: "2.weight", "1.extra".' in msg
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.running_var"]
    assert result.unexpected_keys == ["2.weight", "1.extra"]


def test_size_mismatch_message():
    class Net(nn.Module):
        def __init__(self, n_in):
            super().__init__()
            self.fc = nn.Linear(n_in, 10)

    with pytest.raises(RuntimeError) as info:
        Net(4).load_state_dict(Net(5).state_dict())
    assert (
        "size mismatch for fc.weight: copying a param with shape [10, 5] from checkpoint, "
        "the shape in current model is [10, 4]." in str(info.value)
    )
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):  # even non-strict
        Net(4).load_state_dict(Net(5).state_dict(), strict=False)


def test_size_mismatch_message_matches_torch_wording(torch):
    theirs = torch.nn.Linear(5, 10)
    with pytest.raises(RuntimeError) as mine:
        nn.Linear(4, 10).load_state_dict(theirs.state_dict())
    with pytest.raises(RuntimeError) as ref:
        torch.nn.Linear(4, 10).load_state_dict(theirs.state_dict())
    normalize = lambda s: s.replace("torch.Size(", "").replace("])", "]")  # noqa: E731
    assert str(mine.value) == normalize(str(ref.value))


def test_bad_values():
    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias"'):
        model.load_state_dict({"weight": np.zeros((2, 2)), "bias": 3})
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([("weight", 1)])


def test_round_trip_between_models():
    a, b = _nested(nn), _nested(nn)
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.data, vb.data)


def test_unconvertible_torch_values_are_reported(torch):
    theirs = torch.nn.Linear(2, 2).to(torch.bfloat16)  # NumPy has no bfloat16
    with pytest.raises(RuntimeError, match='While copying the parameter named "weight"'):
        nn.Linear(2, 2).load_state_dict(theirs.state_dict())


def _snapshot(model) -> dict:
    return {k: (v.data.copy(), v._version) for k, v in model.state_dict(keep_vars=True).items()}


def _assert_unchanged(model, before: dict) -> None:
    after = model.state_dict(keep_vars=True)
    assert list(after) == list(before)
    for key, (data, version) in before.items():
        np.testing.assert_array_equal(after[key].data, data, err_msg=key)
        assert after[key]._version == version, key


@pytest.mark.parametrize(
    "spoil",
    [
        lambda sd: sd.__setitem__("4.bias", np.zeros(4, np.float32)),  # shape, last entry
        lambda sd: sd.__setitem__("4.weight", np.array([["x"] * 8] * 3)),  # no numbers
        lambda sd: sd.__setitem__("4.bias", np.ones(3, np.complex64)),  # would lose data
        lambda sd: sd.__setitem__("5.weight", np.zeros(3, np.float32)),  # unexpected key
        lambda sd: sd.pop("4.bias"),  # missing key
    ],
    ids=["shape", "strings", "complex", "unexpected", "missing"],
)
def test_a_failed_load_changes_nothing(spoil):
    """Every key, shape and value is checked before the first copy (PyTorch copies the
    entries before the bad one)."""
    model = _mlp(nn)
    good = {k: np.full(v.shape, 7, v.dtype) for k, v in _mlp(nn).state_dict().items()}
    spoil(good)
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Sequential"):
        model.load_state_dict(good)
    _assert_unchanged(model, before)


def test_a_read_only_parameter_fails_before_anything_is_copied():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].bias.data.flags.writeable = False
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match='"1.bias".*read-only'):
        model.load_state_dict({k: np.ones(v.shape) for k, v in model.state_dict().items()})
    _assert_unchanged(model, before)


def test_non_strict_load_copies_what_matches():
    model = _mlp(nn)
    values = {"0.bias": np.full(8, 2.0), "1.running_mean": np.full(8, 3.0), "extra": np.zeros(1)}
    result = model.load_state_dict(values, strict=False)
    assert model[0].bias.tolist() == [2.0] * 8 and model[1].running_mean.tolist() == [3.0] * 8
    assert "0.weight" in result.missing_keys and result.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):  # even when not strict
        model.load_state_dict({"0.bias": np.zeros(3), "1.running_mean": np.zeros(8)}, strict=False)
    assert model[1].running_mean.tolist() == [3.0] * 8
