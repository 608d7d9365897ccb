"""mytorch.nn: ``Module`` and ``Parameter``, layers, losses, initialization and checkpoints.

>>> import mytorch.core as mt
>>> import mytorch.nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model(mt.randn(3, 4)).shape
(3, 2)
>>> list(model.state_dict())
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from mytorch.nn import functional, init, utils
from mytorch.nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from mytorch.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from mytorch.nn.channelshuffle import ChannelShuffle
from mytorch.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from mytorch.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from mytorch.nn.distance import CosineSimilarity, PairwiseDistance
from mytorch.nn.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from mytorch.nn.flatten import Flatten, Unflatten
from mytorch.nn.instancenorm import InstanceNorm1d, InstanceNorm2d
from mytorch.nn.linear import Bilinear, Identity, Linear
from mytorch.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)
from mytorch.nn.module import Module, RemovableHandle
from mytorch.nn.normalization import GroupNorm, LayerNorm, RMSNorm
from mytorch.nn.parameter import Parameter
from mytorch.nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from mytorch.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from mytorch.nn.serialization import load, save
from mytorch.nn.sparse import Embedding
from mytorch.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

try:
    __version__ = _version("mytorch-nn")  # the version lives in pyproject.toml only
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
