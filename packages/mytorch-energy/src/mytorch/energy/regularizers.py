"""Differentiable regularizers for energy-aware training, usable in any training loop.

Each function returns a scalar Tensor connected to the autograd graph; multiply it by your own
strength and add it to the loss:

>>> import mytorch.core as mt
>>> import mytorch.nn as nn
>>> model = nn.Linear(3, 2)
>>> loss = model(mt.ones(4, 3)).pow(2).mean() + 1e-4 * l2_penalty(model)
>>> loss.backward()

- ``l2_penalty`` / ``l1_penalty``: sum of w**2 / |w| over weights.
- ``group_lasso``: sum of the L2 norms of the output filters / neurons (structured sparsity).
- ``ActivationL1`` / ``activation_l1``: L1 of activations ("neuron power": active neurons cost).
- ``morphnet_flops_penalty``: MorphNet's BatchNorm-gamma FLOPs regularizer (Gordon et al. 2018).
- ``expected_macs`` / ``l0_penalty``: expected MACs and expected non-zero gates under hard-concrete
  L0 gates (``L0Gate``, Louizos et al. 2018).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

import mytorch.core as mt
from mytorch.core.tensor import Tensor
from mytorch.energy.gates import L0Gate
from mytorch.nn import Module

__all__ = [
    "ActivationL1",
    "FlopsLayer",
    "activation_l1",
    "expected_macs",
    "group_lasso",
    "l0_penalty",
    "l1_penalty",
    "l2_penalty",
    "morphnet_flops_penalty",
]

_REDUCTIONS = ("mean", "sum", "batchmean")


def _zero() -> Tensor:
    return mt.tensor(0.0)


def _total(terms: list[Tensor]) -> Tensor:
    """The sum of scalar tensors (a float zero for none)."""
    if not terms:
        return _zero()
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _weights(parameters, fn: str) -> list[Tensor]:
    """Tensors to penalise: a Module's parameters with ndim > 1, or the given tensors."""
    if isinstance(parameters, Module):
        return [p for p in parameters.parameters() if p.ndim > 1]
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        items = list(parameters)
    except TypeError:
        raise TypeError(
            f"{fn}: expected a Module, a Tensor or an iterable of Tensors, "
            f"got {type(parameters).__name__}"
        ) from None
    out = []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor):
            item = item[1]  # a (name, parameter) pair from named_parameters()
        if not isinstance(item, Tensor):
            raise TypeError(f"{fn}: item {i} is a {type(item).__name__}, expected a Tensor")
        out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# Weight penalties
# ---------------------------------------------------------------------------------------------


def l2_penalty(parameters: Module | Tensor | Iterable[Tensor]) -> Tensor:
    """Sum of squares ``sum_p sum(p**2)`` (no 1/2 factor).

    ``parameters``: a Tensor, an iterable of Tensors (or of ``(name, tensor)`` pairs), or a
    Module. For a Module only its parameters with ``ndim > 1`` count: the weights of Linear,
    Conv and Embedding layers; biases, norm gammas/betas and gate ``log_alpha`` are excluded.
    An empty selection gives 0.

    >>> l2_penalty([mt.tensor([1.0, -2.0])]).item()
    5.0
    """
    return _total([(p * p).sum() for p in _weights(parameters, "l2_penalty")])


def l1_penalty(parameters: Module | Tensor | Iterable[Tensor]) -> Tensor:
    """Sum of absolute values ``sum_p sum(|p|)``; same selection rules as ``l2_penalty``.

    The gradient at an exact zero is 0 (the subgradient that ``abs`` uses).

    >>> l1_penalty([mt.tensor([1.0, -2.0])]).item()
    3.0
    """
    return _total([p.abs().sum() for p in _weights(parameters, "l1_penalty")])


def _group_norms(weight: Tensor, dim: int, eps: float) -> Tensor:
    """L2 norm of each slice of ``weight`` along ``dim``, shape (weight.shape[dim],)."""
    if weight.ndim == 0:
        raise ValueError("group_lasso: weight must have at least 1 dimension, got a 0-d tensor")
    if not -weight.ndim <= dim < weight.ndim:
        raise ValueError(
            f"group_lasso: dim must be in [{-weight.ndim}, {weight.ndim - 1}] for a weight of "
            f"shape {tuple(weight.shape)}, got {dim}"
        )
    groups = weight.movedim(dim, 0).reshape(weight.shape[dim], -1)
    squares = (groups * groups).sum(1)
    if eps > 0.0:
        return (squares + eps).sqrt()
    # sqrt has an infinite derivative at 0: route all-zero groups around it (gradient 0 there).
    zero = squares.data == 0.0
    if not zero.any():
        return squares.sqrt()
    safe = mt.where(zero, mt.ones_like(squares), squares)
    return mt.where(zero, mt.zeros_like(squares), safe.sqrt())


def group_lasso(weight_or_module: Tensor | Module, dim: int = 0, eps: float = 0.0) -> Tensor:
    """Group lasso: ``sum_g sqrt(sum(w_g**2) + eps)`` over the slices ``w_g`` along ``dim``.

    With ``dim=0`` each group is one output neuron of a Linear (``weight[g, :]``) or one output
    filter of a Conv (``weight[g, :, :, :]``); driving a group's norm to 0 removes that unit.
    For a Module the sum runs over all its parameters with ``ndim > 1`` (Linear/Conv weights).

    ``eps = 0`` (default) gives the exact norms; an all-zero group then contributes 0 with a
    gradient of 0 (not NaN). ``eps > 0`` smooths the norm everywhere, at the price of a
    constant ``sqrt(eps)`` per all-zero group.

    >>> group_lasso(mt.tensor([[3.0, 4.0], [0.0, 0.0]])).item()
    5.0
    """
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"group_lasso: dim must be an int, got {type(dim).__name__}")
    if not eps >= 0.0:
        raise ValueError(f"group_lasso: eps must be >= 0, got {eps}")
    if isinstance(weight_or_module, Module):
        weights = _weights(weight_or_module, "group_lasso")
    elif isinstance(weight_or_module, Tensor):
        weights = [weight_or_module]
    else:
        raise TypeError(
            f"group_lasso: expected a Tensor or a Module, got {type(weight_or_module).__name__}"
        )
    return _total([_group_norms(w, int(dim), float(eps)).sum() for w in weights])


# ---------------------------------------------------------------------------------------------
# Activation sparsity ("neuron power")
# ---------------------------------------------------------------------------------------------


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce_abs(a: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return a.abs().mean()
    if reduction == "sum":
        return a.abs().sum()
    return a.abs().sum() / (a.shape[0] if a.ndim > 0 else 1)  # batchmean


def activation_l1(tensors: Tensor | Iterable[Tensor], reduction: str = "mean") -> Tensor:
    """L1 activation penalty: ``sum_t reduce(|t|)`` over the given activation tensors.

    ``reduction``: ``"mean"`` (mean of |a| over all elements of each tensor), ``"sum"``, or
    ``"batchmean"`` (sum of |a| divided by the size of dim 0, the L1 per example).

    >>> activation_l1([mt.tensor([[1.0, -3.0]])]).item()
    2.0
    """
    _check_reduction(reduction, "activation_l1")
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"activation_l1: item {i} is a {type(t).__name__}, expected a Tensor")
    return _total([_reduce_abs(t, reduction) for t in items])


class ActivationL1:
    """Records module outputs through forward hooks and turns them into an L1 penalty.

    ``ActivationL1(modules, reduction="mean", predicate=None)``:

    - ``modules``: a Module or an iterable of Modules whose outputs are recorded.
    - ``predicate``: with a single root Module, hook every submodule ``m`` of it (itself
      included) for which ``predicate(m)`` is true; a class or tuple of classes means
      ``isinstance(m, predicate)``, e.g. ``ActivationL1(model, predicate=nn.ReLU)``.

    ``penalty()`` returns ``sum over recorded outputs a of reduce(|a|)`` (see
    ``activation_l1`` for the reductions; with ``"mean"``: the mean of |a| of each recorded
    output, summed over outputs and calls) and then clears the records. Tuple outputs record
    each floating Tensor in them. Outputs are recorded in every forward (train or eval), so call
    ``penalty()`` or ``clear()`` once per step. ``remove()`` (or leaving a ``with`` block)
    detaches the hooks.

    >>> import mytorch.nn as nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    >>> with ActivationL1(net, predicate=nn.ReLU) as act:
    ...     out = net(mt.ones(2, 3))
    ...     p = act.penalty()
    """

    def __init__(
        self,
        modules: Module | Iterable[Module],
        reduction: str = "mean",
        predicate: Callable[[Module], bool] | type | tuple[type, ...] | None = None,
    ) -> None:
        _check_reduction(reduction, "ActivationL1")
        self.reduction = reduction
        self.modules = self._select(modules, predicate)
        self._records: list[Tensor] = []
        self._handles = [m.register_forward_hook(self._hook) for m in self.modules]

    @staticmethod
    def _select(modules, predicate) -> list[Module]:
        if predicate is not None:
            if not isinstance(modules, Module):
                raise TypeError(
                    "ActivationL1: a predicate needs a single root Module, got "
                    f"{type(modules).__name__}"
                )
            if isinstance(predicate, type | tuple):
                classes = predicate
                predicate = lambda m: isinstance(m, classes)  # noqa: E731
            elif not callable(predicate):
                raise TypeError(
                    "ActivationL1: predicate must be callable or a class (tuple of classes), "
                    f"got {type(predicate).__name__}"
                )
            chosen = [m for m in modules.modules() if predicate(m)]
            if not chosen:
                raise ValueError(
                    f"ActivationL1: no submodule of {type(modules).__name__} matches the predicate"
                )
            return chosen
        items = [modules] if isinstance(modules, Module) else list(modules)
        if not items:
            raise ValueError("ActivationL1: modules is empty; give at least one Module")
        for i, m in enumerate(items):
            if not isinstance(m, Module):
                raise TypeError(
                    f"ActivationL1: item {i} is a {type(m).__name__}, expected a Module"
                )
        return items

    def _hook(self, module: Module, args: tuple, output) -> None:
        outputs = output if isinstance(output, tuple | list) else (output,)
        for out in outputs:
            if isinstance(out, Tensor) and out.dtype.kind == "f":
                self._records.append(out)

    @property
    def num_recorded(self) -> int:
        """How many outputs are recorded since the last ``penalty()`` or ``clear()``."""
        return len(self._records)

    def penalty(self) -> Tensor:
        """``sum over recorded outputs of reduce(|a|)``; then clears the records.

        Raises RuntimeError when nothing was recorded (no forward through a hooked module).
        """
        if not self._records:
            raise RuntimeError(
                "ActivationL1.penalty: no activations recorded since the last penalty()/clear(); "
                "run a forward pass through the hooked modules first"
            )
        value = _total([_reduce_abs(a, self.reduction) for a in self._records])
        self.clear()
        return value

    def clear(self) -> None:
        """Forget the recorded outputs."""
        self._records = []

    def remove(self) -> None:
        """Detach the hooks and forget the records (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.clear()

    def __enter__(self) -> ActivationL1:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __repr__(self) -> str:
        return (
            f"ActivationL1(modules={len(self.modules)}, reduction={self.reduction!r}, "
            f"recorded={self.num_recorded}, hooked={bool(self._handles)})"
        )


# ---------------------------------------------------------------------------------------------
# Expected-FLOPs penalties
# ---------------------------------------------------------------------------------------------


@dataclass
class FlopsLayer:
    """One compute layer for the FLOPs penalties.

    - ``macs``: the layer's MACs with all channels alive, for the example input.
    - ``in_channels`` / ``out_channels``: its full input and output widths.
    - ``in_source`` / ``out_source``: what scales that side's channels: a normalization module
      whose ``.weight`` is a per-channel gamma (BatchNorm), a 1-D gamma Tensor, an ``L0Gate``,
      or None (a fixed width).

    Cost model: ``macs / (in_channels * out_channels)`` per alive (input, output) channel pair,
    so a layer costs ``coeff * n_in * n_out``. Grouped / depthwise convolutions, whose cost is
    not pairwise, are not modelled exactly.
    """

    name: str
    macs: float
    in_channels: int
    out_channels: int
    in_source: Module | Tensor | None = None
    out_source: Module | Tensor | None = None

    def __post_init__(self) -> None:
        if not float(self.macs) >= 0.0:
            raise ValueError(f"FlopsLayer {self.name!r}: macs must be >= 0, got {self.macs}")
        for side in ("in_channels", "out_channels"):
            value = getattr(self, side)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(
                    f"FlopsLayer {self.name!r}: {side} must be an int >= 1, got {value!r}"
                )

    @property
    def coeff(self) -> float:
        """MACs per alive (input, output) channel pair."""
        return float(self.macs) / (self.in_channels * self.out_channels)


def _source(layer: FlopsLayer, side: str, fn: str) -> Tensor | L0Gate | None:
    """The gamma Tensor or L0Gate that scales ``side`` ("in"/"out") of ``layer``, or None."""
    src = getattr(layer, f"{side}_source")
    width = getattr(layer, f"{side}_channels")
    where = f"{fn}: layer {layer.name!r} {side}_source"
    if src is None:
        return None
    if isinstance(src, L0Gate):
        size = src.num_features
    else:
        if isinstance(src, Module):
            gamma = getattr(src, "weight", None)
            if not isinstance(gamma, Tensor):
                raise TypeError(
                    f"{where}: {type(src).__name__} has no .weight gamma (affine=False?); "
                    "use a normalization module with affine parameters, an L0Gate or None"
                )
            src = gamma
        elif not isinstance(src, Tensor):
            raise TypeError(
                f"{where}: expected a normalization Module, a gamma Tensor, an L0Gate or None, "
                f"got {type(src).__name__}"
            )
        if src.ndim != 1:
            raise ValueError(f"{where}: gamma must be 1-D, got shape {tuple(src.shape)}")
        size = src.shape[0]
    if size != width:
        raise ValueError(f"{where} has {size} channels, but {side}_channels is {width}")
    return src


def _layers(layers: FlopsLayer | Iterable[FlopsLayer], fn: str) -> list[FlopsLayer]:
    items = [layers] if isinstance(layers, FlopsLayer) else list(layers)
    for i, layer in enumerate(items):
        if not isinstance(layer, FlopsLayer):
            raise TypeError(f"{fn}: item {i} is a {type(layer).__name__}, expected a FlopsLayer")
    return items


def morphnet_flops_penalty(
    layers: FlopsLayer | Iterable[FlopsLayer], threshold: float = 1e-2
) -> Tensor:
    """MorphNet's GammaFlopsRegularizer (Gordon et al. 2018): a differentiable FLOPs proxy.

    Per layer: ``coeff * (alive_in * sum|gamma_out| + alive_out * sum|gamma_in|)`` with
    ``coeff = macs / (in_channels * out_channels)``, where ``alive_x`` is the number of channels
    with ``|gamma| > threshold`` (a constant, not differentiated) or the full width when that
    side's source is None, in which case its ``sum|gamma|`` term is dropped. A layer with no
    gamma on either side adds 0. Sources must be gammas (normalization modules or Tensors) or
    None; for ``L0Gate`` sources use ``expected_macs``.
    """
    fn = "morphnet_flops_penalty"
    if not threshold >= 0.0:
        raise ValueError(f"{fn}: threshold must be >= 0, got {threshold}")
    terms = []
    for layer in _layers(layers, fn):
        sides = {}
        for side in ("in", "out"):
            src = _source(layer, side, fn)
            if isinstance(src, L0Gate):
                raise TypeError(
                    f"{fn}: layer {layer.name!r} {side}_source is an L0Gate; MorphNet needs "
                    "gammas (BatchNorm) or None; use expected_macs for gated layers"
                )
            sides[side] = src
        parts = []
        for side, other in (("out", "in"), ("in", "out")):
            gamma = sides[side]
            if gamma is None:
                continue
            other_gamma = sides[other]
            if other_gamma is None:
                alive = getattr(layer, f"{other}_channels")
            else:
                alive = int(np.count_nonzero(np.abs(other_gamma.data) > threshold))
            parts.append(gamma.abs().sum() * float(alive))
        if parts:
            terms.append(_total(parts) * layer.coeff)
    return _total(terms)


def expected_macs(layers: FlopsLayer | Iterable[FlopsLayer]) -> Tensor:
    """Expected MACs under L0 gates: ``sum_layers coeff * E[n_in] * E[n_out]``.

    ``E[n]`` is ``gate.expected_active()`` (the sum of the probabilities that each gate is
    non-zero) for an ``L0Gate`` source, and the fixed width for None or a gamma source. The
    product is the exact expectation when the two sides have independent gates. Differentiable
    with respect to the gates' ``log_alpha``.
    """
    terms = []
    for layer in _layers(layers, "expected_macs"):
        counts = []
        for side in ("in", "out"):
            src = _source(layer, side, "expected_macs")
            if isinstance(src, L0Gate):
                counts.append(src.expected_active())
            else:
                counts.append(float(getattr(layer, f"{side}_channels")))
        n_in, n_out = counts
        if isinstance(n_in, Tensor) or isinstance(n_out, Tensor):
            terms.append(n_in * n_out * layer.coeff)
        else:
            terms.append(mt.tensor(layer.coeff * n_in * n_out))
    return _total(terms)


def l0_penalty(gates: L0Gate | Module | Iterable[L0Gate]) -> Tensor:
    """Expected number of non-zero gates: ``sum_gates gate.expected_active()``.

    ``gates``: an ``L0Gate``, an iterable of them, or a Module (all its ``L0Gate`` submodules).
    """
    if isinstance(gates, L0Gate):
        items = [gates]
    elif isinstance(gates, Module):
        items = [m for m in gates.modules() if isinstance(m, L0Gate)]
        if not items:
            raise ValueError(f"l0_penalty: {type(gates).__name__} contains no L0Gate")
    else:
        items = list(gates)
        for i, g in enumerate(items):
            if not isinstance(g, L0Gate):
                raise TypeError(f"l0_penalty: item {i} is a {type(g).__name__}, expected an L0Gate")
    return _total([g.expected_active() for g in items])
