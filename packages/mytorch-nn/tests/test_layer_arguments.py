"""Bad size arguments to layer constructors: an error naming the layer and the argument."""

from __future__ import annotations

import re

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn

NEGATIVE = [
    (lambda: nn.Linear(-1, 3), "Linear: in_features must be a non-negative integer, got -1"),
    (lambda: nn.Linear(3, -1), "Linear: out_features must be a non-negative integer, got -1"),
    (lambda: nn.Bilinear(2, -1, 3), "Bilinear: in2_features must be a non-negative integer"),
    (lambda: nn.Conv2d(-3, 2, 3), "Conv2d: in_channels must be a non-negative integer, got -3"),
    (lambda: nn.Conv1d(3, -2, 3), "Conv1d: out_channels must be a non-negative integer, got -2"),
    (lambda: nn.Conv2d(3, 2, 0), "Conv2d: kernel_size must be integers >= 1, got (0, 0)"),
    (lambda: nn.Conv2d(3, 2, (3, -1)), "Conv2d: kernel_size must be integers >= 1, got (3, -1)"),
    (lambda: nn.Conv2d(3, 2, 3, stride=0), "Conv2d: stride must be integers >= 1, got (0, 0)"),
    (lambda: nn.Conv1d(3, 2, 3, padding=-1), "Conv1d: padding must be non-negative integers"),
    (lambda: nn.Conv2d(3, 2, 3, dilation=0), "Conv2d: dilation must be integers >= 1"),
    (lambda: nn.ConvTranspose2d(3, -2, 3), "ConvTranspose2d: out_channels must be a non-negati"),
    (
        lambda: nn.ConvTranspose1d(3, 2, 3, output_padding=-1),
        "ConvTranspose1d: output_padding must be non-negative integers, got (-1,)",
    ),
    (lambda: nn.Embedding(-1, 3), "Embedding: num_embeddings must be a non-negative integer"),
    (lambda: nn.Embedding(3, -1), "Embedding: embedding_dim must be a non-negative integer"),
    (lambda: nn.BatchNorm1d(-2), "BatchNorm1d: num_features must be a non-negative integer"),
    (lambda: nn.BatchNorm2d(-2), "BatchNorm2d: num_features must be a non-negative integer"),
    (lambda: nn.InstanceNorm2d(-2), "InstanceNorm2d: num_features must be a non-negative"),
    (lambda: nn.LayerNorm((4, -3)), "LayerNorm: normalized_shape must be non-negative integers"),
    (lambda: nn.RMSNorm(-3), "RMSNorm: normalized_shape must be non-negative integers, got (-3,)"),
    (lambda: nn.GroupNorm(0, 4), "GroupNorm: num_groups must be an integer >= 1, got 0"),
    (lambda: nn.GroupNorm(2, -4), "GroupNorm: num_channels must be a non-negative integer"),
]


@pytest.mark.parametrize("make, message", NEGATIVE, ids=[m for _, m in NEGATIVE])
def test_bad_sizes_name_the_layer_and_argument(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(3.5, 2), "Linear: in_features must be an integer, got float 3.5"),
        (lambda: nn.Embedding(10, "3"), "Embedding: embedding_dim must be an integer, got str"),
        (lambda: nn.Conv2d(3, 2, 2.0), "Conv2d: kernel_size must be an integer, got float 2.0"),
        (lambda: nn.BatchNorm1d(True), "BatchNorm1d: num_features must be an integer, got bool"),
    ],
)
def test_sizes_that_are_not_integers(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make()


def test_valid_sizes_still_build_working_layers():
    assert nn.Linear(np.int64(4), 2)(mt.ones(3, 4)).shape == (3, 2)
    with pytest.warns(UserWarning, match="zero-element"):  # allowed, as in PyTorch
        assert nn.Linear(0, 2).weight.shape == (2, 0)
    conv = nn.Conv2d(3, 6, (3, 1), stride=2, padding=1, groups=3)
    assert conv.weight.shape == (6, 1, 3, 1) and conv.stride == (2, 2)
    assert nn.LayerNorm(np.int64(5)).normalized_shape == (5,)
    assert nn.GroupNorm(2, 4).num_groups == 2 and nn.Embedding(5, 3).weight.shape == (5, 3)
