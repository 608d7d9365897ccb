"""Linear algebra ops: matmul (and mm/bmm/mv/dot/outer), einsum and the fused ``linear``.

``matmul`` follows PyTorch: 1-D operands act as a row/column vector that is removed from the
result, leading dims broadcast as a batch, and gradients are summed over broadcast batch dims.

>>> import mytorch.core as mt
>>> a, b = mt.ones(5, 2, 3), mt.ones(3, 4)
>>> (a @ b).shape
(5, 2, 4)
>>> mt.einsum("bij,jk->bik", a, b).shape
(5, 2, 4)
"""

from __future__ import annotations

import functools
import string
from collections import Counter

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.ops.movement import expand
from mytorch.core.tensor import Tensor

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "einsum", "linear"]


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _dims(shape: tuple) -> str:
    return "x".join(str(s) for s in shape)


# ----------------------------------------------------------------------------------------------
# matmul and its strict variants
# ----------------------------------------------------------------------------------------------


def _blas(x: np.ndarray) -> np.ndarray:
    """``x`` laid out so that BLAS can read its matrices (NumPy's matmul is slow otherwise,
    e.g. on the stride-0 gradients that ``expand`` produces)."""
    item = x.itemsize
    if x.ndim >= 2:
        s0, s1 = x.strides[-2:]
        n0, n1 = x.shape[-2:]
        if (s1 == item and s0 >= item * n1) or (s0 == item and s1 >= item * n0):
            return x
    elif x.ndim == 0 or x.strides[0] == item:
        return x
    return np.ascontiguousarray(x)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = _blas(a), _blas(b)
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:  # one GEMM over the flattened batch
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return np.matmul(a, b)


class MatMul(Function):
    """out = a @ b (1-D operands as vectors, batch dims broadcast);  da = g @ b^T,  db = a^T @ g"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        da = db = None
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is 0-d
            return (g * b if need_a else None), (g * a if need_b else None)
        if a.ndim == 1:  # (k) @ (..., k, m) -> (..., m)
            if need_a:
                da = matmul(b, g.unsqueeze(-1)).squeeze(-1)  # (..., k)
            if need_b:
                db = a.unsqueeze(-1) * g.unsqueeze(-2)  # (..., k, m)
        elif b.ndim == 1:  # (..., n, k) @ (k) -> (..., n)
            if need_a:
                da = g.unsqueeze(-1) * b  # (..., n, k)
            if need_b:
                db = matmul(g.reshape(-1), a.reshape(-1, a.shape[-1]))  # (N) @ (N, k) -> (k)
        else:
            if need_a:
                da = matmul(g, b.mT)  # (..., n, k)
            if need_b:
                if b.ndim == 2 and a.ndim > 2:  # one GEMM over all batch rows
                    k, m = a.shape[-1], g.shape[-1]
                    db = matmul(a.reshape(-1, k).mT, g.reshape(-1, m))  # (k, m)
                else:
                    db = matmul(a.mT, g)  # (..., k, m)
        return da, db


def _check_dtypes(a: Tensor, b: Tensor, op: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}"
        )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D operands and batch broadcasting.

    >>> import mytorch.core as mt
    >>> (mt.ones(3) @ mt.ones(3)).shape, (mt.ones(2, 3) @ mt.ones(3)).shape
    ((), (2,))
    >>> (mt.ones(7, 1, 2, 3) @ mt.ones(5, 3, 4)).shape
    (7, 5, 2, 4)
    """
    input, other = _as_tensor(input), _as_tensor(other)
    sa, sb = input.data.shape, other.data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and "
            f"{len(sb)}D"
        )
    _check_dtypes(input, other, "matmul")
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the "
                f"same number of elements, but got {ka} and {kb} elements respectively"
            )
        raise RuntimeError(
            f"matmul: mat1 and mat2 shapes cannot be multiplied ({_dims(sa)} and {_dims(sb)})"
        )
    ba, bb = sa[:-2], sb[:-2]
    if ba and bb and ba != bb:
        for k in range(1, min(len(ba), len(bb)) + 1):
            x, y = ba[-k], bb[-k]
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"matmul: The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton batch dimension {max(len(ba), len(bb)) - k} (shapes "
                    f"{list(sa)} and {list(sb)})"
                )
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (strictly 2-D)."""
    if input.data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got a {input.data.ndim}-D tensor")
    if mat2.data.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got a {mat2.data.ndim}-D tensor")
    _check_dtypes(input, mat2, "mm")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_dims(input.shape)} and "
            f"{_dims(mat2.shape)})"
        )
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, k) and (b, k, m) tensors (no broadcasting)."""
    if input.data.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor, got {input.data.ndim}D")
    if mat2.data.ndim != 3:
        raise RuntimeError(f"bmm: batch2 must be a 3D tensor, got {mat2.data.ndim}D")
    _check_dtypes(input, mat2, "bmm")
    (b, _, k), (b2, k2, _) = input.shape, mat2.shape
    if (b2, k2) != (b, k):
        raise RuntimeError(
            f"bmm: Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] "
            f"but got: [{b2}, {k2}] (batch1 {list(input.shape)}, batch2 {list(mat2.shape)})."
        )
    return MatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix (n, k) times vector (k,)."""
    if input.data.ndim != 2 or vec.data.ndim != 1:
        raise RuntimeError(
            f"mv: vector + matrix @ vector expected, got a {input.data.ndim}-D matrix and a "
            f"{vec.data.ndim}-D vector"
        )
    _check_dtypes(input, vec, "mv")
    n, k = input.shape
    if vec.shape[0] != k:
        raise RuntimeError(
            f"mv: size mismatch, got input ({n}), mat ({n}x{k}), vec ({vec.shape[0]})"
        )
    return MatMul.apply(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same size (a 0-d tensor)."""
    if input.data.ndim != 1 or tensor.data.ndim != 1:
        raise RuntimeError(
            f"dot: 1D tensors expected, but got {input.data.ndim}D and {tensor.data.ndim}D tensors"
        )
    if input.dtype != tensor.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input.dtype} and "
            f"{tensor.dtype}"
        )
    n, m = input.shape[0], tensor.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    return MatMul.apply(input, tensor)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    for name, x in (("self", input), ("vec2", vec2)):
        if x.data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {x.data.ndim}-D")
    return input.unsqueeze(1) * vec2


# ----------------------------------------------------------------------------------------------
# einsum
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _parse_einsum(equation: str, ndims: tuple) -> tuple:
    """(subscripts per operand, output subscripts), with '...' spelled out as spare letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(ndims):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for pos, c in enumerate(eq):
        if not (c in string.ascii_letters or c in ".,->"):
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {pos} in the equation string, "
                f"subscripts must be in [a-zA-Z]"
            )
    for term in terms + ([rhs] if arrow else []):
        if term.count("...") > 1 or "." in term.replace("...", "", 1) or "-" in term or ">" in term:
            raise RuntimeError(f"einsum(): invalid subscripts {term!r} in equation {equation!r}")
    spare = [c for c in string.ascii_letters if c not in eq]
    ell_counts = []
    for i, (term, nd) in enumerate(zip(terms, ndims)):
        if "..." in term:
            n_labels = len(term) - 3
            if n_labels > nd:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_labels}) is more "
                    f"than the number of dimensions ({nd}) for operand {i}"
                )
            ell_counts.append(nd - n_labels)
        else:
            if len(term) != nd:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(term)}) does not "
                    f"match the number of dimensions ({nd}) for operand {i} and no ellipsis was "
                    f"given"
                )
            ell_counts.append(0)
    n_ell = max(ell_counts, default=0)
    if n_ell > len(spare):
        raise RuntimeError("einsum(): too many dimensions covered by the ellipsis")
    ell = "".join(spare[:n_ell])
    subs = tuple(t.replace("...", ell[n_ell - k :]) for t, k in zip(terms, ell_counts))
    if arrow:
        out = rhs.replace("...", ell)
        seen = set("".join(subs))
        for c in rhs.replace("...", ""):
            if c not in seen:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any "
                    f"input operand"
                )
            if rhs.count(c) > 1:
                raise RuntimeError(
                    f"einsum(): output subscript {c} appears more than once in the output"
                )
    else:
        counts = Counter("".join(t.replace("...", "") for t in terms))
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    return subs, out


def _as3(x: np.ndarray, s: str, g0: list, g1: list, g2: list) -> np.ndarray:
    """``x`` (labels ``s``) as a (prod g0, prod g1, prod g2) array, transposing lazily."""
    size = dict(zip(s, x.shape))
    n0, n1, n2 = (int(np.prod([size[c] for c in g], dtype=np.int64)) for g in (g0, g1, g2))
    perm = [s.index(c) for c in g0 + g1 + g2]
    alt = [s.index(c) for c in g0 + g2 + g1]
    if perm != sorted(perm) and alt == sorted(alt):  # stored as (g0, g2, g1): a transposed view
        return x.reshape(n0, n2, n1).transpose(0, 2, 1)
    return x.transpose(perm).reshape(n0, n1, n2)


def _einsum_pair(a: np.ndarray, b: np.ndarray, sa: str, sb: str, so: str) -> np.ndarray:
    """Two-operand einsum as one batched matrix product (BLAS)."""
    keep_a, keep_b = set(sb) | set(so), set(sa) | set(so)
    if any(c not in keep_a for c in sa):
        a = a.sum(axis=tuple(i for i, c in enumerate(sa) if c not in keep_a))
        sa = "".join(c for c in sa if c in keep_a)
    if any(c not in keep_b for c in sb):
        b = b.sum(axis=tuple(i for i, c in enumerate(sb) if c not in keep_b))
        sb = "".join(c for c in sb if c in keep_b)
    batch = [c for c in so if c in sa and c in sb]
    left = [c for c in so if c in sa and c not in sb]
    right = [c for c in so if c in sb and c not in sa]
    contract = [c for c in sa if c in sb and c not in so]
    size = dict(zip(sa, a.shape)) | dict(zip(sb, b.shape))
    r = np.matmul(
        _blas(_as3(a, sa, batch, left, contract)), _blas(_as3(b, sb, batch, contract, right))
    )
    order = batch + left + right
    r = r.reshape(tuple(size[c] for c in order))
    perm = [order.index(c) for c in so]
    return r.transpose(perm) if perm != sorted(perm) else r


def _einsum(arrays: tuple, subs: tuple, out: str) -> np.ndarray:
    if len(arrays) == 2 and all(len(set(s)) == len(s) for s in subs):
        return _einsum_pair(arrays[0], arrays[1], subs[0], subs[1], out)
    r = np.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 2)
    return r if r.flags.writeable else r.copy()


class Einsum(Function):
    """out = einsum(subs -> out, *operands);  d operand_i = einsum(g, other operands -> subs_i)"""

    @staticmethod
    def forward(ctx, *arrays, subs, out):
        ctx.subs, ctx.out = subs, out
        ctx.sizes = {c: n for s, a in zip(subs, arrays) for c, n in zip(s, a.shape)}
        ctx.save_for_backward(*arrays)
        return _einsum(arrays, subs, out)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        subs, sizes = ctx.subs, ctx.sizes
        grads = []
        for i, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            terms = [ctx.out] + [s for j, s in enumerate(subs) if j != i]
            tensors = [g] + [t for j, t in enumerate(ops) if j != i]
            available = set("".join(terms))
            spare = iter(c for c in string.ascii_letters if c not in "".join(subs) + ctx.out)
            target = ""
            for c in subs[i]:
                if c in target:  # a repeated label: a fresh one tied to it by an identity matrix
                    fresh = next(spare)
                    terms.append(c + fresh)
                    tensors.append(Tensor._make(np.eye(sizes[c], dtype=g.dtype)))
                    target += fresh
                    continue
                if c not in available:  # summed away in the forward: broadcast back with ones
                    terms.append(c)
                    tensors.append(Tensor._make(np.ones(sizes[c], dtype=g.dtype)))
                    available.add(c)
                target += c
            grads.append(Einsum.apply(*tensors, subs=tuple(terms), out=target))
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the labels of ``equation`` (NumPy/PyTorch einsum).

    ``...`` stands for broadcast batch dims; without ``->`` the output holds the labels that
    appear once, in alphabetical order. ``operands`` may also be given as one list.

    >>> import mytorch.core as mt
    >>> q, k = mt.ones(2, 4, 5, 8), mt.ones(2, 4, 6, 8)
    >>> mt.einsum("bhqd,bhkd->bhqk", q, k).shape
    (2, 4, 5, 6)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(op).__name__}")
    subs, out = _parse_einsum(equation, tuple(op.data.ndim for op in operands))
    dtype = operands[0].dtype if operands else None
    sizes: dict = {}
    broadcast = False
    for i, (s, op) in enumerate(zip(subs, operands)):
        if op.dtype != dtype:
            raise RuntimeError(
                f"einsum(): expected all operands to have the same dtype, but operand 0 is "
                f"{dtype} and operand {i} is {op.dtype}"
            )
        local: dict = {}
        for c, n in zip(s, op.data.shape):
            if local.setdefault(c, n) != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                    f"match, {local[c]} != {n}"
                )
            prev = sizes.get(c)
            if prev is None or prev == n:
                sizes[c] = n
            elif prev == 1 or n == 1:
                sizes[c] = max(prev, n)
                broadcast = True
            else:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                    f"broadcast with previously seen size {prev}"
                )
    if broadcast:
        operands = tuple(expand(op, tuple(sizes[c] for c in s)) for s, op in zip(subs, operands))
    return Einsum.apply(*operands, subs=subs, out=out)


# ----------------------------------------------------------------------------------------------
# linear
# ----------------------------------------------------------------------------------------------


class Linear(Function):
    """out = x @ W^T + b;  dx = g @ W,  dW = g^T @ x (batch dims flattened),  db = g summed over batch dims"""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.bias_ndim = None if b is None else b.ndim
        out = _matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        n_out, n_in = w.shape
        dx = dw = db = None
        if need_x:
            dx = matmul(g, w)  # (..., out) @ (out, in) -> (..., in)
        if need_w or need_b:
            g2 = g.reshape(-1, n_out)  # (M, out)
            if need_w:
                dw = matmul(g2.mT, x.reshape(-1, n_in))  # (out, M) @ (M, in) -> (out, in)
            if need_b:
                db = g2.sum(0) if ctx.bias_ndim <= 1 else g
        return dx, dw, db


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one op; ``weight`` is (out_features, in_features).

    >>> import mytorch.core as mt
    >>> linear(mt.ones(8, 5, 3), mt.ones(4, 3), mt.zeros(4)).shape
    (8, 5, 4)
    """
    if weight.data.ndim != 2:
        out = matmul(input, weight)
        return out if bias is None else out + bias
    shape = input.data.shape
    if not shape:
        raise RuntimeError("linear: input must be at least 1-D, got a 0-d tensor")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"linear: mat1 and mat2 must have the same dtype, but got {input.dtype} and "
            f"{weight.dtype}"
        )
    n_out, n_in = weight.data.shape
    if shape[-1] != n_in:
        rows = int(np.prod(shape[:-1], dtype=np.int64))
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x{shape[-1]} and "
            f"{n_in}x{n_out})"
        )
    if bias is not None:
        out_shape = shape[:-1] + (n_out,)
        try:
            ok = np.broadcast_shapes(out_shape, bias.data.shape) == out_shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"linear: bias of shape {list(bias.data.shape)} does not broadcast to the output "
                f"shape {list(out_shape)}"
            )
        if bias.dtype != input.dtype:
            raise RuntimeError(
                f"linear: bias must have the input's dtype {input.dtype}, got {bias.dtype}"
            )
    return Linear.apply(input, weight, bias)
