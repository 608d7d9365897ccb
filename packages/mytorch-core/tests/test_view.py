"""``view`` shares memory and follows PyTorch's stride rule; it never returns a silent copy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.testing import gradcheck, gradgradcheck

MESSAGE = "view size is not compatible with input tensor's size and stride"


def _factorizations(n: int, most: int = 4) -> set[tuple]:
    """Shapes with ``n`` elements and up to ``most`` dims (with and without a trailing 1)."""
    out = set()

    def grow(rest: int, dims: tuple) -> None:
        if len(dims) > most:
            return
        if rest == 1:
            out.update({dims or (1,), dims + (1,)} if len(dims) < most else {dims})
            return
        for f in range(2, rest + 1):
            if rest % f == 0:
                grow(rest // f, dims + (f,))

    grow(n, ())
    return out


def test_view_of_a_transpose_raises_like_torch():
    x = mt.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead\."):
        x.t().view(6)
    with pytest.raises(RuntimeError, match=MESSAGE):
        x.t().view_as(mt.zeros(6))
    assert x.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]  # reshape copies instead


def test_views_alias_their_base():
    x = mt.zeros(2, 3, 4)
    flat = x.view(-1)
    flat[5] = 7.0
    assert x[0, 1, 1].item() == 7.0
    x.permute(1, 0, 2).view(3, 2, 2, 2)[0, 1, 1, 0] = 3.0  # split the last dim of a permutation
    assert x[1, 0, 2].item() == 3.0
    x.fill_(1.0)
    assert flat.sum().item() == 24.0
    with mt.no_grad():
        w = mt.ones(4, requires_grad=True)
        w.view(2, 2).mul_(2.0)
    assert w.tolist() == [2.0] * 4


def test_view_of_non_contiguous_but_compatible_tensors():
    x = mt.arange(24.0).reshape(2, 3, 4)
    s = x[:, :2]  # (2, 2, 4): the last two dims are still contiguous with each other
    assert not s.is_contiguous()
    v = s.view(2, 8)
    assert np.shares_memory(v.data, x.data)
    assert v.tolist() == s.reshape(2, 8).tolist()
    for shape in [(16,), (4, 4)]:
        with pytest.raises(RuntimeError, match=MESSAGE):
            s.view(*shape)
    assert x[:, :, ::2].view(12).tolist() == list(range(0, 24, 2))  # one stride of 2 elements
    e = mt.ones(3, 1).expand(3, 4)
    assert e.view(3, 2, 2).shape == (3, 2, 2)
    with pytest.raises(RuntimeError, match=MESSAGE):
        e.view(12)


@pytest.mark.parametrize("shape", [(2, 3, 4), (4, 1, 6), (1, 6, 1, 2), (2, 2, 2, 2), (6, 1)])
def test_view_accepts_and_refuses_what_torch_does(torch, shape):
    base = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    layouts = [(f"permute{p}", lambda a, p=p: a.transpose(p), lambda t, p=p: t.permute(*p))
               for p in itertools.permutations(range(len(shape)))]  # fmt: skip
    layouts += [
        ("step", lambda a: a[..., ::2], lambda t: t[..., ::2]),
        ("narrow", lambda a: a[:1], lambda t: t[:1]),
    ]
    for name, ours, theirs in layouts:
        a, t = ours(base), theirs(torch.from_numpy(base.copy()))
        for new in _factorizations(a.size):
            try:
                expected = t.view(new).numpy()
            except RuntimeError:
                with pytest.raises(RuntimeError, match=MESSAGE):
                    mt.from_numpy(a).view(*new)
                continue
            got = mt.from_numpy(a).view(*new)
            np.testing.assert_array_equal(got.data, expected, err_msg=f"{name} -> {new}")
            assert got.numel() == 0 or np.shares_memory(got.data, a), f"{name} -> {new} copied"


def test_view_gradients():
    x = mt.tensor(np.random.default_rng(0).standard_normal((3, 4)), mt.float64, requires_grad=True)
    assert gradcheck(lambda t: t.view(2, 6) * t.view(2, 6), (x,))
    assert gradgradcheck(lambda t: t.view(2, 6) ** 3, (x,))
    with pytest.raises(RuntimeError, match=MESSAGE):
        x.t().view(12)
