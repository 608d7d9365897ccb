"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn


def _keys(m: nn.Module) -> list:
    return list(m._modules)


def test_sequential_forward_and_ordered_dict():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 4)), ("act", nn.ReLU())]))
    assert _keys(seq) == ["fc", "act"]
    x = mt.randn(2, 3)
    expected = np.maximum(x.data @ seq.fc.weight.data.T + seq.fc.bias.data, 0)
    np.testing.assert_allclose(seq(x).data, expected, rtol=1e-5, atol=1e-6)
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_sequential_indexing_slicing_and_mutation():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c] and _keys(sub) == ["1", "2"]
    seq[1] = d
    assert seq[1] is d
    seq.append(b)
    assert _keys(seq) == ["0", "1", "2", "3"] and seq[3] is b
    seq.insert(0, c)
    assert list(seq) == [c, a, d, c, b] and _keys(seq) == ["0", "1", "2", "3", "4"]
    seq.insert(-1, a)
    assert list(seq) == [c, a, d, c, a, b]
    del seq[0]
    assert list(seq) == [a, d, c, a, b] and _keys(seq) == ["0", "1", "2", "3", "4"]
    del seq[1:3]
    assert list(seq) == [a, a, b] and _keys(seq) == ["0", "1", "2"]
    assert seq.pop(-1) is b and len(seq) == 2
    seq.extend([c, d])
    assert list(seq) == [a, a, c, d]
    with pytest.raises(IndexError, match="Index out of range"):
        seq.insert(9, a)


def test_sequential_add_and_mul():
    a, b = nn.ReLU(), nn.Tanh()
    s = nn.Sequential(a) + nn.Sequential(b)
    assert list(s) == [a, b]
    assert list(nn.Sequential(a, b) * 2) == [a, b, a, b]
    s += nn.Sequential(a)
    assert list(s) == [a, b, a]
    with pytest.raises(ValueError, match="Sequential class"):
        s + [a]
    with pytest.raises(ValueError, match="Non-positive"):
        s * 0


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    first = layers[0]
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(1, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == [
        "Linear", "Sigmoid", "Linear", "Linear", "ReLU", "Tanh",
    ]  # fmt: skip
    del layers[1]
    assert layers[0] is first and _keys(layers) == ["0", "1", "2", "3", "4"]
    layers[-1] = nn.Identity()
    assert isinstance(layers[4], nn.Identity)
    assert isinstance(layers.pop(0), nn.Linear) and len(layers) == 4
    layers += [nn.ReLU()]
    assert len(layers) == 5
    assert len(layers + nn.ModuleList([nn.ReLU()])) == 6
    with pytest.raises(IndexError):
        layers[10]
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(3)


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    assert list(d) == ["a", "b"] and "a" in d and len(d) == 2
    d["c"] = nn.Tanh()
    d.update([("e", nn.Identity())])
    assert list(d.keys()) == ["a", "b", "c", "e"]
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    assert [k for k, _ in d.items()] == ["a", "c", "e"]
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    d.clear()
    assert len(d) == 0
    with pytest.raises(ValueError, match="pair"):
        d.update([1])


def test_parameter_list_and_dict():
    plist = nn.ParameterList([nn.Parameter(mt.ones(2)), mt.zeros(3)])
    assert len(plist) == 2 and isinstance(plist[1], nn.Parameter)
    plist.append(nn.Parameter(mt.ones(1)))
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    assert "(0): Parameter containing: [mytorch.float32 of size 2]" in repr(plist)
    pdict = nn.ParameterDict({"w": nn.Parameter(mt.ones(2, 2))})
    pdict["b"] = mt.zeros(2)
    assert list(pdict) == ["w", "b"] and isinstance(pdict["b"], nn.Parameter)
    assert sorted(dict(pdict.named_parameters())) == ["b", "w"]
    del pdict["w"]
    assert list(pdict.keys()) == ["b"]


def test_container_reprs_match_torch(torch):
    tnn = torch.nn
    cases = [
        (lambda m: m.Sequential(), None),
        (lambda m: m.Sequential(m.Linear(784, 512), m.ReLU(), m.Linear(512, 10)), None),
        (lambda m: m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]), None),
        (lambda m: m.ModuleList([]), None),
        (
            lambda m: m.ModuleDict(
                {"enc": m.Sequential(m.Linear(3, 3), m.Tanh()), "out": m.Softmax(dim=1)}
            ),
            None,
        ),  # fmt: skip
        (
            lambda m: m.Sequential(m.ModuleList([m.Sequential(m.Identity(), m.Identity())] * 2)),
            None,
        ),  # fmt: skip
    ]
    for build, _ in cases:
        assert repr(build(nn)) == repr(build(tnn))
