"""Data loading: datasets, samplers, ``DataLoader`` and collation, with PyTorch's API.

>>> import mytorch.core as mt
>>> from mytorch.core.data import DataLoader, TensorDataset
>>> x, y = mt.randn(10, 3), mt.arange(10)
>>> loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
>>> [tuple(xb.shape) for xb, yb in loader]
[(4, 3), (4, 3), (2, 3)]
"""

from mytorch.core.data.collate import default_collate, default_convert
from mytorch.core.data.dataloader import DataLoader
from mytorch.core.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from mytorch.core.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
]
