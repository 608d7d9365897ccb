"""Autoencoders and the corruption transforms of denoising autoencoders."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.gen import (
    Compose,
    ConvAutoencoder,
    DenoisingAutoencoder,
    GaussianNoise,
    MaskingNoise,
    MLPAutoencoder,
    SaltAndPepperNoise,
    reconstruction_loss,
)


def test_gaussian_noise_statistics_and_clipping():
    x = mt.full((200, 100), 0.5)
    y = GaussianNoise(std=0.1)(x, generator=mt.Generator(0)).numpy()
    assert (y - 0.5).std() == pytest.approx(0.1, rel=0.03) and abs((y - 0.5).mean()) < 0.002
    z = GaussianNoise(std=2.0)(x, generator=mt.Generator(0)).numpy()
    assert z.min() == 0.0 and z.max() == 1.0  # clipped to [0, 1]
    w = GaussianNoise(std=2.0, clip=None)(x, generator=mt.Generator(0)).numpy()
    assert w.min() < -1 and w.max() > 2


def test_masking_noise_zeroes_a_fraction_p():
    x = mt.ones(100, 1000)
    y = MaskingNoise(p=0.3)(x, generator=mt.Generator(0)).numpy()
    assert set(np.unique(y)) == {0.0, 1.0}
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.005)
    assert np.all(MaskingNoise(p=0.0)(x).numpy() == 1)


def test_salt_and_pepper_noise():
    x = mt.full((100, 1000), 0.5)
    y = SaltAndPepperNoise(p=0.2)(x, generator=mt.Generator(0)).numpy()
    assert (y == 0).mean() == pytest.approx(0.1, abs=0.005)
    assert (y == 1).mean() == pytest.approx(0.1, abs=0.005)


def test_compose_applies_in_order_and_is_reproducible():
    x = mt.full((50, 50), 0.5)
    corrupt = Compose([GaussianNoise(0.1), MaskingNoise(0.5, value=-1.0)])
    a = corrupt(x, generator=mt.Generator(3)).numpy()
    b = corrupt(x, generator=mt.Generator(3)).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a == -1.0).mean() == pytest.approx(0.5, abs=0.03)  # masking came last
    assert "GaussianNoise(std=0.1" in repr(corrupt)
    with pytest.raises(TypeError, match="transforms\\[1\\] is not callable"):
        Compose([GaussianNoise(), 3])


@pytest.mark.parametrize("cls,bad", [(MaskingNoise, 1.5), (SaltAndPepperNoise, -0.1)])
def test_bad_probabilities(cls, bad):
    with pytest.raises(ValueError, match="p must be in \\[0, 1\\]"):
        cls(p=bad)


def test_reconstruction_loss_by_hand():
    logits = mt.tensor([[0.0, 0.0], [2.0, -2.0]])
    target = mt.tensor([[1.0, 0.0], [1.0, 1.0]])
    sp = lambda v: np.log1p(np.exp(v))  # noqa: E731
    expected = (2 * np.log(2) + sp(-2.0) + sp(2.0)) / 2
    assert reconstruction_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_loss(logits, mt.zeros(2, 3))


@pytest.mark.parametrize(
    "make,factor",
    [(lambda: MLPAutoencoder(784, (64,), 8), 0.75), (lambda: ConvAutoencoder((4, 8), 8), 0.92)],
)
def test_autoencoders_learn_to_reconstruct(make, factor):
    from mytorch.vision.datasets import load_sample

    images, _ = load_sample(train=False)
    x = mt.tensor(images[:64].reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    mt.manual_seed(0)
    ae = make()
    assert ae(x).shape == x.shape
    opt = mt.optim.Adam(ae.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = ae.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < factor * losses[0], losses


def test_denoising_autoencoder_scores_against_the_clean_input():
    mt.manual_seed(0)
    ae = MLPAutoencoder(16, (8,), 4)
    dae = DenoisingAutoencoder(ae, MaskingNoise(p=0.5))
    x = mt.rand(5, 16)
    gen_state = mt.Generator(1)
    loss = dae.loss(x, generator=gen_state)
    corrupted = dae.corrupt(x, generator=mt.Generator(1))
    assert loss.item() == pytest.approx(ae.loss(corrupted, target=x).item(), rel=1e-6)
    assert not np.allclose(corrupted.numpy(), x.numpy())


def test_conv_autoencoder_rejects_other_shapes():
    with pytest.raises(ValueError, match="expected \\(B, 1, 28, 28\\), got \\(2, 1, 32, 32\\)"):
        ConvAutoencoder()(mt.rand(2, 1, 32, 32))
