"""mytorch.vision: MNIST/FashionMNIST datasets and image transforms for mytorch.

>>> from mytorch.vision import datasets, transforms
>>> ds = datasets.MNIST(train=False, source="sample", transform=transforms.ToTensor())
>>> img, label = ds[0]
>>> img.shape, img.dtype
((1, 28, 28), dtype('float32'))
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from mytorch.vision import datasets, transforms

try:
    __version__ = _version("mytorch-vision")  # the version lives in pyproject.toml only
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
