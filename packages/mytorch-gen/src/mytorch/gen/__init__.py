"""mytorch.gen: generative models on mytorch: autoencoders, VAEs, GANs and diffusion, with
sample-quality metrics for MNIST.

>>> import mytorch.core as mt
>>> from mytorch.gen import VAE
>>> vae = VAE(latent_dim=2)
>>> vae.sample(4).shape
(4, 784)
"""

from importlib.metadata import PackageNotFoundError, version

from mytorch.gen import corruption, metrics
from mytorch.gen.autoencoder import (
    ConvAutoencoder,
    DenoisingAutoencoder,
    MLPAutoencoder,
    reconstruction_loss,
)
from mytorch.gen.classifier import MNISTClassifier, load_mnist_classifier
from mytorch.gen.corruption import Compose, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from mytorch.gen.dcgan import (
    DCGAN_BETAS,
    DCGAN_LR,
    DCGANDiscriminator,
    DCGANGenerator,
    dcgan_init_,
)
from mytorch.gen.diffusion import DDPM, NoiseSchedule, cosine_schedule, linear_schedule
from mytorch.gen.gan import MLPDiscriminator, MLPGenerator, discriminator_loss, generator_loss
from mytorch.gen.unet import ResBlock, TimeUNet, sinusoidal_embedding
from mytorch.gen.vae import (
    VAE,
    ConditionalVAE,
    VAELoss,
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    gaussian_log_likelihood,
    reparameterize,
)
from mytorch.gen.wgan import (
    WGAN_GP_BETAS,
    WGAN_GP_LR,
    critic_loss,
    gradient_penalty,
    wasserstein_generator_loss,
)

try:
    __version__ = version("mytorch-gen")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"
