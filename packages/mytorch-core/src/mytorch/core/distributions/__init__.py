"""Probability distributions with PyTorch's ``torch.distributions`` API: ``Categorical`` and
``Normal`` (``log_prob``, ``entropy``, ``sample``, ``rsample`` for the reparameterized Normal),
and ``kl_divergence`` between two of the same family.

>>> import mytorch.core as mt
>>> from mytorch.core.distributions import Categorical, Normal
>>> d = Categorical(logits=mt.tensor([[0.0, 0.0], [0.0, 1.0]]))
>>> d.batch_shape, d.sample().shape
((2,), (2,))
>>> round(Normal(0.0, 1.0).entropy().item(), 4)
1.4189
"""

from mytorch.core.distributions.categorical import Categorical
from mytorch.core.distributions.distribution import Distribution
from mytorch.core.distributions.kl import kl_divergence
from mytorch.core.distributions.normal import Normal

__all__ = ["Distribution", "Categorical", "Normal", "kl_divergence"]
