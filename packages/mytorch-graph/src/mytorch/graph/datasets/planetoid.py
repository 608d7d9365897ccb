"""Cora and CiteSeer citation graphs with the Planetoid split (Yang et al. 2016), bundled.

Each is one graph: papers are nodes with binary bag-of-words features, citations are
undirected edges, the label is the paper's topic. The split is the standard one: 20 labelled
nodes per class for training, 500 for validation, 1,000 for test. The arrays ship with this
package (see ``data/README-cora.md`` and ``data/README-citeseer.md`` for their source and
licence) and their SHA-256 is checked on every load.

Only the bundled copy is offered: the original Planetoid distribution stores its arrays as
Python pickles of SciPy matrices, and loading a pickle can run arbitrary code, so this package
never reads them.

>>> ds = Planetoid(name="Cora")
>>> ds[0]
Data(x=[2708, 1433], edge_index=[2, 10556], y=[2708], train_mask=[2708], val_mask=[2708], test_mask=[2708])
>>> ds.num_classes, int(ds[0].train_mask.sum())
(7, 140)
"""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np

import mytorch.core as mt
from mytorch.graph.data import Data

__all__ = ["Planetoid"]

# name -> (file, sha256, classes)
_FILES = {
    "cora": ("cora.npz", "85fc3835bb99a51c27481f22378124470a9510785fd2fe769f8de3494c91584d", 7),
    "citeseer": (
        "citeseer.npz",
        "6a37cae2b6d56eb2820d547fd21aaef4b4997e05cd5f4637a32ab8848f198dfa",
        6,
    ),
}


def load_arrays(name: str) -> dict[str, np.ndarray]:
    """The bundled arrays of ``name`` (features, labels, edge_index, *_index), checksum-checked."""
    key = name.lower()
    if key not in _FILES:
        raise ValueError(f"Planetoid: name must be Cora or CiteSeer, got {name!r}")
    filename, sha256, _ = _FILES[key]
    blob = resources.files("mytorch.graph.datasets").joinpath("data", filename).read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise RuntimeError(
            f"Planetoid: bundled {filename} is corrupt: sha256 {digest}, expected {sha256}"
        )
    import io

    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


class Planetoid:
    """``Planetoid(root, name)``: a one-graph dataset; ``dataset[0]`` is a ``Data`` with
    x (N, F) float32, y (N,) int64, edge_index (2, E) and train/val/test bool masks.

    ``root`` is accepted for PyTorch Geometric compatibility and unused (the data is bundled).
    ``transform`` is applied to the graph on access (e.g. ``NormalizeFeatures()``).
    CiteSeer has 15 isolated nodes without a label (y = -1); they are in no split.
    """

    def __init__(self, root: str | None = None, name: str = "Cora", transform=None) -> None:
        self.root, self.name, self.transform = root, name, transform
        arrays = load_arrays(name)
        n = arrays["labels"].shape[0]
        masks = {}
        for split in ("train", "val", "test"):
            mask = np.zeros(n, bool)
            mask[arrays[f"{split}_index"]] = True
            masks[f"{split}_mask"] = mt.from_numpy(mask)
        self._data = Data(
            x=mt.from_numpy(arrays["features"].astype(np.float32)),
            edge_index=mt.from_numpy(arrays["edge_index"].astype(np.int64)),
            y=mt.from_numpy(arrays["labels"].astype(np.int64)),
            **masks,
        )
        self.num_classes = _FILES[name.lower()][2]

    @property
    def num_features(self) -> int:
        return self._data.num_features

    @property
    def num_node_features(self) -> int:
        return self._data.num_features

    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> Data:
        if i not in (0, -1):
            raise IndexError(f"{self.name} has one graph; index {i} is out of range")
        data = self._data.clone()
        return self.transform(data) if self.transform is not None else data

    def __repr__(self) -> str:
        return f"{self.name}()"
