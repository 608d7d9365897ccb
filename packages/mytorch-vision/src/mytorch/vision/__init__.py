"""mytorch.vision: MNIST/FashionMNIST datasets and image transforms for mytorch.

>>> from mytorch.vision import datasets, transforms
>>> ds = datasets.MNIST(train=False, source="sample", transform=transforms.ToTensor())
>>> img, label = ds[0]
>>> img.shape, img.dtype
((1, 28, 28), dtype('float32'))
"""

from mytorch.vision import datasets, transforms

__version__ = "0.1.0"
