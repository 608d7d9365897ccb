"""PackedSequence and the pack / pad helpers against torch.nn.utils.rnn."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.seq.packing import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LENGTHS = {
    "sorted": ([5, 3, 3, 1], True),
    "unsorted": ([2, 5, 1, 3], False),
    "ties": ([3, 1, 3, 3], False),
    "single": ([4], True),
}


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _same_index(ours, theirs) -> None:
    if theirs is None:
        assert ours is None
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("feature_shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", list(LENGTHS))
def test_pack_pad_roundtrip_matches_torch(torch, case, batch_first, feature_shape):
    lengths, enforce_sorted = LENGTHS[case]
    n, steps = len(lengths), 5
    lead = (n, steps) if batch_first else (steps, n)
    x = np.random.default_rng(0).standard_normal((*lead, *feature_shape)).astype(np.float32)
    ours_x, torch_x = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    packed = pack_padded_sequence(ours_x, lengths, batch_first, enforce_sorted)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(torch_x, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(_np(packed.data), _np(tpacked.data))
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), tpacked.batch_sizes.numpy())
    assert packed.batch_sizes.dtype == mt.int64
    _same_index(packed.sorted_indices, tpacked.sorted_indices)
    _same_index(packed.unsorted_indices, tpacked.unsorted_indices)
    padded, lens = pad_packed_sequence(packed, batch_first, padding_value=-7.0, total_length=6)
    tpadded, tlens = torch.nn.utils.rnn.pad_packed_sequence(
        tpacked, batch_first, padding_value=-7.0, total_length=6
    )
    np.testing.assert_array_equal(_np(padded), _np(tpadded))
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    assert lens.dtype == mt.int64
    w = np.random.default_rng(1).standard_normal(tuple(tpadded.shape)).astype(np.float32)
    (padded * mt.tensor(w)).sum().backward()
    (tpadded * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ours_x.grad.numpy(), torch_x.grad.numpy())


@pytest.mark.parametrize("make_lengths", [list, np.array, mt.tensor, tuple])
def test_lengths_accepts_lists_arrays_and_tensors(make_lengths):
    packed = pack_padded_sequence(mt.zeros(4, 3), make_lengths([4, 2, 1]))
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]


def test_pad_packed_without_total_length_uses_longest():
    packed = pack_padded_sequence(mt.ones(6, 2), [3, 2])
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    assert padded.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
    assert lengths.tolist() == [3, 2]


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("feature_shape", [(), (3,)])
def test_pad_sequence_matches_torch(torch, feature_shape, batch_first, padding_side):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n, *feature_shape)).astype(np.float32) for n in (2, 5, 1)]
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(ours, batch_first, 2.5, padding_side)
    tout = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, 2.5, padding_side)
    np.testing.assert_array_equal(_np(out), _np(tout))
    w = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    (out * mt.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pad_sequence_dtype_and_tensor_input():
    out = pad_sequence([mt.tensor([1, 2]), mt.tensor([3])], batch_first=True, padding_value=-1)
    assert out.dtype == mt.int64 and out.tolist() == [[1, 2], [3, -1]]
    mixed = pad_sequence([mt.ones(2), mt.ones(1, dtype=mt.float64)])
    assert mixed.dtype == mt.float32  # the first sequence's dtype, as in PyTorch
    assert tuple(pad_sequence(mt.ones(2, 3, 4)).shape) == (3, 2, 4)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_match_torch(torch, enforce_sorted):
    rng = np.random.default_rng(3)
    sizes = (4, 2, 1) if enforce_sorted else (2, 4, 1)
    arrays = [rng.standard_normal((n, 2)).astype(np.float32) for n in sizes]
    packed = pack_sequence([mt.tensor(a) for a in arrays], enforce_sorted)
    tpacked = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted)
    np.testing.assert_array_equal(_np(packed.data), _np(tpacked.data))
    _same_index(packed.sorted_indices, tpacked.sorted_indices)
    for ours, array in zip(unpack_sequence(packed), arrays, strict=True):
        np.testing.assert_array_equal(_np(ours), array)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_does_not_modify_input(batch_first):
    x = mt.arange(12.0).reshape(3, 2, 2) if not batch_first else mt.arange(12.0).reshape(2, 3, 2)
    before = x.tolist()
    parts = unpad_sequence(x, mt.tensor([3, 1]), batch_first)
    assert [tuple(p.shape) for p in parts] == [(3, 2), (1, 2)]
    assert x.tolist() == before
    if not batch_first:
        assert parts[1].tolist() == [[2.0, 3.0]]


def test_packed_sequence_fields_and_methods():
    packed = pack_padded_sequence(mt.randn(3, 2, 4), [2, 3], enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # a named tuple
    assert tuple(data.shape) == (5, 4) and batch_sizes.tolist() == [2, 2, 1]
    assert sorted_indices.tolist() == [1, 0] and unsorted_indices.tolist() == [1, 0]
    double = packed.double()
    assert isinstance(double, PackedSequence) and double.data.dtype == mt.float64
    assert double.batch_sizes is packed.batch_sizes and packed.to(mt.float32) is packed
    rebuilt = PackedSequence(packed.data * 2, packed.batch_sizes, packed.sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == [1, 0]
    assert PackedSequence((data, batch_sizes)).sorted_indices is None
    assert not packed.is_cuda
    assert invert_permutation(mt.tensor([2, 0, 3, 1])).tolist() == [1, 3, 0, 2]
    assert invert_permutation(None) is None


def test_errors():
    x = mt.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match=r"equal to batch_size, but got 2 \(batch_size=3\)"):
        pack_padded_sequence(x, [3, 2])
    with pytest.raises(RuntimeError, match="a length \\(5\\) exceeds the padded sequence length 4"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(RuntimeError, match="should be 1-D"):
        pack_padded_sequence(x, [[3, 2, 1]])
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
        pack_padded_sequence(mt.zeros(0, 3, 2), [1, 1, 1])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(pack_padded_sequence(x, [3, 2, 1]), total_length=2)
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        pad_packed_sequence(x)
    with pytest.raises(RuntimeError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="same trailing dims"):
        pad_sequence([mt.zeros(2, 3), mt.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="padding_side to be one of left or right"):
        pad_sequence([mt.zeros(2)], padding_side="middle")
