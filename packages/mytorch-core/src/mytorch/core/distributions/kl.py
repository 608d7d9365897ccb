"""KL divergence between two distributions of the same family, in closed form."""

from __future__ import annotations

import numpy as np

from mytorch.core import creation
from mytorch.core.distributions.categorical import Categorical
from mytorch.core.distributions.distribution import Distribution
from mytorch.core.distributions.normal import Normal
from mytorch.core.ops.elementwise import where
from mytorch.core.tensor import Tensor


def _kl_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)  # (*batch, K)
    q_zero = np.broadcast_to(q.probs.detach().numpy() == 0, t.shape)
    p_zero = np.broadcast_to(p.probs.detach().numpy() == 0, t.shape)
    if q_zero.any():  # mass where q has none: infinite divergence
        t = where(creation.from_numpy(q_zero.copy()), creation.full_like(t, float("inf")), t)
    if p_zero.any():  # 0 log 0 = 0
        t = where(creation.from_numpy(p_zero.copy()), creation.zeros_like(t), t)
    return t.sum(-1)


def _kl_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


_KL = {(Categorical, Categorical): _kl_categorical, (Normal, Normal): _kl_normal}


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) per batch element, for a (Categorical, Categorical) or (Normal, Normal) pair."""
    fn = _KL.get((type(p), type(q)))
    if fn is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
            f"{type(q).__name__}"
        )
    return fn(p, q)
