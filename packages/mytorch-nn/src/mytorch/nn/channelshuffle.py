"""``ChannelShuffle``: interleave the channels of ``groups`` groups (as in ShuffleNet).

>>> import mytorch.core as mt
>>> ChannelShuffle(2)(mt.arange(4.0).reshape(1, 4, 1, 1)).flatten().tolist()
[0.0, 2.0, 1.0, 3.0]
"""

from __future__ import annotations

from mytorch.core import functional as F
from mytorch.core.tensor import Tensor
from mytorch.nn.module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """(N, g * k, *) -> (N, k * g, *): channel ``i * k + j`` moves to ``j * g + i``."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
