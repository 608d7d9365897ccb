"""The Tensor: a NumPy array with an optional place in the autograd graph.

Every method that computes something delegates to one op family module under
``mytorch.core.ops`` (elementwise, reduce, movement, indexing, linalg, activation), where
each op's forward and backward stand side by side.

>>> from mytorch.core import tensor
>>> x = tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[[2.0, 4.0], [6.0, 8.0]]
"""

from __future__ import annotations

import builtins
import weakref
from typing import Any

import numpy as np

from mytorch.core import dtypes
from mytorch.core.grad_mode import _state


class Tensor:
    """An n-dimensional array of float32 (default), float64, int64 or bool with autograd."""

    __slots__ = (
        "data",
        "requires_grad",
        "grad",
        "grad_fn",
        "_output_nr",
        "_version",
        "_hooks",
        "_post_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # make ndarray <op> Tensor defer to Tensor's reflected operators

    def __init__(self, data: Any = None, dtype=None, requires_grad: bool = False) -> None:
        if data is None:
            data = np.zeros((0,), dtype=dtypes.get_default_dtype())
        self.data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        self._post_hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False, grad_fn=None, output_nr: int = 0):
        """Fast internal constructor around an existing array (no copy, no checks)."""
        t = object.__new__(Tensor)
        t.data = data
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = 0
        t._hooks = None
        t._post_hooks = None
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def T(self) -> Tensor:
        return _mv.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        return _mv.transpose(self, -2, -1)

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def size(self, dim: int | None = None):
        if dim is None:
            return self.data.shape
        return self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def element_size(self) -> int:
        return self.data.itemsize

    def stride(self, dim: int | None = None):
        s = tuple(st // self.data.itemsize for st in self.data.strides)
        return s if dim is None else s[dim]

    def is_contiguous(self) -> bool:
        return bool(self.data.flags["C_CONTIGUOUS"])

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ------------------------------------------------------------------ autograd API
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.data.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach() instead"
            )
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        _autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph."""
        return Tensor._make(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            hooks, item = self._hooks, hook
        else:
            self.grad_fn.register_hook(hook, self._output_nr)
            hooks, item = self.grad_fn._hooks[self._output_nr], hook
        return _HookHandle(hooks, item)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` once per backward, after this leaf's ``.grad`` holds all of it.

        Fires after every contribution of the backward pass has been added to ``.grad`` (not
        for ``autograd.grad``, which leaves ``.grad`` alone); data-parallel training starts
        communicating a gradient from here while backward goes on.

        >>> from mytorch.core import tensor
        >>> w = tensor([1.0, 2.0], requires_grad=True)
        >>> seen = []
        >>> h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        >>> (w * w + w).sum().backward()
        >>> seen
        [[3.0, 5.0]]
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if getattr(self, "_post_hooks", None) is None:  # subclasses may skip __init__
            self._post_hooks = []
        self._post_hooks.append(hook)
        _autograd._post_hook_added(1)
        return _HookHandle(self._post_hooks, hook, on_remove=_autograd._post_hook_added)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = Tensor._make(g.data.copy() if t.grad is None else t.grad.data + g.data)

        self.grad_fn.register_hook(keep, self._output_nr)

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy()"
            )
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def clone(self) -> Tensor:
        return _mv.clone(self)

    def contiguous(self) -> Tensor:
        return self if self.data.flags["C_CONTIGUOUS"] else _mv.clone(self)

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``; device strings other than "cpu" are refused."""
        dtype = kwargs.pop("dtype", None)
        for a in args:
            if isinstance(a, str) or a is None:
                if a not in (None, "cpu"):
                    raise RuntimeError(f"to(): mytorch runs on the CPU only, got device {a!r}")
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        device = kwargs.pop("device", None)
        if device not in (None, "cpu"):
            raise RuntimeError(f"to(): mytorch runs on the CPU only, got device {device!r}")
        if dtype is None:
            return self
        dtype = dtypes.to_dtype(dtype)
        if dtype == self.data.dtype:
            return self
        return _ew.cast(self, dtype)

    type_as = lambda self, other: self.to(other.dtype)  # noqa: E731

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        return self

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return builtins.bool(self.data.reshape(()).item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", precision=4, prefix="tensor(", threshold=1000
        )
        extras = []
        if self.data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=mytorch.{self.data.dtype}")
        if self.data.size == 0:
            extras.append(f"size={tuple(self.shape)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy with its own data (and grad), of the same class (so Parameters stay Parameters)."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment. If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage."
            )
        if id(self) in memo:
            return memo[id(self)]
        t = object.__new__(type(self))
        t.data = self.data.copy()
        t.requires_grad = self.requires_grad
        t.grad = None if self.grad is None else Tensor._make(self.grad.data.copy())
        t.grad_fn = None
        t._output_nr = 0
        t._version = 0
        t._hooks = None
        t._post_hooks = None
        memo[id(self)] = t
        return t

    def __getstate__(self):
        raise TypeError(
            "mytorch tensors are not pickled; use mytorch.nn.save/load (safetensors) instead"
        )

    # ------------------------------------------------------------------ in-place
    def _inplace(self, result: Tensor) -> Tensor:
        """Make ``result`` the new value of self, as PyTorch's in-place ops do.

        Outside recording (or when nothing requires grad) the data is written into self's
        array, so NumPy views of it see the change. While recording on a tensor that requires
        grad, self takes over ``result``'s data and history (its old value stays intact for
        the nodes that saved it).
        """
        if _state.enabled and (self.requires_grad or result.requires_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            if result.data.shape != self.data.shape:
                raise RuntimeError(
                    f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                    f"{list(result.shape)}"
                )
            node = result.grad_fn
            if node is not None and node._saved:
                # The op that computed the new value may have saved self's old value (as
                # PyTorch saves a copy of ``self`` for in-place ops): point it at a snapshot.
                old = Tensor._make(self.data, self.requires_grad, self.grad_fn, self._output_nr)
                old._version = self._version
                for entry in node._saved:
                    if entry.tensor is self:
                        entry.tensor = old
            self.data = result.data.astype(self.data.dtype, copy=False)
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self.requires_grad = result.requires_grad
        else:
            try:
                np.copyto(self.data, np.broadcast_to(result.data, self.data.shape), "same_kind")
            except ValueError:
                raise RuntimeError(
                    f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                    f"{list(result.shape)}"
                ) from None
            except TypeError:
                raise RuntimeError(
                    f"result type {result.dtype} can't be cast to the desired output type "
                    f"{self.dtype}"
                ) from None
        self._version += 1
        return self

    def add_(self, other, alpha=1) -> Tensor:
        return self._inplace(_ew.add(self, other, alpha=alpha))

    def sub_(self, other, alpha=1) -> Tensor:
        return self._inplace(_ew.sub(self, other, alpha=alpha))

    def mul_(self, other) -> Tensor:
        return self._inplace(_ew.mul(self, other))

    def div_(self, other, rounding_mode=None) -> Tensor:
        return self._inplace(_ew.div(self, other, rounding_mode=rounding_mode))

    def pow_(self, exponent) -> Tensor:
        return self._inplace(_ew.pow(self, exponent))

    def neg_(self) -> Tensor:
        return self._inplace(_ew.neg(self))

    def exp_(self) -> Tensor:
        return self._inplace(_ew.exp(self))

    def sqrt_(self) -> Tensor:
        return self._inplace(_ew.sqrt(self))

    def abs_(self) -> Tensor:
        return self._inplace(_ew.abs(self))

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace(_ew.clamp(self, min, max))

    clip_ = clamp_

    def relu_(self) -> Tensor:
        return self._inplace(_act.relu(self))

    def sigmoid_(self) -> Tensor:
        return self._inplace(_ew.sigmoid(self))

    def tanh_(self) -> Tensor:
        return self._inplace(_ew.tanh(self))

    def addcmul_(self, tensor1, tensor2, value=1) -> Tensor:
        return self._inplace(_ew.add(self, _ew.mul(tensor1, tensor2), alpha=value))

    def addcdiv_(self, tensor1, tensor2, value=1) -> Tensor:
        return self._inplace(_ew.add(self, _ew.div(tensor1, tensor2), alpha=value))

    def lerp_(self, end, weight) -> Tensor:
        return self._inplace(_ew.add(self, _ew.mul(_ew.sub(end, self), weight)))

    def masked_fill_(self, mask, value) -> Tensor:
        return self._inplace(_ix.masked_fill(self, mask, value))

    def copy_(self, src) -> Tensor:
        src = src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype)
        if _state.enabled and (self.requires_grad or src.requires_grad):
            return self._inplace(_ew.add(_ew.mul(self, 0), src.to(self.dtype)))
        return self._inplace(src)

    def _fill_data(self, values: np.ndarray) -> Tensor:
        """Overwrite every element outside the graph (for init and ``fill_``-style helpers)."""
        if _state.enabled and self.requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        np.copyto(self.data, values, casting="unsafe")
        self._version += 1
        return self

    def zero_(self) -> Tensor:
        return self._fill_data(np.zeros((), self.data.dtype))

    def fill_(self, value) -> Tensor:
        return self._fill_data(np.asarray(value.item() if isinstance(value, Tensor) else value))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        return self._fill_data(_random.rng(generator).uniform(a, b, self.data.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        return self._fill_data(_random.rng(generator).normal(mean, std, self.data.shape))

    def bernoulli_(self, p: float = 0.5, generator=None) -> Tensor:
        return self._fill_data(_random.rng(generator).random(self.data.shape) < p)

    def random_(self, low: int = 0, high: int | None = None, generator=None) -> Tensor:
        if high is None:
            low, high = 0, low
        return self._fill_data(_random.rng(generator).integers(low, high, self.data.shape))

    def exponential_(self, lambd: float = 1.0, generator=None) -> Tensor:
        return self._fill_data(_random.rng(generator).exponential(1.0 / lambd, self.data.shape))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __setitem__(self, index, value) -> None:
        _ix.setitem(self, index, value)

    # ------------------------------------------------------------------ operators
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    def __rmod__(self, other):
        return _ew.remainder(other, self)

    def __pow__(self, exponent):
        return _ew.pow(self, exponent)

    def __rpow__(self, base):
        return _ew.pow(base, self)

    def __matmul__(self, other):
        return _la.matmul(self, other)

    def __rmatmul__(self, other):
        return _la.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __invert__(self):
        return _ew.bitwise_not(self)

    def __and__(self, other):
        return _ew.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _ew.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _ew.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __eq__(self, other):  # type: ignore[override]
        return _ew.eq(self, other) if _ew._comparable(other) else False

    def __ne__(self, other):  # type: ignore[override]
        return _ew.ne(self, other) if _ew._comparable(other) else True

    def __lt__(self, other):
        return _ew.lt(self, other)

    def __le__(self, other):
        return _ew.le(self, other)

    def __gt__(self, other):
        return _ew.gt(self, other)

    def __ge__(self, other):
        return _ew.ge(self, other)

    def __getitem__(self, index):
        return _ix.getitem(self, index)

    # ------------------------------------------------------------------ elementwise methods
    def add(self, other, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _ew.mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return _ew.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def floor_divide(self, other):
        return _ew.floor_divide(self, other)

    def remainder(self, other):
        return _ew.remainder(self, other)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def neg(self):
        return _ew.neg(self)

    negative = neg

    def abs(self):
        return _ew.abs(self)

    absolute = abs

    def sign(self):
        return _ew.sign(self)

    def exp(self):
        return _ew.exp(self)

    def exp2(self):
        return _ew.exp2(self)

    def log(self):
        return _ew.log(self)

    def log2(self):
        return _ew.log2(self)

    def log10(self):
        return _ew.log10(self)

    def log1p(self):
        return _ew.log1p(self)

    def expm1(self):
        return _ew.expm1(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def rsqrt(self):
        return _ew.rsqrt(self)

    def square(self):
        return _ew.square(self)

    def reciprocal(self):
        return _ew.reciprocal(self)

    def sin(self):
        return _ew.sin(self)

    def cos(self):
        return _ew.cos(self)

    def tan(self):
        return _ew.tan(self)

    def tanh(self):
        return _ew.tanh(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def floor(self):
        return _ew.floor(self)

    def ceil(self):
        return _ew.ceil(self)

    def round(self, decimals: int = 0):
        return _ew.round(self, decimals=decimals)

    def trunc(self):
        return _ew.trunc(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def where(self, condition, other):
        return _ew.where(condition, self, other)

    def lerp(self, end, weight):
        return _ew.add(self, _ew.mul(_ew.sub(end, self), weight))

    def eq(self, other):
        return _ew.eq(self, other)

    def ne(self, other):
        return _ew.ne(self, other)

    def lt(self, other):
        return _ew.lt(self, other)

    def le(self, other):
        return _ew.le(self, other)

    def gt(self, other):
        return _ew.gt(self, other)

    def ge(self, other):
        return _ew.ge(self, other)

    def equal(self, other) -> bool:
        return self.shape == other.shape and builtins.bool(np.array_equal(self.data, other.data))

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
        return builtins.bool(np.allclose(self.data, other.data, rtol, atol, equal_nan))

    def isclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        return Tensor._make(np.isclose(self.data, _data(other), rtol, atol, equal_nan))

    def logical_not(self):
        return _ew.logical_not(self)

    def logical_and(self, other):
        return _ew.logical_and(self, other)

    def logical_or(self, other):
        return _ew.logical_or(self, other)

    def logical_xor(self, other):
        return _ew.logical_xor(self, other)

    def isnan(self):
        return _ew.isnan(self)

    def isinf(self):
        return _ew.isinf(self)

    def isfinite(self):
        return _ew.isfinite(self)

    def relu(self):
        return _act.relu(self)

    def softmax(self, dim: int, dtype=None):
        return _act.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype=None):
        return _act.log_softmax(self, dim, dtype=dtype)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        return _red.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim: bool = False, dtype=None):
        return _red.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _red.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _red.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim: bool = False):
        return _red.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        return _red.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim: bool = False):
        return _red.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        return _red.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return _red.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _red.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return _red.logsumexp(self, dim, keepdim)

    def prod(self, dim=None, keepdim: bool = False, dtype=None):
        return _red.prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, dtype=None):
        return _red.cumsum(self, dim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        return _red.norm(self, p, dim, keepdim, dtype=dtype)

    def all(self, dim=None, keepdim: bool = False):
        return _red.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False):
        return _red.any(self, dim, keepdim)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        return _red.topk(self, k, dim, largest, sorted)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _red.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _red.argsort(self, dim, descending, stable)

    def sum_to_size(self, *size):
        return _red.sum_to(self, _shape_arg(size))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return _mv.reshape(self, _shape_arg(shape))

    def view(self, *shape):
        return _mv.view(self, _shape_arg(shape))

    def view_as(self, other):
        return _mv.view(self, other.shape)

    def reshape_as(self, other):
        return _mv.reshape(self, other.shape)

    def transpose(self, dim0: int, dim1: int):
        return _mv.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return _mv.permute(self, _shape_arg(dims))

    def t(self):
        return _mv.t(self)

    def movedim(self, source, destination):
        return _mv.movedim(self, source, destination)

    def squeeze(self, dim=None):
        return _mv.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _mv.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _mv.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        return _mv.unflatten(self, dim, sizes)

    def expand(self, *sizes):
        return _mv.expand(self, _shape_arg(sizes))

    def expand_as(self, other):
        return _mv.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _mv.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return _mv.repeat(self, _shape_arg(sizes))

    def tile(self, *dims):
        return _mv.tile(self, _shape_arg(dims))

    def flip(self, *dims):
        return _mv.flip(self, _shape_arg(dims))

    def roll(self, shifts, dims=None):
        return _mv.roll(self, shifts, dims)

    def split(self, split_size_or_sections, dim: int = 0):
        return _mv.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0):
        return _mv.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0):
        return _mv.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int):
        return _mv.narrow(self, dim, start, length)

    def tril(self, diagonal: int = 0):
        return _mv.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return _mv.triu(self, diagonal)

    # ------------------------------------------------------------------ indexing
    def gather(self, dim: int, index):
        return _ix.gather(self, dim, index)

    def scatter(self, dim: int, index, src=None, value=None, reduce=None):
        return _ix.scatter(self, dim, index, src=src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index, src):
        return _ix.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index):
        return _ix.index_select(self, dim, index)

    def index_add(self, dim: int, index, source, *, alpha=1):
        return _ix.index_add(self, dim, index, source, alpha=alpha)

    def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        return _sc.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def masked_fill(self, mask, value):
        return _ix.masked_fill(self, mask, value)

    def nonzero(self, as_tuple: bool = False):
        return _ix.nonzero(self, as_tuple=as_tuple)

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, other):
        return _la.matmul(self, other)

    def mm(self, other):
        return _la.mm(self, other)

    def bmm(self, other):
        return _la.bmm(self, other)

    def dot(self, other):
        return _la.dot(self, other)

    def outer(self, other):
        return _la.outer(self, other)


def _shape_arg(args: tuple) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))`` / ``f([2, 3])``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def as_array(data: Any, dtype=None) -> np.ndarray:
    """Turn tensor data (nested lists, scalars, arrays, Tensors) into an array of the right dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtypes.to_dtype(dtype))
    arr = np.array(data)
    target = dtypes.infer_dtype(arr)
    return arr if arr.dtype == target else arr.astype(target)


def increment_version(tensor: Tensor | list[Tensor] | tuple[Tensor, ...]) -> None:
    """Record that ``tensor`` (or each tensor of a list) was changed in place outside mytorch's
    ops, e.g. by NumPy writing into ``tensor.data``, so that a backward pass that saved the old
    value raises instead of using the new one (``torch.autograd.graph.increment_version``).

    >>> from mytorch.core import tensor
    >>> x = tensor([1.0, 2.0])
    >>> x.data *= 2
    >>> increment_version(x)
    >>> x._version
    1
    """
    for t in tensor if isinstance(tensor, (list, tuple)) else (tensor,):
        t._version += 1


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook, on_remove=None) -> None:
        self._hooks, self._hook, self._on_remove = hooks, hook, on_remove

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
            if self._on_remove is not None:
                self._on_remove(-1)


from mytorch.core import autograd as _autograd  # noqa: E402
from mytorch.core import random as _random  # noqa: E402
from mytorch.core.ops import activation as _act  # noqa: E402
from mytorch.core.ops import elementwise as _ew  # noqa: E402
from mytorch.core.ops import indexing as _ix  # noqa: E402
from mytorch.core.ops import linalg as _la  # noqa: E402
from mytorch.core.ops import movement as _mv  # noqa: E402
from mytorch.core.ops import reduce as _red  # noqa: E402
from mytorch.core.ops import scatter as _sc  # noqa: E402
