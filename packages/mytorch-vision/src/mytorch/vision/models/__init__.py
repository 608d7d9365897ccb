"""mytorch.vision.models: image classification and segmentation networks.

The torchvision models here (ResNet, MobileNetV2, ShuffleNetV2, SqueezeNet, EfficientNet) keep
torchvision's module names, so ``model.load_state_dict(torchvision_state_dict)`` works without
renaming keys, and torchvision's initialization. Also: LeNet-5, the CIFAR ResNets of He et
al. (``resnet20``...), ResNets with SE or CBAM attention and a U-Net. Builders take
torchvision's keyword arguments (``num_classes=...``; ``weights`` must stay ``None``: no
pretrained weights are bundled).

>>> import mytorch.core as mt
>>> from mytorch.vision import models
>>> model = models.get_model("resnet18", num_classes=10)
>>> model(mt.randn(2, 3, 64, 64)).shape
(2, 10)
>>> "mobilenet_v2" in models.list_models()
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytorch import nn
from mytorch.vision.models.attention import (
    CBAM,
    ChannelAttention,
    SpatialAttention,
    SqueezeExcitation,
)
from mytorch.vision.models.cifar_resnet import (
    CifarBasicBlock,
    CifarResNet,
    PadShortcut,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
)
from mytorch.vision.models.efficientnet import (
    EfficientNet,
    MBConv,
    MBConvConfig,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
)
from mytorch.vision.models.layers import (
    Conv2dNormActivation,
    StochasticDepth,
    make_divisible,
    stochastic_depth,
)
from mytorch.vision.models.lenet import LeNet5, lenet5
from mytorch.vision.models.mobilenetv2 import MobileNetV2, mobilenet_v2
from mytorch.vision.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    cbam_resnet18,
    resnet18,
    resnet34,
    resnet50,
    se_resnet18,
)
from mytorch.vision.models.shufflenetv2 import (
    ShuffleNetV2,
    channel_shuffle,
    shufflenet_v2_x0_5,
    shufflenet_v2_x1_0,
    shufflenet_v2_x1_5,
    shufflenet_v2_x2_0,
)
from mytorch.vision.models.squeezenet import Fire, SqueezeNet, squeezenet1_0, squeezenet1_1
from mytorch.vision.models.unet import UNet

_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    fn.__name__: fn
    for fn in (
        lenet5,
        resnet18,
        resnet34,
        resnet50,
        se_resnet18,
        cbam_resnet18,
        resnet20,
        resnet32,
        resnet44,
        resnet56,
        resnet110,
        mobilenet_v2,
        shufflenet_v2_x0_5,
        shufflenet_v2_x1_0,
        shufflenet_v2_x1_5,
        shufflenet_v2_x2_0,
        squeezenet1_0,
        squeezenet1_1,
        efficientnet_b0,
        efficientnet_b1,
        efficientnet_b2,
        efficientnet_b3,
        efficientnet_b4,
        efficientnet_b5,
        efficientnet_b6,
        efficientnet_b7,
    )
}
_BUILDERS["unet"] = UNet


def list_models() -> list[str]:
    """The names ``get_model`` accepts, sorted."""
    return sorted(_BUILDERS)


def get_model(name: str, **config: Any) -> nn.Module:
    """Build the model called ``name`` (see ``list_models()``) with keyword arguments ``config``."""
    try:
        builder = _BUILDERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}; available models: {', '.join(list_models())}"
        ) from None
    return builder(**config)


__all__ = [
    "CBAM",
    "BasicBlock",
    "Bottleneck",
    "ChannelAttention",
    "CifarBasicBlock",
    "CifarResNet",
    "Conv2dNormActivation",
    "EfficientNet",
    "Fire",
    "LeNet5",
    "MBConv",
    "MBConvConfig",
    "MobileNetV2",
    "PadShortcut",
    "ResNet",
    "ShuffleNetV2",
    "SpatialAttention",
    "SqueezeExcitation",
    "SqueezeNet",
    "StochasticDepth",
    "UNet",
    "cbam_resnet18",
    "channel_shuffle",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "get_model",
    "lenet5",
    "list_models",
    "make_divisible",
    "mobilenet_v2",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet44",
    "resnet50",
    "resnet56",
    "resnet110",
    "se_resnet18",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
    "squeezenet1_0",
    "squeezenet1_1",
    "stochastic_depth",
]
