"""mytorch.vision.models: parameter counts and state_dict keys equal to torchvision's, forward
shapes, one SGD step lowering the loss, and the building blocks (SE, CBAM, stochastic depth,
channel shuffle, option-A shortcuts)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
import mytorch.nn.functional as F
from mytorch.core.grad_mode import no_grad
from mytorch.core.optim import SGD
from mytorch.vision import models

# torchvision's parameter counts and state_dict sizes at 1000 classes (CIFAR ResNets: 10 classes)
PARAMS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "shufflenet_v2_x0_5": 1_366_792,
    "shufflenet_v2_x1_0": 2_278_604,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "efficientnet_b0": 5_288_548,
    "resnet20": 269_722,
    "resnet56": 853_018,
    "lenet5": 61_706,
}
STATE_DICT_LEN = {
    "resnet18": 122,
    "resnet34": 218,
    "resnet50": 320,
    "mobilenet_v2": 314,
    "shufflenet_v2_x0_5": 338,
    "shufflenet_v2_x1_0": 338,
    "squeezenet1_0": 52,
    "squeezenet1_1": 52,
    "efficientnet_b0": 360,
    "resnet20": 116,
    "resnet56": 332,
    "lenet5": 10,
}
# torchvision key names with their shapes
KEYS = {
    "resnet18": {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.weight": (64,),
        "bn1.running_mean": (64,),
        "bn1.num_batches_tracked": (),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer1.1.bn2.bias": (64,),
        "layer2.0.conv1.weight": (128, 64, 3, 3),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer2.0.downsample.1.running_var": (128,),
        "layer4.1.conv2.weight": (512, 512, 3, 3),
        "fc.weight": (1000, 512),
        "fc.bias": (1000,),
    },
    "resnet34": {
        "layer2.3.bn1.weight": (128,),
        "layer3.5.conv2.weight": (256, 256, 3, 3),
        "layer4.0.downsample.0.weight": (512, 256, 1, 1),
        "fc.weight": (1000, 512),
    },
    "resnet50": {
        "layer1.0.conv1.weight": (64, 64, 1, 1),
        "layer1.0.conv3.weight": (256, 64, 1, 1),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "layer2.0.conv2.weight": (128, 128, 3, 3),
        "layer3.5.conv2.weight": (256, 256, 3, 3),
        "layer4.2.bn3.running_mean": (2048,),
        "fc.weight": (1000, 2048),
    },
    "mobilenet_v2": {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.0.1.running_mean": (32,),
        "features.1.conv.0.0.weight": (32, 1, 3, 3),
        "features.1.conv.1.weight": (16, 32, 1, 1),
        "features.1.conv.2.weight": (16,),
        "features.2.conv.0.0.weight": (96, 16, 1, 1),
        "features.2.conv.1.0.weight": (96, 1, 3, 3),
        "features.2.conv.2.weight": (24, 96, 1, 1),
        "features.2.conv.3.running_var": (24,),
        "features.17.conv.2.weight": (320, 960, 1, 1),
        "features.18.0.weight": (1280, 320, 1, 1),
        "features.18.1.bias": (1280,),
        "classifier.1.weight": (1000, 1280),
        "classifier.1.bias": (1000,),
    },
    "shufflenet_v2_x1_0": {
        "conv1.0.weight": (24, 3, 3, 3),
        "conv1.1.running_mean": (24,),
        "stage2.0.branch1.0.weight": (24, 1, 3, 3),
        "stage2.0.branch1.2.weight": (58, 24, 1, 1),
        "stage2.0.branch2.0.weight": (58, 24, 1, 1),
        "stage2.1.branch2.0.weight": (58, 58, 1, 1),
        "stage2.1.branch2.3.weight": (58, 1, 3, 3),
        "stage3.7.branch2.6.running_var": (116,),
        "stage4.3.branch2.5.weight": (232, 232, 1, 1),
        "conv5.0.weight": (1024, 464, 1, 1),
        "fc.weight": (1000, 1024),
    },
    "shufflenet_v2_x0_5": {
        "stage2.0.branch1.0.weight": (24, 1, 3, 3),
        "stage4.0.branch1.2.weight": (96, 96, 1, 1),
        "conv5.0.weight": (1024, 192, 1, 1),
    },
    "squeezenet1_0": {
        "features.0.weight": (96, 3, 7, 7),
        "features.3.squeeze.weight": (16, 96, 1, 1),
        "features.3.expand1x1.weight": (64, 16, 1, 1),
        "features.3.expand3x3.weight": (64, 16, 3, 3),
        "features.12.expand3x3.bias": (256,),
        "classifier.1.weight": (1000, 512, 1, 1),
        "classifier.1.bias": (1000,),
    },
    "squeezenet1_1": {
        "features.0.weight": (64, 3, 3, 3),
        "features.3.squeeze.weight": (16, 64, 1, 1),
        "features.12.expand1x1.weight": (256, 64, 1, 1),
        "classifier.1.weight": (1000, 512, 1, 1),
    },
    "efficientnet_b0": {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.0.1.weight": (32,),
        "features.1.0.block.0.0.weight": (32, 1, 3, 3),
        "features.1.0.block.1.fc1.weight": (8, 32, 1, 1),
        "features.1.0.block.1.fc1.bias": (8,),
        "features.1.0.block.1.fc2.weight": (32, 8, 1, 1),
        "features.1.0.block.2.0.weight": (16, 32, 1, 1),
        "features.2.0.block.0.0.weight": (96, 16, 1, 1),
        "features.2.0.block.1.0.weight": (96, 1, 3, 3),
        "features.2.0.block.2.fc1.weight": (4, 96, 1, 1),
        "features.3.0.block.1.0.weight": (144, 1, 5, 5),
        "features.6.3.block.3.1.running_mean": (192,),
        "features.7.0.block.3.0.weight": (320, 1152, 1, 1),
        "features.8.0.weight": (1280, 320, 1, 1),
        "classifier.1.weight": (1000, 1280),
    },
    "resnet20": {
        "conv1.weight": (16, 3, 3, 3),
        "layer1.2.conv2.weight": (16, 16, 3, 3),
        "layer2.0.conv1.weight": (32, 16, 3, 3),
        "layer3.2.bn2.running_var": (64,),
        "fc.weight": (10, 64),
    },
    "resnet56": {"layer3.8.conv2.weight": (64, 64, 3, 3), "fc.bias": (10,)},
    "lenet5": {
        "features.0.weight": (6, 1, 5, 5),
        "features.3.weight": (16, 6, 5, 5),
        "classifier.0.weight": (120, 400),
        "classifier.2.weight": (84, 120),
        "classifier.4.weight": (10, 84),
    },
}


@functools.cache
def default_model(name: str) -> nn.Module:
    """The model at its default configuration, built once (tests only read it)."""
    mt.manual_seed(0)
    return models.get_model(name)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------ torchvision structure


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_count_matches_torchvision(name):
    assert count_params(default_model(name)) == PARAMS[name]


@pytest.mark.parametrize("name", sorted(STATE_DICT_LEN))
def test_state_dict_keys_and_shapes_match_torchvision(name):
    sd = default_model(name).state_dict()
    assert len(sd) == STATE_DICT_LEN[name]
    for key, shape in KEYS.get(name, {}).items():
        assert key in sd, f"{name}: missing torchvision key {key!r}"
        assert tuple(sd[key].shape) == shape, key


def test_state_dict_round_trip_between_instances():
    src, dst = models.shufflenet_v2_x0_5(num_classes=5), models.shufflenet_v2_x0_5(num_classes=5)
    result = dst.load_state_dict(src.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    np.testing.assert_array_equal(
        dst.stage3[2].branch2[3].weight.data,
        src.stage3[2].branch2[3].weight.data,
    )


def test_unet_parameter_count_and_keys():
    # the standard 4-level U-Net (64 base channels, transposed-convolution decoder)
    model = models.UNet(in_channels=3, num_classes=2)
    assert count_params(model) == 31_037_698
    bilinear = models.UNet(in_channels=3, num_classes=2, bilinear=True)
    assert count_params(bilinear) == 17_263_042
    sd = model.state_dict()
    assert len(sd) == 118
    assert tuple(sd["inc.double_conv.0.weight"].shape) == (64, 3, 3, 3)
    assert tuple(sd["downs.3.maxpool_conv.1.double_conv.3.weight"].shape) == (1024, 1024, 3, 3)
    assert tuple(sd["ups.0.up.weight"].shape) == (1024, 512, 2, 2)  # ConvTranspose2d
    assert tuple(sd["ups.3.conv.double_conv.0.weight"].shape) == (64, 128, 3, 3)
    assert tuple(sd["outc.conv.weight"].shape) == (2, 64, 1, 1)
    assert not any(k.startswith("ups.0.up") for k in bilinear.state_dict())  # Upsample: no params


# ------------------------------------------------------------------ forward and one SGD step

# (builder kwargs, input shape, output shape); small inputs keep the suite fast, but ImageNet
# models get 64x64: at 32x32 their last stages are 1x1, and BatchNorm over a batch of 2 single
# pixels makes the loss so sharp that no fixed learning rate is a safe step
TRAIN_CASES = {
    "lenet5": (dict(num_classes=10), (2, 1, 28, 28), (2, 10)),
    "lenet5_32": (dict(num_classes=10, input_size=32, in_channels=3), (2, 3, 32, 32), (2, 10)),
    "resnet18": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "resnet18_small": (
        dict(num_classes=10, small_input=True, in_channels=1),
        (2, 1, 28, 28),
        (2, 10),
    ),
    "resnet34": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "resnet50": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "se_resnet18": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "cbam_resnet18": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "resnet20": (dict(num_classes=10), (2, 3, 32, 32), (2, 10)),
    "resnet56": (dict(num_classes=10), (2, 3, 16, 16), (2, 10)),
    "mobilenet_v2": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "mobilenet_v2_w05": (dict(num_classes=10, width_mult=0.5), (2, 3, 64, 64), (2, 10)),
    "shufflenet_v2_x0_5": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "shufflenet_v2_x1_0": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "squeezenet1_0": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "squeezenet1_1": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "efficientnet_b0": (dict(num_classes=10), (2, 3, 64, 64), (2, 10)),
    "unet": (dict(in_channels=1, num_classes=3, depth=2, base_channels=8), (2, 1, 16, 16), None),
    "unet_bilinear": (
        dict(in_channels=3, num_classes=2, depth=3, base_channels=8, bilinear=True),
        (2, 3, 16, 16),
        None,
    ),
}


def _builder(case: str):
    name = case.split("_small")[0].split("_w05")[0].split("_bilinear")[0]
    name = "lenet5" if case.startswith("lenet5") else name
    return models.get_model(name, **TRAIN_CASES[case][0])


def _loss(model: nn.Module, x: mt.Tensor, target: mt.Tensor, seed: int) -> mt.Tensor:
    mt.manual_seed(seed)  # the same dropout / stochastic-depth masks on every call
    return F.cross_entropy(model(x), target)


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_forward_shape_and_sgd_step_lowers_loss(case):
    kwargs, in_shape, out_shape = TRAIN_CASES[case]
    mt.manual_seed(1)
    model = _builder(case)
    x = mt.randn(*in_shape)
    if out_shape is None:  # segmentation: per-pixel classes, output size == input size
        out_shape = (in_shape[0], kwargs["num_classes"], *in_shape[2:])
        target = mt.randint(0, kwargs["num_classes"], (in_shape[0], *in_shape[2:]))
    else:
        target = mt.tensor([1, 7])
    model.train()
    out = model(x)
    assert out.shape == out_shape
    assert out.dtype == mt.float32
    assert np.isfinite(out.data).all()

    opt = SGD(model.parameters(), lr=0.01)
    loss = _loss(model, x, target, seed=2)
    opt.zero_grad()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads), "every parameter takes part in the forward"
    opt.step()
    assert _loss(model, x, target, seed=2).item() < loss.item()


def test_eval_mode_is_deterministic_and_batch_independent():
    mt.manual_seed(3)
    model = models.efficientnet_b0(num_classes=4).eval()  # dropout and stochastic depth off
    x = mt.randn(3, 3, 32, 32)
    with no_grad():
        a, b = model(x), model(x)
        single = model(x[1:2])
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(single.data, a.data[1:2], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ ResNet options


def test_resnet_small_input_stem():
    model = models.resnet18(num_classes=10, small_input=True, in_channels=1)
    assert tuple(model.conv1.weight.shape) == (64, 1, 3, 3)
    assert model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    # same keys as the ImageNet ResNet-18 (only conv1's shape differs)
    assert list(model.state_dict()) == list(default_model("resnet18").state_dict())
    features = []
    model.layer4.register_forward_hook(lambda m, i, o: features.append(o.shape))
    with no_grad():
        model.eval()(mt.randn(1, 1, 28, 28))
    assert features == [(1, 512, 4, 4)]  # 28 -> 28 -> 14 -> 7 -> 4


@pytest.mark.parametrize("builder", [models.resnet18, models.resnet50])
def test_resnet_zero_init_residual(builder):
    model = builder(num_classes=10, zero_init_residual=True)
    last_bns = [b.bn3 if isinstance(b, models.Bottleneck) else b.bn2 for b in _blocks(model)]
    assert len(last_bns) == (8 if builder is models.resnet18 else 16)
    assert all((bn.weight.data == 0).all() for bn in last_bns)
    assert all((b.bn1.weight.data == 1).all() for b in _blocks(model))
    # an identity block then computes relu(x)
    block = model.layer1[1]
    x = mt.randn(2, block.conv1.in_channels, 8, 8)
    with no_grad():
        np.testing.assert_allclose(block.eval()(x).data, np.maximum(x.data, 0), atol=1e-6)


def _blocks(model):
    return [b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer]


def test_resnet_default_init():
    mt.manual_seed(0)
    model = models.resnet50()
    w = model.layer3[1].conv2.weight.data  # (256, 256, 3, 3): kaiming normal, fan_out, relu
    np.testing.assert_allclose(w.std(), np.sqrt(2.0 / (256 * 9)), rtol=0.02)
    assert abs(w.mean()) < 3 * np.sqrt(2.0 / (256 * 9)) / np.sqrt(w.size)
    assert (model.bn1.weight.data == 1).all() and (model.bn1.bias.data == 0).all()
    fc = model.fc.weight.data  # Linear keeps its default U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(fc).max() <= 1 / np.sqrt(2048)
    np.testing.assert_allclose(fc.std(), 1 / np.sqrt(3 * 2048), rtol=0.02)


@pytest.mark.parametrize(
    ("builder", "keys"),
    [
        (models.se_resnet18, {"layer1.0.attention.fc1.weight": (4, 64, 1, 1)}),
        (
            models.cbam_resnet18,
            {
                "layer4.1.attention.channel_attention.mlp.0.weight": (32, 512, 1, 1),
                "layer4.1.attention.channel_attention.mlp.2.weight": (512, 32, 1, 1),
                "layer1.0.attention.spatial_attention.conv.weight": (1, 2, 7, 7),
            },
        ),
    ],
)
def test_attention_resnets_add_attention_to_every_block(builder, keys):
    model = builder(num_classes=10)
    assert all("attention" in b._modules for b in _blocks(model))
    sd = model.state_dict()
    for key, shape in keys.items():
        assert tuple(sd[key].shape) == shape
    base = set(default_model("resnet18").state_dict())
    assert base < set(sd)
    assert all(".attention." in k for k in set(sd) - base)


def test_resnet50_block_attention_argument():
    model = models.resnet50(num_classes=3, block_attention="se")
    assert isinstance(model.layer2[0].attention, models.SqueezeExcitation)
    assert model.layer2[0].attention.fc1.out_channels == 512 // 16


def test_resnet_rejects_unknown_attention():
    with pytest.raises(ValueError, match="block_attention must be None, 'se' or 'cbam'"):
        models.resnet18(block_attention="eca")


def test_builders_reject_pretrained_weights():
    with pytest.raises(ValueError, match="pretrained weights are not available"):
        models.resnet18(weights="IMAGENET1K_V1")


def test_get_model_and_list_models():
    names = models.list_models()
    assert {"resnet18", "mobilenet_v2", "efficientnet_b0", "unet", "lenet5"} <= set(names)
    assert names == sorted(names)
    assert isinstance(models.get_model("SqueezeNet1_1", num_classes=3), models.SqueezeNet)
    with pytest.raises(ValueError, match="Unknown model 'vgg16'"):
        models.get_model("vgg16")


# ------------------------------------------------------------------ CIFAR ResNet


def test_cifar_resnet_option_a_shortcut():
    block = models.resnet20().layer2[0]
    assert isinstance(block.downsample, models.PadShortcut)
    assert list(block.downsample.parameters()) == []
    x = mt.randn(2, 16, 8, 8)
    out = block.downsample(x)
    assert out.shape == (2, 32, 4, 4)
    expected = np.zeros((2, 32, 4, 4), np.float32)
    expected[:, 8:24] = x.data[:, :, ::2, ::2]  # subsampled, zero channels on both sides
    np.testing.assert_array_equal(out.data, expected)
    assert models.resnet20().layer1[0].downsample is None


def test_cifar_resnet_shortcut_gradient():
    shortcut = models.PadShortcut(4, 8, 2)
    x = mt.randn(1, 4, 4, 4, requires_grad=True)
    shortcut(x).sum().backward()
    expected = np.zeros((1, 4, 4, 4), np.float32)
    expected[:, :, ::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize(("builder", "depth"), [(models.resnet20, 20), (models.resnet56, 56)])
def test_cifar_resnet_depth(builder, depth):
    model = builder()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) + len(linears) == depth
    assert [len(model.layer1), len(model.layer2), len(model.layer3)] == [(depth - 2) // 6] * 3


# ------------------------------------------------------------------ MobileNetV2 / EfficientNet


def test_make_divisible():
    assert models.make_divisible(32 * 0.5, 8) == 16
    assert models.make_divisible(32 * 0.75, 8) == 24
    assert models.make_divisible(1280 * 1.4, 8) == 1792
    assert models.make_divisible(3, 8) == 8  # never below the divisor
    assert models.make_divisible(92, 8) == 96  # nearest multiple
    assert models.make_divisible(83, 8) == 80
    assert models.make_divisible(11, 8) == 16  # 8 < 0.9 * 11, so one more step


def test_mobilenet_v2_width_mult_and_residuals():
    model = models.mobilenet_v2(width_mult=0.5)
    assert tuple(model.features[0][0].weight.shape) == (16, 3, 3, 3)
    assert model.last_channel == 1280  # never below 1280
    assert models.mobilenet_v2(width_mult=1.4).last_channel == 1792
    blocks = list(model.features)[1:-1]
    assert len(blocks) == 17
    assert [b.use_res_connect for b in blocks].count(True) == 10
    assert len(blocks[0].conv) == 3 and len(blocks[1].conv) == 4  # t=1 has no expansion conv
    assert isinstance(blocks[1].conv[0][2], nn.ReLU6)


def test_mobilenet_v2_init():
    mt.manual_seed(0)
    model = models.mobilenet_v2()
    w = model.classifier[1].weight.data
    np.testing.assert_allclose(w.std(), 0.01, rtol=0.02)
    assert (model.classifier[1].bias.data == 0).all()
    conv = model.features[18][0].weight.data  # (1280, 320, 1, 1), kaiming normal fan_out
    np.testing.assert_allclose(conv.std(), np.sqrt(2.0 / 1280), rtol=0.02)


def test_efficientnet_b0_structure():
    model = default_model("efficientnet_b0")
    stages = list(model.features)[1:-1]
    assert [len(s) for s in stages] == [1, 2, 2, 3, 3, 4, 1]
    blocks = [b for s in stages for b in s]
    probs = [b.stochastic_depth.p for b in blocks]
    np.testing.assert_allclose(probs, [0.2 * i / 16 for i in range(16)])
    assert [b.use_res_connect for b in blocks].count(True) == 9
    se = blocks[0].block[1]
    assert isinstance(se, models.SqueezeExcitation)
    assert isinstance(se.activation, nn.SiLU) and isinstance(se.scale_activation, nn.Sigmoid)
    assert isinstance(model.features[0][2], nn.SiLU)
    assert len(blocks[0].block[2]) == 2  # projection: conv + BN, no activation
    assert model.classifier[0].p == 0.2
    w = model.classifier[1].weight.data  # U(-1/sqrt(out), 1/sqrt(out))
    assert np.abs(w).max() <= 1 / np.sqrt(1000)
    np.testing.assert_allclose(w.std(), 1 / np.sqrt(3 * 1000), rtol=0.02)
    assert (model.classifier[1].bias.data == 0).all()


def test_efficientnet_stochastic_depth_only_in_training():
    mt.manual_seed(4)
    cnf = models.MBConvConfig(6, 5, 1, 192, 192, 1)
    block = models.MBConv(cnf, 0.1875, nn.BatchNorm2d).eval()  # residual block
    x = mt.randn(64, 192, 2, 2)
    with no_grad():
        branch = block.block(x).data  # the residual branch
        np.testing.assert_allclose(block(x).data, branch + x.data, rtol=1e-5, atol=1e-5)
        block.stochastic_depth.train()  # BatchNorm stays in eval mode
        out = block(x).data
    # in training each sample's branch is either dropped or scaled by 1 / (1 - p)
    dropped = np.isclose(out, x.data, atol=1e-6).all(axis=(1, 2, 3))
    kept = np.isclose(out - x.data, branch / (1 - 0.1875), rtol=1e-4, atol=1e-5).all((1, 2, 3))
    assert (dropped ^ kept).all()
    assert 2 <= dropped.sum() <= 26  # ~ 12 of 64


# ------------------------------------------------------------------ building blocks


def test_stochastic_depth_modes():
    x = mt.ones(400, 2, 3, 3)
    mt.manual_seed(0)
    out = models.stochastic_depth(x, 0.25, "row").data
    rows = out.reshape(400, -1)
    assert set(np.unique(rows)) <= {0.0, np.float32(1 / 0.75)}
    assert (rows == rows[:, :1]).all()  # one decision per sample
    assert 70 <= (rows[:, 0] == 0).sum() <= 130  # ~ 100 of 400 dropped
    batch = models.stochastic_depth(x, 0.5, "batch").data
    assert len(np.unique(batch)) == 1
    assert models.stochastic_depth(x, 0.5, "row", training=False) is x
    assert models.stochastic_depth(x, 0.0, "row") is x
    assert (models.stochastic_depth(x, 1.0, "row").data == 0).all()
    sd = models.StochasticDepth(0.3, "row")
    assert repr(sd) == "StochasticDepth(p=0.3, mode=row)"
    assert sd.eval()(x) is x


@pytest.mark.parametrize(
    ("p", "mode", "match"),
    [
        (1.5, "row", "drop probability has to be between 0 and 1, but got 1.5"),
        (-0.1, "row", "drop probability has to be between 0 and 1"),
        (0.1, "col", "mode has to be either 'batch' or 'row', but got col"),
    ],
)
def test_stochastic_depth_errors(p, mode, match):
    with pytest.raises(ValueError, match=match):
        models.stochastic_depth(mt.ones(2, 2), p, mode)


def test_squeeze_excitation_matches_formula():
    mt.manual_seed(5)
    se = models.SqueezeExcitation(6, 3)
    x = mt.randn(2, 6, 4, 5)
    with no_grad():
        out = se(x).data
    w1, b1 = se.fc1.weight.data[:, :, 0, 0], se.fc1.bias.data
    w2, b2 = se.fc2.weight.data[:, :, 0, 0], se.fc2.bias.data
    s = x.data.mean(axis=(2, 3))  # (B, C)
    s = np.maximum(s @ w1.T + b1, 0) @ w2.T + b2
    scale = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(out, x.data * scale[:, :, None, None], rtol=1e-5, atol=1e-6)
    assert [n for n, _ in se.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]


def test_cbam_matches_formula():
    mt.manual_seed(6)
    cbam = models.CBAM(8, reduction=4)
    x = mt.randn(2, 8, 5, 5)
    with no_grad():
        out = cbam(x).data
    w1 = cbam.channel_attention.mlp[0].weight.data[:, :, 0, 0]  # (2, 8)
    w2 = cbam.channel_attention.mlp[2].weight.data[:, :, 0, 0]  # (8, 2)

    def mlp(v):
        return np.maximum(v @ w1.T, 0) @ w2.T

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    ca = sigmoid(mlp(x.data.mean(axis=(2, 3))) + mlp(x.data.max(axis=(2, 3))))
    y = x.data * ca[:, :, None, None]
    maps = np.stack([y.mean(axis=1), y.max(axis=1)], axis=1)  # (B, 2, H, W): [avg, max]
    k = cbam.spatial_attention.conv.weight.data[0]  # (2, 7, 7)
    padded = np.pad(maps, ((0, 0), (0, 0), (3, 3), (3, 3)))
    sa = np.zeros((2, 5, 5), np.float32)
    for i in range(5):
        for j in range(5):
            sa[:, i, j] = (padded[:, :, i : i + 7, j : j + 7] * k).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(out, y * sigmoid(sa)[:, None], rtol=1e-4, atol=1e-5)
    assert len(list(cbam.parameters())) == 3  # two bias-free 1x1 convs and the 7x7 conv


def test_spatial_attention_rejects_even_kernel():
    with pytest.raises(ValueError, match="kernel_size must be odd, got 4"):
        models.SpatialAttention(4)


def test_channel_shuffle():
    x = mt.arange(2 * 6 * 2 * 1, dtype=mt.float32).reshape(2, 6, 2, 1)
    out = models.channel_shuffle(x, 2).data
    order = [0, 3, 1, 4, 2, 5]
    np.testing.assert_array_equal(out, x.data[:, order])
    out3 = models.channel_shuffle(x, 3).data
    np.testing.assert_array_equal(out3, x.data[:, [0, 2, 4, 1, 3, 5]])
    np.testing.assert_array_equal(F.channel_shuffle(x, 3).data, out3)  # the functional op agrees


def test_shufflenet_unit_errors_and_split():
    with pytest.raises(ValueError, match="illegal stride value"):
        models.shufflenetv2.InvertedResidual(24, 24, 4)
    with pytest.raises(ValueError, match="If stride == 1 then inp should be equal to"):
        models.shufflenetv2.InvertedResidual(24, 48, 1)
    unit = models.shufflenetv2.InvertedResidual(8, 8, 1)
    assert len(unit.branch1) == 0
    x = mt.randn(1, 8, 4, 4)
    with no_grad():
        out = unit.eval()(x).data
    np.testing.assert_array_equal(out[:, 0::2], x.data[:, :4])  # untouched half, interleaved


def test_conv2d_norm_activation():
    block = models.Conv2dNormActivation(4, 8, kernel_size=5, stride=2, groups=2)
    assert block[0].padding == (2, 2) and block[0].bias is None and block[0].groups == 2
    assert isinstance(block[1], nn.BatchNorm2d) and isinstance(block[2], nn.ReLU)
    plain = models.Conv2dNormActivation(4, 8, norm_layer=None, activation_layer=None)
    assert len(plain) == 1 and plain[0].bias is not None
    assert block(mt.randn(1, 4, 9, 9)).shape == (1, 8, 5, 5)


def test_squeezenet_classifier_and_init():
    mt.manual_seed(0)
    model = models.squeezenet1_0()
    assert isinstance(model.classifier[0], nn.Dropout) and model.classifier[0].p == 0.5
    final = model.classifier[1].weight.data
    np.testing.assert_allclose(final.std(), 0.01, rtol=0.02)
    assert all((m.bias.data == 0).all() for m in model.modules() if isinstance(m, nn.Conv2d))
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 1_2"):
        models.SqueezeNet("1_2")


def test_fire_concatenates_expand_branches():
    fire = models.Fire(8, 4, 6, 10)
    assert fire(mt.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)


# ------------------------------------------------------------------ LeNet-5 and U-Net


def test_lenet5_input_sizes():
    assert models.lenet5()(mt.randn(1, 1, 28, 28)).shape == (1, 10)
    model = models.LeNet5(num_classes=3, in_channels=3, input_size=32)
    assert model.features[0].padding == (0, 0)
    assert model(mt.randn(1, 3, 32, 32)).shape == (1, 3)
    assert isinstance(model.features[1], nn.Tanh) and isinstance(model.features[2], nn.AvgPool2d)
    relu = models.LeNet5(activation=nn.ReLU, pool=nn.MaxPool2d)
    assert isinstance(relu.features[1], nn.ReLU) and isinstance(relu.features[5], nn.MaxPool2d)
    with pytest.raises(ValueError, match="input_size must be 28 or 32, got 30"):
        models.LeNet5(input_size=30)


@pytest.mark.parametrize("bilinear", [False, True])
@pytest.mark.parametrize("size", [(16, 16), (16, 24), (18, 13)])
def test_unet_output_matches_input_size(bilinear, size):
    model = models.UNet(in_channels=2, num_classes=3, depth=2, base_channels=4, bilinear=bilinear)
    with no_grad():
        out = model.eval()(mt.randn(1, 2, *size))
    assert out.shape == (1, 3, *size)


def test_unet_depth_and_errors():
    model = models.UNet(depth=3, base_channels=4)
    assert len(model.downs) == 3 and len(model.ups) == 3
    assert model.downs[2].maxpool_conv[1].double_conv[3].out_channels == 32
    with pytest.raises(ValueError, match="depth must be at least 1, got 0"):
        models.UNet(depth=0)
