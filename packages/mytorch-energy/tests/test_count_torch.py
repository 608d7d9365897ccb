"""MAC counts against PyTorch's own counter (torch.utils.flop_counter: FLOPs = 2 x MACs) on the
same layers with the same shapes."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.energy import count

CASES = [
    # (name, mytorch module builder, torch module builder, input shape)
    ("conv2d", lambda n: n.Conv2d(3, 8, 3, stride=2, padding=1), (2, 3, 11, 13)),
    (
        "conv2d dilated",
        lambda n: n.Conv2d(4, 6, (3, 5), padding=(2, 1), dilation=2),
        (1, 4, 12, 12),
    ),
    ("conv2d groups", lambda n: n.Conv2d(6, 9, 3, groups=3, bias=False), (2, 6, 8, 8)),
    ("depthwise", lambda n: n.Conv2d(5, 5, 3, padding=1, groups=5), (1, 5, 7, 7)),
    ("conv1d", lambda n: n.Conv1d(4, 6, 5, stride=2, padding=2), (3, 4, 20)),
    (
        "conv_t2d",
        lambda n: n.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        (2, 4, 5, 5),
    ),
    ("conv_t1d", lambda n: n.ConvTranspose1d(3, 2, 4, stride=3), (2, 3, 9)),
    ("linear 3-D", lambda n: n.Linear(7, 5), (4, 6, 7)),
    (
        "bilinear-free mlp",
        lambda n: n.Sequential(n.Linear(10, 20), n.ReLU(), n.Linear(20, 3)),
        (8, 10),
    ),
]


@pytest.mark.parametrize("name, build, shape", CASES, ids=[c[0] for c in CASES])
def test_layer_macs_equal_half_of_torch_flops(torch, name, build, shape):
    from torch.utils.flop_counter import FlopCounterMode

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with FlopCounterMode(display=False) as counter:
        build(torch.nn)(torch.from_numpy(x))
    assert count(build(nn), mt.tensor(x)).macs * 2 == counter.get_total_flops()


def test_attention_macs_equal_half_of_torch_flops(torch):
    from torch.utils.flop_counter import FlopCounterMode

    import mytorch.core.functional as F

    rng = np.random.default_rng(1)
    q, k, v = (
        rng.standard_normal(s).astype(np.float32)
        for s in ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6))
    )
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)))

    class Attend(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    assert count(Attend(), mt.tensor(q), mt.tensor(k), mt.tensor(v)).macs * 2 == (
        counter.get_total_flops()
    )


def test_multihead_attention_macs_equal_half_of_torch_flops(torch):
    from torch.utils.flop_counter import FlopCounterMode

    from mytorch.seq import MultiheadAttention

    x = np.random.default_rng(2).standard_normal((3, 5, 16)).astype(np.float32)
    tm = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    with FlopCounterMode(display=False) as counter:
        xt = torch.from_numpy(x)
        tm(xt, xt, xt, need_weights=True)  # without weights its fused path is not counted
    mm = MultiheadAttention(16, 4, batch_first=True)
    xm = mt.tensor(x)
    assert count(mm, xm, xm, xm, need_weights=False).macs * 2 == counter.get_total_flops()
