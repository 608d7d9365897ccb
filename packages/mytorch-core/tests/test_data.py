"""Datasets, samplers, collation and DataLoader: batching, shuffling reproducibility, errors."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)


class Squares(Dataset):
    """Per-item dataset without batch gathering: (x as array, x**2 as int, tag)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(2, i, np.float32), i * i, f"s{i}"

    def __len__(self) -> int:
        return self.n


class Stream(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def _xy(n=10):
    x = mt.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    return x, mt.arange(n)


# ---------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_len():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[4]
    assert isinstance(xi, mt.Tensor) and xi.tolist() == [12.0, 13.0, 14.0] and yi.item() == 4
    assert yi.dtype == np.int64 and xi.dtype == np.float32


@pytest.mark.parametrize("shapes", [[(4, 2), (5,)], [(3,), (3, 1), (2, 3)]])
def test_tensor_dataset_size_mismatch(shapes):
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(*[mt.zeros(*s) for s in shapes])


def test_tensor_dataset_needs_tensors():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(mt.tensor(1.0))


def test_subset_and_concat():
    x, y = _xy()
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7 and sub[2][1].item() == 5
    assert [s[1].item() for s in sub.__getitems__([1, 0])] == [2, 7]
    both = ds + Squares(4)
    assert isinstance(both, ConcatDataset) and len(both) == 14
    assert both[10][1] == 0 and both[13][1] == 9 and both[-1][1] == 9 and both[3][1].item() == 3
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        both[-15]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Stream(3)])


@pytest.mark.parametrize(
    "n,lengths,expected",
    [
        (10, [3, 7], [3, 7]),
        (10, [0.3, 0.7], [3, 7]),
        (10, [0.25, 0.25, 0.5], [3, 2, 5]),  # floors 2, 2, 5; the remainder 1 goes to the first
        (11, [1 / 3, 1 / 3, 1 / 3], [4, 4, 3]),
        (7, [7], [7]),
        (5, [1.0], [5]),
    ],
)
def test_random_split_lengths_and_fractions(n, lengths, expected):
    splits = random_split(Squares(n), lengths, generator=mt.Generator(0))
    assert [len(s) for s in splits] == expected
    seen = sorted(i for s in splits for i in s.indices)
    assert seen == list(range(n))  # a partition of the dataset


def test_random_split_matches_torch_lengths(torch):
    for n, lengths in [(10, [0.25, 0.25, 0.5]), (11, [1 / 3, 1 / 3, 1 / 3]), (17, [0.1, 0.9])]:
        ours = [len(s) for s in random_split(Squares(n), lengths)]
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        assert ours == theirs


def test_random_split_reproducible_and_errors():
    a = [s.indices for s in random_split(Squares(20), [5, 15], generator=mt.Generator(3))]
    b = [s.indices for s in random_split(Squares(20), [5, 15], generator=mt.Generator(3))]
    assert a == b
    mt.manual_seed(11)
    c = [s.indices for s in random_split(Squares(20), [5, 15])]
    mt.manual_seed(11)
    d = [s.indices for s in random_split(Squares(20), [5, 15])]
    assert c == d and c[0] != list(range(5))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Squares(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])


# ---------------------------------------------------------------------- collation
def test_default_collate_types():
    batch = default_collate(
        [(np.zeros(2, np.float64), 1, 2.5, True, "a"), (np.ones(2), 2, 3.5, False, "b")]
    )
    arr, ints, floats, bools, strs = batch
    assert isinstance(batch, list)  # tuples collate into a list, like torch
    assert arr.shape == (2, 2) and arr.dtype == np.float32  # float64 data -> default float
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2]
    assert floats.dtype == np.float32 and floats.tolist() == [2.5, 3.5]
    assert bools.dtype == np.bool_ and bools.tolist() == [True, False]
    assert strs == ["a", "b"]


def test_default_collate_tensors_dicts_and_nesting():
    samples = [{"x": mt.ones(2, 3) * i, "meta": {"id": i, "w": [float(i), 1.0]}} for i in range(4)]
    out = default_collate(samples)
    assert out["x"].shape == (4, 2, 3) and out["x"].dtype == np.float32
    assert out["x"][:, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out["meta"]["id"].tolist() == [0, 1, 2, 3]
    assert isinstance(out["meta"]["w"], list) and out["meta"]["w"][0].tolist() == [0, 1, 2, 3]
    ints = default_collate([mt.tensor([1, 2]), mt.tensor([3, 4])])
    assert ints.dtype == np.int64 and ints.tolist() == [[1, 2], [3, 4]]
    f64 = default_collate([mt.zeros(2, dtype=mt.float64)] * 3)
    assert f64.dtype == np.float64  # tensors keep their dtype
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype == np.float32
    scalars = default_collate([np.float32(1.5), np.float32(2.5)])
    assert scalars.dtype == np.float32 and scalars.tolist() == [1.5, 2.5]


def test_default_collate_matches_torch_values(torch):
    rs = np.random.default_rng(0)
    samples = [
        (rs.standard_normal((2, 3)).astype(np.float32), int(i), {"k": [i, i + 1]}) for i in range(5)
    ]
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    np.testing.assert_array_equal(ours[0].data, theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].data, theirs[1].numpy())
    np.testing.assert_array_equal(ours[2]["k"][1].data, theirs[2]["k"][1].numpy())


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([mt.zeros(2), mt.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert((np.arange(3), {"a": np.ones(2)}, "s", 4))
    assert isinstance(out, list) and isinstance(out[0], mt.Tensor) and out[0].dtype == np.int64
    assert isinstance(out[1]["a"], mt.Tensor) and out[2] == "s" and out[3] == 4


# ---------------------------------------------------------------------- samplers
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    rs = RandomSampler(range(6), generator=mt.Generator(0))
    first, second = list(rs), list(rs)
    assert sorted(first) == list(range(6)) and first != second and len(rs) == 6
    more = list(RandomSampler(range(4), num_samples=10, generator=mt.Generator(1)))
    assert (
        len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3] and sorted(more[4:8]) == [0, 1, 2, 3]
    )
    repl = list(
        RandomSampler(range(3), replacement=True, num_samples=50, generator=mt.Generator(2))
    )
    assert len(repl) == 50 and set(repl) <= {0, 1, 2}
    sub = list(SubsetRandomSampler([10, 20, 30], generator=mt.Generator(0)))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 40, generator=mt.Generator(0)))
    assert len(w) == 40 and set(w) <= {1, 3} and w.count(3) > w.count(1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,bs", [(10, 3), (9, 3), (2, 5), (7, 1)])
def test_batch_sampler_matches_torch(torch, n, bs, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
    theirs = torch.utils.data.BatchSampler(
        torch.utils.data.SequentialSampler(range(n)), bs, drop_last
    )
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    lazy = BatchSampler(iter(range(n)), bs, drop_last)  # a plain iterable is batched lazily
    assert list(lazy) == list(theirs)


def test_batch_sampler_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


# ---------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("bs", [1, 3, 4, 10, 16])
def test_loader_batches_tensor_dataset(bs, drop_last):
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    sizes = [len(b[1]) for b in batches]
    full, rest = divmod(10, bs)
    expected = [bs] * full + ([] if drop_last or rest == 0 else [rest])
    assert sizes == expected and len(loader) == len(expected)
    for xb, yb in batches:
        assert xb.shape[1:] == (3,) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert all(isinstance(b, list) for b in batches)  # tuples of tensors collate to lists
    got = [v for b in batches for v in b[1].tolist()]
    assert got == list(range(sum(expected)))


def test_loader_per_item_dataset_and_fast_path_agree():
    x = mt.tensor(np.repeat(np.arange(8, dtype=np.float32)[:, None], 2, axis=1))
    y = mt.tensor(np.arange(8) ** 2)

    class PerItem(Dataset):
        def __getitem__(self, i):
            return mt.tensor(x.data[i]), mt.tensor(y.data[i])

        def __len__(self):
            return 8

    fast = list(
        DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, generator=mt.Generator(5))
    )
    slow = list(DataLoader(PerItem(), batch_size=3, shuffle=True, generator=mt.Generator(5)))
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.data, sx.data)
        np.testing.assert_array_equal(fy.data, sy.data)


def test_loader_fast_path_is_one_fancy_index_per_tensor():
    calls = []

    class Gather(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            raise AssertionError("per-item access should not happen")

        def get_batch(self, idx):
            calls.append(idx.copy())
            return {"i": mt.tensor(idx)}

    batches = list(DataLoader(Subset(Gather(), [6, 5, 4, 3, 2, 1, 0]), batch_size=3))
    assert [b["i"].tolist() for b in batches] == [[6, 5, 4], [3, 2, 1], [0]]
    assert len(calls) == 3 and all(c.dtype == np.int64 for c in calls)


def test_loader_per_item_collation():
    loader = DataLoader(Squares(5), batch_size=2)
    arr, sq, tags = next(iter(loader))
    assert (
        arr.tolist() == [[0.0, 0.0], [1.0, 1.0]] and sq.tolist() == [0, 1] and tags == ["s0", "s1"]
    )
    assert len(loader) == 3 and [len(b[2]) for b in loader] == [2, 2, 1]


def test_loader_custom_collate_fn():
    def collate(batch):
        return sum(b[1] for b in batch), len(batch)

    loader = DataLoader(Squares(6), batch_size=4, collate_fn=collate)
    assert list(loader) == [(0 + 1 + 4 + 9, 4), (16 + 25, 2)]
    x, y = _xy(5)
    seen = []
    loader = DataLoader(
        TensorDataset(x, y), batch_size=2, collate_fn=lambda b: seen.append(b) or len(b)
    )
    assert list(loader) == [2, 2, 1]
    assert isinstance(seen[0], list) and isinstance(seen[0][0], tuple)  # per-sample tuples


def test_shuffle_reproducible_with_manual_seed_and_generator():
    x, y = _xy(20)
    ds = TensorDataset(x, y)

    def order(loader):
        return [yb.tolist() for _, yb in loader]

    mt.manual_seed(0)
    a = DataLoader(ds, batch_size=4, shuffle=True)
    mt.manual_seed(0)
    b = DataLoader(ds, batch_size=4, shuffle=True)
    epoch1_a, epoch1_b = order(a), order(b)
    assert epoch1_a == epoch1_b
    assert epoch1_a != order(DataLoader(ds, batch_size=4))  # it really shuffles
    assert sorted(sum(epoch1_a, [])) == list(range(20))
    assert order(a) == order(b) and order(a) != epoch1_a  # a new order each epoch, same for both
    mt.manual_seed(1)
    assert order(DataLoader(ds, batch_size=4, shuffle=True)) != epoch1_a

    g1, g2 = mt.Generator(7), mt.Generator(7)
    assert order(DataLoader(ds, batch_size=4, shuffle=True, generator=g1)) == order(
        DataLoader(ds, batch_size=4, shuffle=True, generator=g2)
    )


def test_loader_sampler_and_batch_sampler_options():
    x, y = _xy(6)
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b[1].tolist() for b in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = DataLoader(ds, batch_sampler=[[0, 5], [1], [2, 3, 4]])
    assert [b[1].tolist() for b in loader] == [[0, 5], [1], [2, 3, 4]] and len(loader) == 3
    loader = DataLoader(ds, batch_size=None)
    items = list(loader)
    assert len(loader) == 6 and isinstance(items[0], list) and items[2][1].item() == 2


def test_loader_iterable_dataset():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    loader = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"num_workers": 2}, NotImplementedError, "num_workers=2 is not supported"),
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"shuffle": True, "sampler": [0, 1]}, ValueError, "mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually"),
        (
            {"batch_sampler": [[0]], "drop_last": True},
            ValueError,
            "batch_sampler option is mutually",
        ),
        ({"batch_size": None, "drop_last": True}, ValueError, "disables auto-batching"),
        ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value"),
    ],
)
def test_loader_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        DataLoader(Squares(3), **kwargs)


def test_loader_len_matches_torch(torch):
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)]:
        ours = DataLoader(Squares(n), batch_size=bs, drop_last=drop)
        theirs = torch.utils.data.DataLoader(range(n), batch_size=bs, drop_last=drop)
        assert len(ours) == len(theirs) == len(list(ours))


def test_loader_does_not_warn_and_batches_train_a_step():
    x, y = _xy(8)
    w = mt.zeros(3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for xb, yb in DataLoader(TensorDataset(x, y.float()), batch_size=4, shuffle=True):
            diff = (xb * w).sum(1) - yb
            loss = (diff * diff).sum()
            loss.backward()
    assert w.grad is not None and w.grad.shape == (3,)


def test_loader_over_random_split_subsets_of_tensor_dataset():
    x, y = _xy(12)
    train, val = random_split(TensorDataset(x, y), [0.75, 0.25], generator=mt.Generator(4))
    seen = []
    for xb, yb in DataLoader(train, batch_size=4, shuffle=True, generator=mt.Generator(1)):
        np.testing.assert_array_equal(xb.data, x.data[yb.data])  # rows stay paired
        seen += yb.tolist()
    assert sorted(seen) == sorted(train.indices) and len(seen) == 9
    assert [b[1].tolist() for b in DataLoader(val, batch_size=5)] == [list(val.indices)]
