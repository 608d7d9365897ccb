"""Movement ops: reshape/view, transpose/permute, squeeze, expand, cat/stack, split, pad, flip...

They move or copy elements without arithmetic; each backward moves the gradient back
(``permute`` by the inverse order, ``cat`` by splitting, ``pad`` by cropping, ...).

>>> import mytorch.core as mt
>>> x = mt.arange(6.0).reshape(2, 3)
>>> mt.cat([x, x], dim=1).shape
(2, 6)
>>> [t.shape for t in x.split([1, 2], dim=1)]
[(2, 1), (2, 2)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor

__all__ = [
    "reshape",
    "view",
    "transpose",
    "swapaxes",
    "swapdims",
    "permute",
    "t",
    "movedim",
    "moveaxis",
    "squeeze",
    "unsqueeze",
    "flatten",
    "ravel",
    "unflatten",
    "expand",
    "broadcast_to",
    "broadcast_tensors",
    "broadcast_shapes",
    "repeat",
    "tile",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "cat",
    "concat",
    "concatenate",
    "stack",
    "hstack",
    "vstack",
    "dstack",
    "split",
    "chunk",
    "unbind",
    "narrow",
    "select",
    "pad",
    "clone",
    "tril",
    "triu",
]


# ----------------------------------------------------------------------------------------------
# Helpers shared by the movement, indexing and linalg families
# ----------------------------------------------------------------------------------------------


def _wrap_dim(dim: int, ndim: int) -> int:
    """A dim in ``[-ndim, ndim)`` as a non-negative index (0-d tensors accept -1 and 0)."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


def _dims_arg(dims, ndim: int, op: str) -> tuple:
    """Normalize an int or a sequence of dims, refusing repeats."""
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_wrap_dim(int(d), ndim) for d in dims)
    if len(set(out)) != len(out):
        for d in out:
            if out.count(d) > 1:
                raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims")
    return out


def _promote(dtypes: list) -> np.dtype:
    """PyTorch's result dtype for tensors: any float wins over ints (int64 + float32 -> float32)."""
    first = dtypes[0]
    if all(d == first for d in dtypes):
        return first
    floats = [d for d in dtypes if d.kind in "fc"]
    return np.result_type(*(floats or dtypes))


def _check_tensors(tensors, op: str) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a sequence of Tensors, not Tensor")
    tensors = list(tensors)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{op}(): expected Tensor as element {i} in argument 'tensors', but got "
                f"{type(x).__name__}"
            )
    return tensors


# ----------------------------------------------------------------------------------------------
# reshape / view / flatten / squeeze / unsqueeze
# ----------------------------------------------------------------------------------------------


def _infer_shape(shape: tuple, numel: int, op: str) -> tuple:
    shape = tuple(int(s) for s in shape)
    infer = -1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise RuntimeError(f"{op}: only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(
                f"{op}: invalid shape dimension {s} at index {i} of shape {list(shape)}"
            )
    if infer >= 0:
        known = math.prod(s for s in shape if s != -1)
        if known == 0:
            if numel == 0:
                raise RuntimeError(
                    f"{op}: cannot reshape tensor of 0 elements into shape {list(shape)} because "
                    f"the unspecified dimension size -1 can be any value and is ambiguous"
                )
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1 :]
    elif math.prod(shape) != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    """out = a with a new shape (same elements in row-major order);  da = g reshaped back"""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


def _reshape(input: Tensor, shape: tuple) -> Tensor:
    """Reshape to an already validated shape (a new tensor object, as PyTorch's views are)."""
    if shape == input.data.shape and not input.requires_grad:
        return Tensor._make(input.data)
    return Reshape.apply(input, shape)


def reshape(input: Tensor, shape) -> Tensor:
    """``input`` with the same elements in a new ``shape`` (one entry may be -1).

    >>> import mytorch.core as mt
    >>> mt.arange(6).reshape(3, -1).shape
    (3, 2)
    """
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return _reshape(input, _infer_shape(shape, input.data.size, "reshape"))


def _view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple) -> tuple | None:
    """Strides (in bytes) that show an array of ``old_shape``/``old_strides`` as ``new_shape``
    without copying, or None when there are none (PyTorch's rule for ``view``).

    The old dims fall into chunks, runs of dims laid out contiguously one after another; a
    view may split or merge dims only within a chunk.
    """
    if not old_shape:
        return (0,) * len(new_shape)
    numel = math.prod(old_shape)
    if numel == 0:  # no element to reach: any shape views it
        return (0,) * len(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base = old_strides[-1]  # stride of the innermost dim of the current chunk
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * base):
            # dims d.. of the chunk end here: fill new dims until they hold as many elements
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def view(input: Tensor, shape) -> Tensor:
    """``input``'s elements in a new ``shape``, sharing its memory (writes show in both).

    Like PyTorch, only shapes that the memory layout allows: a dim may be split, and dims that
    are contiguous with each other merged; otherwise use ``reshape``, which copies when needed.

    >>> import mytorch.core as mt
    >>> x = mt.zeros(2, 3)
    >>> x.view(6)[4] = 1.0
    >>> x.tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = _infer_shape(shape, input.data.size, "view")
    if _view_strides(input.data.shape, input.data.strides, shape) is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return _reshape(input, shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one; a 0-d input becomes shape (1,)."""
    shape = input.data.shape
    if not shape:
        return _reshape(input, (1,))
    s, e = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return _reshape(input, shape)
    return _reshape(input, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


def ravel(input: Tensor) -> Tensor:
    """All elements as a 1-D tensor."""
    return _reshape(input, (input.data.size,))


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one entry may be -1).

    >>> import mytorch.core as mt
    >>> mt.zeros(2, 12).unflatten(1, (3, -1)).shape
    (2, 3, 4)
    """
    shape = input.data.shape
    d = _wrap_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = shape[d] if shape else 1
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or n % known:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{dim} ({n}) in the input tensor"
            )
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({n}) in the input tensor"
        )
    return _reshape(input, shape[:d] + sizes + shape[d + 1 :])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``; naming a dim of another size is a no-op)."""
    shape = input.data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = _dims_arg(dim, len(shape), "squeeze")
        new = tuple(s for i, s in enumerate(shape) if s != 1 or i not in dims)
    return _reshape(input, new)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at position ``dim`` (in ``[-ndim-1, ndim]``)."""
    shape = input.data.shape
    d = _wrap_dim(dim, len(shape) + 1)
    return _reshape(input, shape[:d] + (1,) + shape[d:])


# ----------------------------------------------------------------------------------------------
# permute / transpose / movedim
# ----------------------------------------------------------------------------------------------


class Permute(Function):
    """out = a with axes reordered by ``dims``;  da = g permuted by the inverse order"""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(ctx.inverse), None


def permute(input: Tensor, dims) -> Tensor:
    """``input`` with its dims reordered: output dim i is input dim ``dims[i]`` (a view)."""
    n = input.data.ndim
    dims = tuple(dims)
    if len(dims) != n:
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {n} is not equal to "
            f"len(dims) = {len(dims)}"
        )
    dims = tuple(_wrap_dim(int(d), n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
    if n and dims == tuple(range(n)) and not input.requires_grad:
        return Tensor._make(input.data)
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    n = input.data.ndim
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    if n < 2 or d0 == d1:
        return _reshape(input, input.data.shape)
    dims = list(range(n))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(input, tuple(dims))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a matrix; 0-d and 1-D tensors come back unchanged."""
    n = input.data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return transpose(input, 0, 1) if n == 2 else _reshape(input, input.data.shape)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    n = input.data.ndim
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = tuple(_wrap_dim(int(d), n) for d in src)
    dst = tuple(_wrap_dim(int(d), n) for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


# ----------------------------------------------------------------------------------------------
# expand / broadcast / repeat / tile
# ----------------------------------------------------------------------------------------------


class Expand(Function):
    """out = a broadcast to ``shape`` (a read-only view);  da = g (the engine sums it back)"""

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


def expand(input: Tensor, shape) -> Tensor:
    """``input`` broadcast to ``shape`` without copying; -1 keeps a dim's size.

    >>> import mytorch.core as mt
    >>> mt.zeros(3, 1).expand(2, -1, 4).shape
    (2, 3, 4)
    """
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    have = input.data.shape
    lead = len(shape) - len(have)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(have)})"
        )
    full = list(shape)
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            continue
        h = have[i - lead]
        if s == -1:
            full[i] = h
        elif h != s and h != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({h}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor sizes: "
                f"{list(have)}"
            )
    full = tuple(full)
    if full == have:
        return input
    return Expand.apply(input, full)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """``input`` broadcast to ``shape`` (same as ``expand``)."""
    return expand(input, shape)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of ``shapes`` broadcast to."""
    try:
        return np.broadcast_shapes(*(tuple(s) if not isinstance(s, int) else (s,) for s in shapes))
    except ValueError:
        raise RuntimeError(
            f"Shape mismatch: objects cannot be broadcast to a single shape, got {list(shapes)}"
        ) from None


def broadcast_tensors(*tensors) -> tuple:
    """Expand every tensor to their common broadcast shape."""
    shape = broadcast_shapes(*(x.shape for x in tensors))
    return tuple(expand(x, shape) for x in tensors)


class Repeat(Function):
    """out = a tiled ``reps`` times along each dim;  da = g summed over the copies"""

    @staticmethod
    def forward(ctx, a, reps):
        shape = (1,) * (len(reps) - a.ndim) + a.shape
        ctx.shape, ctx.in_shape, ctx.reps = shape, a.shape, reps
        return np.tile(a.reshape(shape), reps)

    @staticmethod
    def backward(ctx, g):
        split = []
        for r, s in zip(ctx.reps, ctx.shape):
            split += [r, s]
        summed = g.reshape(tuple(split)).sum(tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.in_shape), None


def repeat(input: Tensor, sizes) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along dim i (``sizes`` may add leading dims).

    >>> import mytorch.core as mt
    >>> mt.tensor([1, 2]).repeat(2, 2).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    if isinstance(sizes, (int, np.integer)):
        sizes = (sizes,)
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.data.ndim:
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than "
            f"number of dimensions of tensor ({input.data.ndim})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(sizes)}")
    return Repeat.apply(input, sizes)


def tile(input: Tensor, dims) -> Tensor:
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with leading 1s."""
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    dims = tuple(int(d) for d in dims)
    dims = (1,) * (input.data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ----------------------------------------------------------------------------------------------
# flip / roll
# ----------------------------------------------------------------------------------------------


class Flip(Function):
    """out = a reversed along ``dims`` (a copy);  da = g reversed along the same dims"""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    dims = _dims_arg(dims, input.data.ndim, "flip")
    if input.data.ndim == 0:
        dims = ()
    return Flip.apply(input, dims)


def fliplr(input: Tensor) -> Tensor:
    """Reverse along dim 1 (tensor must be at least 2-D)."""
    if input.data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse along dim 0 (tensor must be at least 1-D)."""
    if input.data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Function):
    """out = a rotated by ``shifts`` along ``dims``;  da = g rotated by -shifts"""

    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return Roll.apply(g, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (the flattened tensor when ``dims`` is None).

    >>> import mytorch.core as mt
    >>> mt.tensor([1, 2, 3]).roll(1).tolist()
    [3, 1, 2]
    """
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:0"
            )
        flat = _reshape(input, (input.data.size,))
        return _reshape(Roll.apply(flat, (int(shifts[0]),), (0,)), input.data.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(_wrap_dim(int(d), input.data.ndim) for d in dims)
    return Roll.apply(input, tuple(int(s) for s in shifts), dims)


# ----------------------------------------------------------------------------------------------
# cat / stack and their inverses split / unbind
# ----------------------------------------------------------------------------------------------


class Cat(Function):
    """out = the inputs joined along ``dim``;  d input_i = the matching slice of g"""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = tuple(a.shape[dim] for a in arrays)
        dtype = _promote([a.dtype for a in arrays])
        return np.concatenate(arrays, axis=dim, dtype=dtype, casting="unsafe")

    @staticmethod
    def backward(ctx, g):
        return Split.apply(g, ctx.sizes, ctx.dim)


class Split(Function):
    """outs = consecutive slices of a along ``dim`` with ``sizes`` (views);  da = cat of the grads"""

    @staticmethod
    def forward(ctx, a, sizes, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        outs, start = [], 0
        for s in sizes:
            outs.append(a[lead + (slice(start, start + s),)])
            start += s
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(*grads, dim=ctx.dim), None, None


class Stack(Function):
    """out = the inputs stacked along a new dim ``dim``;  d input_i = g selected at i along dim"""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        dtype = _promote([a.dtype for a in arrays])
        return np.stack(arrays, axis=dim, dtype=dtype, casting="unsafe")

    @staticmethod
    def backward(ctx, g):
        return Unbind.apply(g, ctx.dim)


class Unbind(Function):
    """outs = the slices of a at each index along ``dim`` (views);  da = stack of the grads"""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[lead + (i,)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(*grads, dim=ctx.dim), None


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other dims must match.

    1-D tensors of shape (0,) join any other tensors as empty slices, as in PyTorch.

    >>> import mytorch.core as mt
    >>> mt.cat([mt.zeros(2, 3), mt.ones(1, 3)]).shape
    (3, 3)
    """
    tensors = _check_tensors(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if x.data.ndim == 0:
            raise RuntimeError(
                f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    r = next((i for i, x in enumerate(tensors) if x.data.shape != (0,)), 0)
    ref = tensors[r].data.shape
    d = _wrap_dim(dim, len(ref))
    if ref != (0,) and len(ref) != 1:  # legacy empty 1-D tensors join as empty slices
        empty = ref[:d] + (0,) + ref[d + 1 :]
        tensors = [_reshape(x, empty) if x.data.shape == (0,) else x for x in tensors]
    ref_rest = ref[:d] + ref[d + 1 :]
    for i, x in enumerate(tensors):
        shape = x.data.shape
        if len(shape) != len(ref):
            raise RuntimeError(
                f"cat(): Tensors must have same number of dimensions: got {len(ref)} and "
                f"{len(shape)} (tensor number {i} in the list has shape {list(shape)}, tensor "
                f"number {r} has shape {list(ref)})"
            )
        if shape[:d] + shape[d + 1 :] != ref_rest:
            bad = next(k for k in range(len(ref)) if k != d and shape[k] != ref[k])
            raise RuntimeError(
                f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                f"{ref[bad]} but got size {shape[bad]} for tensor number {i} in the list "
                f"(shapes {list(ref)} and {list(shape)})"
            )
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim ``dim``.

    >>> import mytorch.core as mt
    >>> mt.stack([mt.zeros(2, 3), mt.ones(2, 3)], dim=1).shape
    (2, 2, 3)
    """
    tensors = _check_tensors(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0].data.shape
    for i, x in enumerate(tensors):
        if x.data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                f"{list(x.data.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(ref) + 1)
    return Stack.apply(*tensors, dim=d)


def _atleast(x: Tensor, n: int) -> Tensor:
    shape = x.data.shape
    if len(shape) >= n:
        return x
    if n == 1:
        return _reshape(x, (1,))
    if n == 2:
        return _reshape(x, (1,) * (2 - len(shape)) + shape)
    return _reshape(x, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)])


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate column-wise: along dim 0 for 1-D tensors, dim 1 otherwise."""
    tensors = [_atleast(x, 1) for x in _check_tensors(tensors, "hstack")]
    if not tensors:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(tensors, 0 if tensors[0].data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate row-wise (1-D tensors become rows)."""
    tensors = [_atleast(x, 2) for x in _check_tensors(tensors, "vstack")]
    if not tensors:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(tensors, 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate depth-wise along dim 2 (tensors are made at least 3-D)."""
    tensors = [_atleast(x, 3) for x in _check_tensors(tensors, "dstack")]
    if not tensors:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat(tensors, 2)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given sizes.

    >>> import mytorch.core as mt
    >>> [t.shape[0] for t in mt.zeros(5).split(2)]
    [2, 2, 1]
    """
    shape = tensor.data.shape
    if not shape:
        raise RuntimeError("split: expected a tensor with at least one dimension")
    d = _wrap_dim(dim, len(shape))
    n = shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}"
            )
        if size == 0:
            if n:
                raise RuntimeError(
                    f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
                )
            sizes = (0,)
        else:
            sizes = (size,) * (n // size) + ((n % size,) if n % size else ())
            sizes = sizes or (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={list(sizes)}"
            )
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={list(sizes)}"
            )
    return Split.apply(tensor, sizes, d)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (there may be fewer pieces)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input.data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, len(shape))
    n = shape[d]
    if n == 0:
        return Split.apply(input, (0,) * chunks, d)
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim."""
    if input.data.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input.data.ndim)
    return Unbind.apply(input, d)


# ----------------------------------------------------------------------------------------------
# constant padding / cropping (pad, narrow)
# ----------------------------------------------------------------------------------------------


class ConstantPad(Function):
    """out = a padded by (before, after) per dim with value (negative widths crop);  da = g padded by the negated widths"""

    @staticmethod
    def forward(ctx, a, widths, value):
        ctx.widths = widths
        crop = tuple(
            slice(-b if b < 0 else 0, n + e if e < 0 else n) for (b, e), n in zip(widths, a.shape)
        )
        a = a[crop]
        if all(b <= 0 and e <= 0 for b, e in widths):
            return a
        shape = tuple(n + max(b, 0) + max(e, 0) for (b, e), n in zip(widths, a.shape))
        if value == 0:
            out = np.zeros(shape, a.dtype)
        else:
            out = np.full(shape, value, a.dtype)
        out[tuple(slice(max(b, 0), max(b, 0) + n) for (b, _), n in zip(widths, a.shape))] = a
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-b, -e) for b, e in ctx.widths), 0), None, None


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` of dim ``dim`` (a view)."""
    shape = input.data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape))
    n = shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(
            f"start out of range (expected to be in range of [{-n}, {n}], but got {start})"
        )
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    widths = [(0, 0)] * len(shape)
    widths[d] = (-start, -(n - start - length))
    return ConstantPad.apply(input, tuple(widths), 0)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, without that dim."""
    shape = input.data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape))
    n = shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {d}"
        )
    from mytorch.core.ops.indexing import getitem

    return getitem(input, (slice(None),) * d + (index,))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` is (last_before, last_after, prev_before, ...).

    Modes: ``constant`` (fill with ``value``; negative widths crop), ``reflect`` (mirror
    without repeating the edge), ``replicate`` (repeat the edge), ``circular`` (wrap around).

    >>> import mytorch.core as mt
    >>> mt.pad(mt.tensor([[1, 2, 3]]), (1, 2), mode="reflect").tolist()
    [[2, 1, 2, 3, 2, 1]]
    """
    pad = tuple(int(p) for p in pad)
    shape = input.data.shape
    ndim = len(shape)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    if k > ndim:
        raise RuntimeError(
            f"pad: Padding length should be less than or equal to two times the input dimension "
            f"but got padding length {len(pad)} and input of dimension {ndim}"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(
            f"pad: Unrecognised padding mode {mode!r}; expected one of {_PAD_MODES}"
        )
    pairs = [(0, 0)] * ndim
    for i in range(k):
        pairs[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        for d, ((b, e), n) in enumerate(zip(pairs, shape)):
            if n + b + e < 0:
                raise RuntimeError(
                    f"pad: padding ({b}, {e}) of dimension {d} (size {n}) gives a negative size "
                    f"{n + b + e}"
                )
        if all(p == (0, 0) for p in pairs):
            return clone(input)
        return ConstantPad.apply(input, tuple(pairs), 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument.')
    if ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: Padding size {len(pad)} is not supported for {ndim}D input tensor; mode "
            f"{mode!r} pads the last {k} dims of a {k + 1}D or {k + 2}D input"
        )
    from mytorch.core.ops.indexing import index_select

    out = input
    for d in range(ndim - k, ndim):
        b, e = pairs[d]
        if b == 0 and e == 0:
            continue
        n = shape[d]
        pos = np.arange(-b, n + e)
        if mode == "reflect":
            if b >= n or e >= n:
                raise RuntimeError(
                    f"pad: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({b}, {e}) at dimension {d} of input {list(shape)}"
                )
            period = 2 * (n - 1)
            pos = np.abs(pos) % period if period else np.zeros_like(pos)
            idx = np.where(pos >= n, period - pos, pos)
        elif mode == "replicate":
            if n == 0:
                raise RuntimeError(f"pad: cannot replicate-pad dimension {d} of size 0")
            idx = np.clip(pos, 0, n - 1)
        else:
            if b > n or e > n:
                raise RuntimeError(
                    f"pad: Padding value causes wrapping around more than once: padding ({b}, "
                    f"{e}) at dimension {d} of input {list(shape)}"
                )
            # wrap within the part that survives negative (cropping) widths, as PyTorch does
            lo, hi = max(-b, 0), n - max(-e, 0)
            idx = lo + (np.arange(-max(b, 0), hi - lo + max(e, 0)) % (hi - lo))
        out = index_select(out, d, Tensor._make(idx.astype(np.int64)))
    return out


# ----------------------------------------------------------------------------------------------
# clone / tril / triu
# ----------------------------------------------------------------------------------------------


class Clone(Function):
    """out = a copy of a (contiguous);  da = g"""

    @staticmethod
    def forward(ctx, a):
        return np.array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input: Tensor) -> Tensor:
    """A copy of ``input`` with its own memory (gradients flow through)."""
    return Clone.apply(input)


class Tril(Function):
    """out = a with elements above diagonal ``k`` zeroed (last two dims);  da = tril(g, k)"""

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return np.tril(a, k)

    @staticmethod
    def backward(ctx, g):
        return Tril.apply(g, ctx.k), None


class Triu(Function):
    """out = a with elements below diagonal ``k`` zeroed (last two dims);  da = triu(g, k)"""

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return np.triu(a, k)

    @staticmethod
    def backward(ctx, g):
        return Triu.apply(g, ctx.k), None


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (elements with col - row <= ``diagonal``)."""
    if input.data.ndim < 2:
        raise RuntimeError(
            f"tril: input tensor must have at least 2 dimensions, got {input.data.ndim}"
        )
    return Tril.apply(input, int(diagonal))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (elements with col - row >= ``diagonal``)."""
    if input.data.ndim < 2:
        raise RuntimeError(
            f"triu: input tensor must have at least 2 dimensions, got {input.data.ndim}"
        )
    return Triu.apply(input, int(diagonal))
