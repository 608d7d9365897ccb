"""Torch parity for mytorch.vision.models: the same architecture written in plain torch.nn
(torchvision is not a dependency), a torch state_dict loaded into the mytorch model without
renaming, and equal outputs (eval mode; also train mode and gradients for the small models)."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn.functional as F
from mytorch.core.grad_mode import no_grad
from mytorch.vision import models

# ------------------------------------------------------------------ torch reference models


def torch_resnet18(torch, num_classes: int, small_input: bool = False):
    """torchvision's ResNet-18, layer for layer."""
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            if small_input:
                self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
                self.maxpool = nn.Identity()
            else:
                self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
                self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            inplanes = 64
            for i, planes in enumerate([64, 128, 256, 512]):
                stride = 1 if i == 0 else 2
                downsample = None
                if stride != 1 or inplanes != planes:
                    downsample = nn.Sequential(
                        nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                    )
                blocks = [
                    BasicBlock(inplanes, planes, stride, downsample),
                    BasicBlock(planes, planes),
                ]
                setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
                inplanes = planes
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def torch_mobilenet_v2(torch, num_classes: int):
    """torchvision's MobileNetV2 (width 1.0), layer for layer."""
    nn = torch.nn

    def conv_bn_relu6(inp, oup, kernel=3, stride=1, groups=1):
        return nn.Sequential(
            nn.Conv2d(inp, oup, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(oup),
            nn.ReLU6(inplace=True),
        )

    class InvertedResidual(nn.Module):
        def __init__(self, inp, oup, stride, t):
            super().__init__()
            hidden = inp * t
            self.use_res_connect = stride == 1 and inp == oup
            layers = [conv_bn_relu6(inp, hidden, 1)] if t != 1 else []
            layers += [
                conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            setting = [
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
            features = [conv_bn_relu6(3, 32, 3, 2)]
            inp = 32
            for t, c, n, s in setting:
                for i in range(n):
                    features.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                    inp = c
            features.append(conv_bn_relu6(inp, 1280, 1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return MobileNetV2()


def torch_unet(torch, in_channels, num_classes, depth, base_channels, bilinear):
    """The U-Net of mytorch.vision.models.unet in torch.nn."""
    nn = torch.nn

    class DoubleConv(nn.Module):
        def __init__(self, cin, cout, mid=None):
            super().__init__()
            mid = mid or cout
            self.double_conv = nn.Sequential(
                nn.Conv2d(cin, mid, 3, padding=1, bias=False),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            )

        def forward(self, x):
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            if bilinear:
                self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
                self.conv = DoubleConv(cin, cout, cin // 2)
            else:
                self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
                self.conv = DoubleConv(cin, cout)

        def forward(self, x, skip):
            x = self.up(x)
            dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
            x = nn.functional.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
            return self.conv(torch.cat([skip, x], dim=1))

    class OutConv(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 1)

        def forward(self, x):
            return self.conv(x)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            factor = 2 if bilinear else 1
            w = [base_channels * 2**i for i in range(depth + 1)]
            self.inc = DoubleConv(in_channels, w[0])
            self.downs = nn.ModuleList(
                Down(w[i - 1], w[i] // factor if i == depth else w[i]) for i in range(1, depth + 1)
            )
            self.ups = nn.ModuleList(
                Up(w[i], w[i - 1] if i == 1 else w[i - 1] // factor) for i in range(depth, 0, -1)
            )
            self.outc = OutConv(w[0], num_classes)

        def forward(self, x):
            skips = [self.inc(x)]
            for down in self.downs:
                skips.append(down(skips[-1]))
            x = skips.pop()
            for up in self.ups:
                x = up(x, skips.pop())
            return self.outc(x)

    return UNet()


# ------------------------------------------------------------------ helpers


def randomize_batchnorm(torch, model, seed: int = 0) -> None:
    """Non-trivial running statistics and affine parameters, so eval mode is really tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
                m.num_batches_tracked.fill_(7)


def load_from_torch(torch, mine, theirs) -> None:
    """Load the torch model's state_dict (torch tensors, torchvision key names) into mine."""
    torch_sd = theirs.state_dict()
    assert list(mine.state_dict()) == list(torch_sd), "keys and their order match torch's"
    result = mine.load_state_dict(torch_sd)
    assert not result.missing_keys and not result.unexpected_keys
    assert int(mine.state_dict()[next(k for k in torch_sd if "num_batches" in k)].item()) == 7


def assert_close(mine: mt.Tensor, theirs, rtol: float = 1e-4, atol: float = 1e-4) -> None:
    np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=rtol, atol=atol)


def eval_parity(torch, mine, theirs, shape, seed: int = 0, **tol) -> None:
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    mine.eval()
    theirs.eval()
    with no_grad():
        out = mine(mt.tensor(x))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x))
    assert out.shape == tuple(expected.shape)
    assert_close(out, expected, **tol)


def train_step_parity(
    torch, mine, theirs, x: np.ndarray, target: np.ndarray, tol: float = 2e-4
) -> None:
    """Train-mode forward (batch statistics), loss, parameter gradients and running stats.

    Gradients are compared up to ``tol`` times the largest gradient of the model (some are
    exactly zero, e.g. the bias of a BatchNorm whose output is normalized again).
    """
    mine.train()
    theirs.train()
    loss = F.cross_entropy(mine(mt.from_numpy(x)), mt.tensor(target))
    loss.backward()
    expected = torch.nn.functional.cross_entropy(
        theirs(torch.from_numpy(x)), torch.from_numpy(target)
    )
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=tol)
    theirs_params = dict(theirs.named_parameters())
    scale = max(float(p.grad.abs().max()) for p in theirs_params.values())
    for name, p in mine.named_parameters():
        np.testing.assert_allclose(
            p.grad.data / scale,
            theirs_params[name].grad.numpy() / scale,
            atol=tol,
            err_msg=f"grad of {name}",
        )
    theirs_sd = theirs.state_dict()
    for name, buf in mine.named_buffers():
        np.testing.assert_allclose(buf.data, theirs_sd[name].numpy(), rtol=tol, atol=tol / 10)


# ------------------------------------------------------------------ parity tests


def test_resnet18_matches_torch(torch):
    torch.manual_seed(0)
    theirs = torch_resnet18(torch, num_classes=10)
    randomize_batchnorm(torch, theirs)
    mine = models.resnet18(num_classes=10)
    load_from_torch(torch, mine, theirs)
    eval_parity(torch, mine, theirs, (2, 3, 64, 64))


def test_resnet18_small_input_train_step_matches_torch(torch):
    torch.manual_seed(1)
    theirs = torch_resnet18(torch, num_classes=4, small_input=True)
    randomize_batchnorm(torch, theirs, seed=1)
    mine = models.resnet18(num_classes=4, small_input=True)
    load_from_torch(torch, mine, theirs)
    eval_parity(torch, mine, theirs, (2, 3, 16, 16), seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 16, 16)).astype(np.float32)
    train_step_parity(torch, mine, theirs, x, np.array([0, 1, 2, 3]))


def test_mobilenet_v2_matches_torch(torch):
    torch.manual_seed(2)
    theirs = torch_mobilenet_v2(torch, num_classes=10)
    randomize_batchnorm(torch, theirs, seed=2)
    mine = models.mobilenet_v2(num_classes=10)
    load_from_torch(torch, mine, theirs)
    eval_parity(torch, mine, theirs, (2, 3, 64, 64), seed=2)
    # train mode (batch statistics) and gradients through the depthwise convolutions, in
    # float64: BatchNorm over a few pixels amplifies float32 rounding too much for a tight
    # check. Dropout off, since the two frameworks draw different masks.
    mine.classifier[0].p = 0.0
    theirs.classifier[0].p = 0.0
    mine.double()
    theirs.double()
    x = np.random.default_rng(3).standard_normal((2, 3, 64, 64))
    train_step_parity(torch, mine, theirs, x, np.array([3, 8]), tol=1e-9)


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_matches_torch(torch, bilinear):
    torch.manual_seed(3)
    kwargs = dict(in_channels=2, num_classes=3, depth=3, base_channels=8, bilinear=bilinear)
    theirs = torch_unet(torch, **kwargs)
    randomize_batchnorm(torch, theirs, seed=3)
    mine = models.UNet(**kwargs)
    load_from_torch(torch, mine, theirs)
    eval_parity(torch, mine, theirs, (2, 2, 24, 24), seed=3)
    eval_parity(torch, mine, theirs, (1, 2, 20, 27), seed=4)  # sizes not divisible by 8
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 16, 16)).astype(np.float32)
    target = rng.integers(0, 3, (2, 16, 16))
    train_step_parity(torch, mine, theirs, x, target)


def test_channel_shuffle_matches_torch(torch):
    x = np.random.default_rng(6).standard_normal((2, 12, 3, 3)).astype(np.float32)
    for groups in (2, 3, 4):
        expected = torch.nn.functional.channel_shuffle(torch.from_numpy(x), groups)
        np.testing.assert_array_equal(
            models.channel_shuffle(mt.tensor(x), groups).data, expected.numpy()
        )
