"""Reverse-mode automatic differentiation: ``Function`` nodes and the backward engine.

A ``Function`` subclass defines ``forward(ctx, *arrays)`` on NumPy arrays and
``backward(ctx, *grad_outputs)`` on Tensors, written with mytorch ops so that a
backward pass can itself be differentiated (``create_graph=True``).

>>> import numpy as np
>>> from mytorch.core import tensor
>>> class Square(Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x * x
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return 2 * x * grad
>>> x = tensor([3.0], requires_grad=True)
>>> Square.apply(x).sum().backward()
>>> x.grad.tolist()
[6.0]

The op contract. Every array or tensor that backward needs goes through
``ctx.save_for_backward`` and comes back from ``ctx.saved_tensors``; the engine frees all of
it once the node has run (unless ``retain_graph``). Plain ``ctx`` attributes hold only small
non-array values (dims, shapes, flags, scalars). A backward is written once, in mytorch ops,
so it can be differentiated again; where a fast NumPy gradient is worth keeping it is the
forward of a second ``Function`` (``XxxBackward``) whose own backward is in mytorch ops. An op
whose backward is first-order only decorates it with ``once_differentiable``.

The graph is kept as edges from each node to the nodes that produced its inputs
(``next_functions``); backward visits nodes in decreasing creation order with a heap,
so it never recurses and every node runs once, after all of its consumers.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from mytorch.core.grad_mode import _state, set_grad_enabled

_sequence = itertools.count()
_REGISTRY: dict[str, list[type[Function]]] = {}
# Callables run after every op's forward (see ``observe_ops``); empty almost always.
_OBSERVERS: list = []
# How many post-accumulate-grad hooks are registered on leaves; backward counts each such
# leaf's incoming edges (so its hooks run once, after the last one) only while this is > 0.
_POST_HOOKS = [0]


def _post_hook_added(delta: int) -> None:
    _POST_HOOKS[0] += delta


class Function:
    """Base class of every differentiable operation; an instance is one node of the graph (``ctx``)."""

    # Attributes every node has once ``apply`` has run:
    #   next_functions   per input: (node, output_nr), (leaf tensor, 0) or None
    #   needs_input_grad per input: whether backward must produce its gradient
    #   _seq             creation order; backward runs nodes in decreasing order
    #   _meta            per output: (shape, dtype), to make zero grads for unused outputs
    #   _saved           what ``save_for_backward`` kept (``SavedTensor`` records); None once freed
    #   _hooks           {output_nr: [hook, ...]} for non-leaf ``register_hook``/``retain_grad``

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        module = cls.__module__
        if module.startswith("mytorch.") and module != __name__ and "backward" in cls.__dict__:
            family = module.rsplit(".", 1)[-1]
            _REGISTRY.setdefault(family, []).append(cls)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from NumPy arrays (Tensor arguments arrive as arrays)."""
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient (Tensor or None) per forward argument, written with mytorch ops."""
        raise NotImplementedError("Function subclasses must implement backward")

    # ----- ctx API used inside forward/backward -----
    def save_for_backward(self, *items) -> None:
        """Keep arrays or tensors for backward; inputs and outputs stay connected to the graph."""
        self._to_save = items

    def mark_non_differentiable(self, *arrays) -> None:
        """Outputs (arrays returned by forward) that never get gradients, like argmax indices."""
        self._non_diff = {id(a) for a in arrays}

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors of {type(self).__name__} after they have already been freed). Saved "
                f"intermediate values of the graph are freed when you call .backward() or "
                f"autograd.grad(). Specify retain_graph=True if you need to backward through "
                f"the graph a second time."
            )
        return tuple(entry.unpack(self) for entry in saved)

    @property
    def saved_arrays(self) -> tuple:
        """``saved_tensors`` as NumPy arrays (None stays None), for backward ops written in NumPy."""
        return tuple(None if t is None else t.data for t in self.saved_tensors)

    def name(self) -> str:
        return type(self).__name__

    def register_hook(self, hook, output_nr: int = 0) -> None:
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(output_nr, []).append(hook)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object>"

    # ----- building the graph -----
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arguments and, when recording, link the result into the graph."""
        ctx = object.__new__(cls)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        if _state.enabled:
            edges = [
                ((a, 0) if a.grad_fn is None else (a.grad_fn, a._output_nr))
                if isinstance(a, Tensor) and a.requires_grad
                else None
                for a in args
            ]
            needs = tuple(e is not None for e in edges)
            any_grad = True in needs
        else:
            any_grad = False
            needs = (False,) * len(args)
        ctx.needs_input_grad = needs
        ctx._to_save = ()
        ctx._non_diff = None
        raw = cls.forward(ctx, *arrays, **kwargs)
        if _OBSERVERS:
            for observer in tuple(_OBSERVERS):
                observer(cls, ctx, arrays, kwargs, raw)
        if not isinstance(raw, tuple):  # the common case: one output
            out = raw if type(raw) is np.ndarray else np.asarray(raw)
            if not any_grad:
                return Tensor._make(out)
            if out.dtype.kind not in "fc" or (ctx._non_diff and id(raw) in ctx._non_diff):
                return Tensor._make(out)
            result = Tensor._make(out, True, ctx, 0)
            ctx.next_functions = tuple(edges)
            ctx._seq = next(_sequence)
            ctx._meta = ((out.shape, out.dtype),)
            ctx._hooks = None
            ctx._saved = (
                _resolve_saved(ctx._to_save, args, (out,), (result,)) if ctx._to_save else ()
            )
            del ctx._to_save
            return result
        outs = [r if type(r) is np.ndarray else np.asarray(r) for r in raw]
        if not any_grad:
            return tuple(Tensor._make(r) for r in outs)
        non_diff = ctx._non_diff
        results = []
        for i, r in enumerate(outs):
            diff = r.dtype.kind in "fc" and (non_diff is None or id(raw[i]) not in non_diff)
            results.append(Tensor._make(r, True, ctx, i) if diff else Tensor._make(r))
        ctx.next_functions = tuple(edges)
        ctx._seq = next(_sequence)
        ctx._meta = tuple((r.shape, r.dtype) for r in outs)
        ctx._hooks = None
        ctx._saved = _resolve_saved(ctx._to_save, args, outs, results) if ctx._to_save else ()
        del ctx._to_save
        return tuple(results)


def once_differentiable(backward: Callable) -> Callable:
    """Declare a ``backward`` first-order only (as PyTorch's ``once_differentiable``).

    It runs without recording. When the caller records the backward pass
    (``create_graph=True``) and a gradient could depend on something that requires grad, that
    gradient is wrapped in a ``DoubleBackwardUnsupported`` node, so a second derivative through
    it raises one clear error instead of coming out silently wrong.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        deps = [t for t in (*ctx.saved_tensors, *grad_outputs) if t is not None]
        with set_grad_enabled(False):
            grads = backward(ctx, *grad_outputs)
        single = not isinstance(grads, tuple)
        grads = (grads,) if single else grads
        deps = [t for t in deps if isinstance(t, Tensor) and t.requires_grad]
        if _state.enabled and deps:  # the one grad-mode test, in this one declared place
            name = type(ctx).__name__
            grads = tuple(
                None if g is None else DoubleBackwardUnsupported.apply(g, name, *deps)
                for g in grads
            )
        return grads[0] if single else grads

    wrapper.once_differentiable = True
    return wrapper


def is_once_differentiable(op: type[Function]) -> bool:
    """Whether ``op``'s backward is declared first-order only (``once_differentiable``)."""
    return getattr(op.backward, "once_differentiable", False)


class DoubleBackwardUnsupported(Function):
    """out = g, a gradient of a once_differentiable op;  backward raises: first-order only"""

    @staticmethod
    def forward(ctx, g, name, *deps):
        ctx.op = name
        return g

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"{ctx.op}: double backward is not supported: its backward is declared "
            f"once_differentiable (first-order only)"
        )


class ObserverHandle:
    """Returned by ``observe_ops``; ``remove()`` detaches the observer (also as a context manager)."""

    def __init__(self, fn) -> None:
        self._fn = fn

    def remove(self) -> None:
        if self._fn in _OBSERVERS:
            _OBSERVERS.remove(self._fn)

    def __enter__(self) -> ObserverHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def observe_ops(fn) -> ObserverHandle:
    """Call ``fn(cls, ctx, arrays, kwargs, outputs)`` after the forward of every op that runs.

    ``cls`` is the ``Function`` subclass, ``ctx`` its node (with what forward stored on it),
    ``arrays`` the positional arguments with tensors as NumPy arrays, ``outputs`` what forward
    returned (an array or a tuple of arrays). Tools that count or time operations (FLOP
    counters, profilers) use this; it sees ops run with and without grad mode.

    >>> import mytorch.core as mt
    >>> seen = []
    >>> with observe_ops(lambda cls, ctx, arrays, kwargs, out: seen.append(cls.__name__)):
    ...     _ = mt.ones(2, 3) @ mt.ones(3, 4)
    >>> seen
    ['MatMul']
    """
    _OBSERVERS.append(fn)
    return ObserverHandle(fn)


class SavedTensor:
    """One value kept by ``save_for_backward``, as backward will get it back (``unpack``).

    Three kinds: an input ``tensor`` (checked against the ``version`` it had when saved), an
    output of the node itself (``output_nr``, its ``array`` and a weak reference to the output
    Tensor, re-wrapped on unpack so that the node does not keep its own output alive), or any
    other ``array`` (or None).
    """

    __slots__ = ("array", "tensor", "version", "output_nr", "output")

    def __init__(self, array=None, tensor=None, version=0, output_nr=-1, output=None) -> None:
        self.array = array
        self.tensor = tensor
        self.version = version
        self.output_nr = output_nr
        self.output = output

    def unpack(self, node: Function) -> Tensor | None:
        t = self.tensor
        if t is not None:
            if t._version != self.version:
                raise _modified_error(node, t, self.version)
            return t
        if self.output_nr >= 0:
            ref = self.output()
            if ref is not None and ref._version != 0:
                raise _modified_error(node, ref, 0)
            return Tensor._make(self.array, True, node, self.output_nr)
        return None if self.array is None else Tensor._make(self.array)


def _resolve_saved(items, args, outs, results) -> tuple:
    saved = []
    for item in items:
        if isinstance(item, Tensor):
            saved.append(SavedTensor(tensor=item, version=item._version))
            continue
        for a in args:
            if isinstance(a, Tensor) and a.data is item:
                saved.append(SavedTensor(tensor=a, version=a._version))
                break
        else:
            for i, r in enumerate(outs):
                if r is item and results[i].grad_fn is not None:
                    saved.append(SavedTensor(r, output_nr=i, output=weakref.ref(results[i])))
                    break
            else:
                saved.append(SavedTensor(item))
    return tuple(saved)


def _modified_error(node: Function, t: Tensor, expected: int) -> RuntimeError:
    # Like PyTorch, name the op that produced the modified tensor (none for a leaf).
    fn = t.grad_fn
    which = "" if fn is None else f", which is output {t._output_nr} of {type(fn).__name__}"
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} tensor of shape {list(t.shape)}]{which}, is at version "
        f"{t._version}; expected version {expected} instead (needed by {type(node).__name__})."
    )


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------


def _reduce_grad(g: Tensor, shape: tuple, node: Function) -> Tensor:
    """The adjoint of broadcasting: sum ``g`` down to ``shape`` (applied here, once, for all ops)."""
    from mytorch.core.ops.reduce import sum_to

    try:
        np.broadcast_shapes(shape, g.shape)
        ok = len(g.shape) >= len(shape) and np.broadcast_shapes(shape, g.shape) == g.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"Function {type(node).__name__} returned an invalid gradient: got shape "
            f"{list(g.shape)} for an input of shape {list(shape)}"
        )
    return sum_to(g, shape)


def _run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Tensor | None],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> list | None:
    """Propagate gradients from ``roots``; accumulate into leaves, or fill ``capture`` if given.

    ``capture`` maps ``id(leaf)`` or ``(id(node), output_nr)`` to a slot in the returned list
    (that is ``autograd.grad``); leaves' ``.grad`` is then left untouched.
    """
    captured = [None] * len(capture) if capture is not None else None
    # ``autograd.grad`` runs only the nodes on a path to an input, as PyTorch does
    runs = None if capture is None else _nodes_to_inputs(roots, capture)
    pending: dict[Function, list] = {}
    heap: list = []
    handed = {id(g.data) for g in grad_roots}  # arrays that others hold: never stolen
    # leaves with post-accumulate hooks -> edges still to arrive (the hooks run at zero)
    waiting = _count_hooked_edges(roots) if captured is None and _POST_HOOKS[0] else None

    def send(target, nr: int, g: Tensor | None) -> None:
        if isinstance(target, Tensor):  # a leaf
            if captured is not None:
                slot = capture.get(id(target))
                if slot is not None and g is not None:
                    captured[slot] = g if captured[slot] is None else captured[slot] + g
                return
            if g is not None:
                _accumulate_leaf(target, g, create_graph, handed)
            if waiting and id(target) in waiting:
                left, got = waiting[id(target)]
                waiting[id(target)] = (left - 1, got or g is not None)
                if left == 1 and (got or g is not None):
                    for hook in list(target._post_hooks):
                        hook(target)
            return
        if g is None:
            return
        grads = pending.get(target)
        if grads is None:
            if runs is not None and target not in runs:
                return
            grads = pending[target] = [None] * len(target._meta)
            heapq.heappush(heap, (-target._seq, target))
        grads[nr] = g if grads[nr] is None else grads[nr] + g

    with set_grad_enabled(create_graph):
        for root, g in zip(roots, grad_roots):
            fn = root.grad_fn
            send(root if fn is None else fn, root._output_nr, g)
        while heap:
            node = heapq.heappop(heap)[1]
            grads = pending.pop(node)
            for i, g in enumerate(grads):
                if g is None:
                    shape, dtype = node._meta[i]
                    grads[i] = Tensor._make(np.zeros(shape, dtype))
            if node._hooks:
                for i, hooks in node._hooks.items():
                    for hook in hooks:
                        r = hook(grads[i])
                        if r is not None:
                            grads[i] = r
            if captured is not None:
                for i in range(len(grads)):
                    slot = capture.get((id(node), i))
                    if slot is not None:
                        captured[slot] = grads[i]
                if not runs[node]:
                    continue  # an input whose history leads to no other input
            in_grads = node.backward(node, *grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            edges = node.next_functions
            if len(in_grads) != len(edges):
                raise RuntimeError(
                    f"function {type(node).__name__}.backward returned an incorrect number of "
                    f"gradients (expected {len(edges)}, got {len(in_grads)})"
                )
            for edge, g in zip(edges, in_grads):
                if edge is None:
                    continue
                if g is None:
                    send(edge[0], edge[1], None)  # counts towards a leaf's post hooks
                    continue
                if not isinstance(g, Tensor):
                    g = Tensor._make(np.asarray(g))
                target, nr = edge
                if isinstance(target, Tensor):
                    shape, dtype = target.data.shape, target.data.dtype
                else:
                    shape, dtype = target._meta[nr]
                if g.data.shape != shape:
                    g = _reduce_grad(g, shape, node)
                if g.data.dtype != dtype:
                    g = g.to(dtype)
                send(target, nr, g)
            if not retain_graph and node._saved:
                node._saved = None
        # leaves whose other edges hang off branches that received no gradient at all
        if waiting and any(left > 0 and got for left, got in waiting.values()):
            _run_late_post_hooks(roots, waiting)
    return captured


def _run_late_post_hooks(roots: Sequence[Tensor], waiting: dict) -> None:
    leaves = {}
    stack, seen = [r.grad_fn for r in roots if r.grad_fn is not None], set()
    for r in roots:
        if r.grad_fn is None:
            leaves[id(r)] = r
    while stack:
        node = stack.pop()
        for edge in node.next_functions:
            if edge is None:
                continue
            if isinstance(edge[0], Tensor):
                leaves[id(edge[0])] = edge[0]
            elif id(edge[0]) not in seen:
                seen.add(id(edge[0]))
                stack.append(edge[0])
    for key, (left, got) in waiting.items():
        if left > 0 and got:
            for hook in list(leaves[key]._post_hooks):
                hook(leaves[key])


def _count_hooked_edges(roots: Sequence[Tensor]) -> dict:
    """``{id(leaf): (edges into it, False)}`` for the leaves with post-accumulate hooks."""
    counts: dict = {}
    seen: set = set()
    stack = []
    for root in roots:
        if root.grad_fn is None:
            if getattr(root, "_post_hooks", None):
                left, _ = counts.get(id(root), (0, False))
                counts[id(root)] = (left + 1, False)
        elif id(root.grad_fn) not in seen:
            seen.add(id(root.grad_fn))
            stack.append(root.grad_fn)
    while stack:
        node = stack.pop()
        for edge in node.next_functions:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                if getattr(target, "_post_hooks", None):
                    left, _ = counts.get(id(target), (0, False))
                    counts[id(target)] = (left + 1, False)
            elif id(target) not in seen:
                seen.add(id(target))
                stack.append(target)
    return counts


def _nodes_to_inputs(roots: Sequence[Tensor], capture: dict) -> dict:
    """The nodes ``grad`` must visit: {node: whether its backward must run}, for every node that
    is an input or leads to one (its backward runs only in the second case)."""
    state: dict = {}  # node -> None while on the stack, then whether it leads to an input
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        node = stack[-1]
        if node not in state:
            state[node] = None
            stack.extend(
                e[0]
                for e in node.next_functions
                if e is not None and not isinstance(e[0], Tensor) and e[0] not in state
            )
            continue
        stack.pop()
        if state[node] is not None:
            continue
        leads = False
        for e in node.next_functions:
            if e is None:
                continue
            target, nr = e
            if isinstance(target, Tensor):
                leads = leads or id(target) in capture
            else:
                leads = leads or bool(state.get(target)) or _is_input(target, capture)
        state[node] = leads
    return {n: leads for n, leads in state.items() if leads or _is_input(n, capture)}


def _is_input(node: Function, capture: dict) -> bool:
    return any((id(node), i) in capture for i in range(len(node._meta)))


def _accumulate_leaf(t: Tensor, g: Tensor, create_graph: bool, handed: set) -> None:
    """Add ``g`` into ``t.grad``; a stored gradient never shares memory with anything else."""
    if t._hooks:
        for hook in t._hooks:
            r = hook(g)
            if r is not None:
                g = r
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    arr = g.data
    if t.grad is not None:
        t.grad = Tensor._make(t.grad.data + arr)
        return
    # Steal the array when it is fresh and ours alone; copy views and arrays handed out before.
    if arr.base is not None or not arr.flags.writeable or id(arr) in handed:
        arr = arr.copy()
    handed.add(id(arr))
    t.grad = Tensor._make(arr)


def _root_grads(roots: Sequence[Tensor], grads: Sequence | None, what: str) -> list[Tensor]:
    out = []
    for i, r in enumerate(roots):
        if not r.requires_grad:
            raise RuntimeError(
                f"{what}: element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grads is None else grads[i]
        if g is None:
            if r.data.size != 1:
                raise RuntimeError(
                    f"{what}: grad can be implicitly created only for scalar outputs; got an "
                    f"output of shape {list(r.shape)}; pass gradient= of that shape"
                )
            g = Tensor._make(np.ones(r.data.shape, r.data.dtype))
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=r.data.dtype))
            if g.shape != r.shape:
                raise RuntimeError(
                    f"{what}: Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} "
                    f"and output[{i}] has a shape of {list(r.shape)}."
                )
        out.append(g)
    return out


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate into leaves' ``.grad`` the gradient of ``tensors`` (seeded by ``grad_tensors``)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
        grad_tensors = None if grad_tensors is None else [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(tensors, grad_tensors, "backward")
    _run_backward(tensors, grads, retain_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    >>> from mytorch.core import tensor
    >>> x = tensor(2.0, requires_grad=True)
    >>> (g,) = grad(x * x * x, x, create_graph=True)
    >>> (gg,) = grad(g, x)
    >>> g.item(), gg.item()
    (12.0, 12.0)
    """
    if isinstance(outputs, Tensor):
        outputs = [outputs]
        grad_outputs = None if grad_outputs is None else [grad_outputs]
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    if retain_graph is None:
        retain_graph = create_graph
    capture = {}
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
        key = id(t) if t.grad_fn is None else (id(t.grad_fn), t._output_nr)
        capture[key] = i
    grads = _root_grads(outputs, grad_outputs, "grad")
    result = _run_backward(outputs, grads, retain_graph, create_graph, capture)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} was not used in the graph; set allow_unused=True if this is "
                f"the desired behavior"
            )
    return tuple(result)


def vjp(formula: Callable, inputs: Sequence, cotangents: Sequence) -> tuple:
    """The gradient of ``sum_i <formula(*inputs)[i], cotangents[i]>`` with respect to each input
    (None where there is no dependence), ``formula`` being written in mytorch ops.

    This is how an ``XxxBackward`` op, whose forward evaluates a gradient in NumPy, writes its
    own backward once: as the vector-Jacobian product of the same gradient written in mytorch
    ops. The inputs count as independent variables (each enters through a fresh alias), and
    when the caller records (``create_graph=True``) the result is connected to them, so it can
    be differentiated again.
    """
    from mytorch.core.ops.movement import Reshape

    create_graph = _state.enabled  # follow the caller: record only when it records
    with set_grad_enabled(True):
        ins = []
        for t in inputs:
            if t is None or t.data.dtype.kind not in "fc":
                ins.append(t)
            elif t.requires_grad:
                ins.append(Reshape.apply(t, t.data.shape))  # an alias that ends the walk here
            else:
                ins.append(Tensor._make(t.data, True))
        outs = formula(*ins)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [
        (o, c)
        for o, c in zip(outs, cotangents)
        if o is not None and c is not None and o.requires_grad
    ]
    wanted = [i for i, t in enumerate(ins) if isinstance(t, Tensor) and t.requires_grad]
    result = [None] * len(inputs)
    if not pairs or not wanted:
        return tuple(result)
    grads = grad(
        [o for o, _ in pairs],
        [ins[i] for i in wanted],
        [c for _, c in pairs],
        retain_graph=create_graph,
        create_graph=create_graph,
        allow_unused=True,
    )
    for i, g in zip(wanted, grads):
        result[i] = g
    return tuple(result)


def registry() -> dict[str, list[type[Function]]]:
    """Every built-in differentiable op, grouped by family (the module that defines it)."""
    return _REGISTRY


from mytorch.core.tensor import Tensor  # noqa: E402
