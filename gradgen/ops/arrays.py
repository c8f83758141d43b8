"""Arrays made from numbers or by broadcasting: ``BroadcastTo``, ``FullLike``, ``Eye``;
and ``zeros`` and the ``LinearInAll`` form of JVP, which build on them; and how they
trace (``np.zeros``, ``np.ones_like``, ``np.eye``, ``np.array`` of traced values, copies).

Each operation in one place: its result shape, its VJP and JVP rules, and how it prints
as NumPy code, as plain text and as LaTeX (the ``_gradgen_*`` print methods SymPy's
printers call). A made array's float type is the function's (``dtype``), so float32
arguments give float32 results.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.errors import written_as
from gradgen.ops.rules import Linear
from gradgen.ops.tracing import dims, holds_tracer, is_tracer
from gradgen.traced import constant


class BroadcastTo(Linear, ir.Structural):
    """``np.broadcast_to(a, shape)``; the second argument is a Tuple of dims."""

    nargs = 2

    def out_shape(self, shapes):
        return tuple(self.args[1])

    @staticmethod
    def vjp(g, ans, a, dims, *, shape):
        return (g,)  # the reverse sweep sums g back to a's shape

    def _gradgen_numpy(self, p, **kwargs):
        value, dims = self.args
        shape = p.shape_text(dims)
        dtype = f"dtype={p.dtype}" if p.array_api else p.dtype
        if value == 1:
            return f"{p.np}.ones({shape}, {dtype})"
        if value == 0:
            return f"{p.np}.zeros({shape}, {dtype})"
        if ir.of_sizes(
            value
        ):  # a new array, as np.ones and np.zeros: it may be written
            return f"{p.np}.full({shape}, {p._print(value)}, {dtype})"
        return f"{p.np}.broadcast_to({p._print(value)}, {shape})"

    def _gradgen_text(self, p, **kwargs):  # broadcasting is implicit in the formulas
        return p.ONES if self.args[0] == 1 else p._print(self.args[0])

    _gradgen_latex = _gradgen_text


class BroadcastCondition(BroadcastTo, Boolean):
    """A condition broadcast to an array's shape: a Boolean, which a select (SymPy's
    Piecewise) takes as its condition, as it takes the comparison itself. Folding makes
    one where a condition loses its array operands: ``(x != x) | (a > c)`` is the scalar
    ``a > c`` (and ``x > x`` is false), where the select needs x's shape."""

    @staticmethod
    def vjp(g, ans, a, dims, *, shape):
        return (None,)  # a condition is not differentiated

    @classmethod
    def jvp(cls, t, ans, a, *static, shape):
        return None


def broadcast_to(a, shape: ir.Shape, condition: bool | None = None) -> sp.Expr:
    """``a`` broadcast to ``shape``; a condition stays a condition. ``condition``: whether
    ``a`` is one, by default whether it is a Boolean other than a Symbol (which SymPy also
    counts a Boolean: a symbol may name a value or a condition)."""
    if condition is None:
        condition = isinstance(a, Boolean) and not isinstance(a, sp.Symbol)
    return (BroadcastCondition if condition else BroadcastTo)(a, sp.Tuple(*shape))


def zeros(shape) -> sp.Expr:
    """Zeros of a shape: the number 0 for a scalar."""
    return broadcast_to(sp.Integer(0), shape) if shape else sp.Integer(0)


class LinearInAll:
    """Linear in every array argument (a join, a write): the operation applied to their
    tangents, zeros for the arguments that have none (a ``rules`` form of JVP)."""

    @classmethod
    def jvp(cls, t, ans, *args, shape):
        tangents = [zeros(shape(a)) if x is None else x for x, a in zip(t, args)]
        return cls(*tangents, *args[len(t) :])


class FullLike(Linear, ir.Structural):
    """An array shaped like the parameter ``like`` holding ``a`` (a broadcastable value)."""

    nargs = 2
    array_args = 2

    def out_shape(self, shapes):
        return shapes[1]

    @staticmethod
    def vjp(g, ans, a, like, *, shape):
        return (g, None)

    def _gradgen_numpy(self, p, **kwargs):
        value, like = self.args
        if value == 0:
            return f"{p.np}.zeros_like({p._print(like)})"
        if p.array_api and not ir.of_sizes(
            value
        ):  # full_like takes Python numbers only
            return f"{p.np}.zeros_like({p._print(like)}) + {p.parenthesize(value, PRECEDENCE['Add'])}"
        return f"{p.np}.full_like({p._print(like)}, {p._print(value)})"

    def _gradgen_text(self, p, **kwargs):
        return p._print(self.args[0])

    _gradgen_latex = _gradgen_text


class Eye(ir.Structural):
    """``np.eye(n, m)``; both arguments are dims."""

    nargs = 2
    array_args = 0

    def out_shape(self, shapes):
        return tuple(self.args)

    @staticmethod
    def vjp(g, ans, n, m, *, shape):
        return ()

    @staticmethod
    def jvp(t, ans, n, m, *, shape):
        return None

    def _gradgen_numpy(self, p, **kwargs):
        n, m = self.args
        args = p._print(n) if n == m else f"{p._print(n)}, {p._print(m)}"
        return f"{p.np}.eye({args}, dtype={p.dtype})"

    def _gradgen_text(self, p, **kwargs):
        return "I"

    def _gradgen_latex(self, p, **kwargs):
        return rf"I_{{{p._print(self.args[0])}}}"


class ArrayConstant(ir.Structural):
    """A constant array of the model, ``np.array([0.0, 1.0])`` or ``[0, 2]`` as an
    index: its entries (a flat Tuple), its shape (a Tuple) and 1 for integers."""

    nargs = 3
    array_args = 0

    def out_shape(self, shapes):
        return tuple(self.args[1])

    @staticmethod
    def vjp(g, ans, values, shape_, integer, *, shape):
        return ()

    @staticmethod
    def jvp(t, ans, values, shape_, integer, *, shape):
        return None

    def _nested(self, p) -> str:
        values, shape, integer = self.args
        write = (lambda v: str(int(v))) if integer else (lambda v: repr(float(v)))
        items = [write(v) for v in values]
        for size in reversed([int(d) for d in shape][1:]):
            items = [
                "[" + ", ".join(items[k : k + size]) + "]"
                for k in range(0, len(items), size)
            ]
        return "[" + ", ".join(items) + "]"

    def _gradgen_numpy(self, p, **kwargs):
        if p.array_api:  # the standard's is asarray, its dtype a keyword
            dtype = "" if self.args[2] else f", dtype={p.dtype}"
            return f"{p.np}.asarray({self._nested(p)}{dtype})"
        dtype = "" if self.args[2] else f", {p.dtype}"
        return f"{p.np}.array({self._nested(p)}{dtype})"

    def _gradgen_text(self, p, **kwargs):
        return self._nested(p)

    def _gradgen_latex(self, p, **kwargs):
        return r"\left[" + self._nested(p)[1:-1] + r"\right]"


CONSTANT_LIMIT = 1000  # entries: a larger constant belongs in a parameter


@dispatch.operand(np.ndarray)
def array_constant(t, value: np.ndarray):
    """A NumPy array constant in a traced computation, as a node: integers stay
    integers (indices), booleans are a mask (a condition: its entries as 0 or 1, not 0),
    floats take the function's float type."""
    value = np.asarray(value)
    if value.dtype.kind == "b" and value.size <= CONSTANT_LIMIT:
        return array_constant(t, value.astype(np.int64)) != 0
    if value.ndim == 0:
        return t._new(constant(value[()]), ())
    if value.dtype.kind not in "iuf" or value.size > CONSTANT_LIMIT:
        raise t.session.error(
            "this array cannot be a constant of the model",
            "pass it to the function as a parameter (Array['n', int] for integers), "
            f"or compare traced values to make a mask; constants hold at most "
            f"{CONSTANT_LIMIT} numbers",
        )
    if not np.all(np.isfinite(value)):
        raise t.session.error(
            "an array constant holds a value that is not finite",
            "a model's constants are finite numbers",
        )
    integer = value.dtype.kind in "iu"
    entries = sp.Tuple(*[constant(int(v) if integer else float(v)) for v in value.flat])
    node = ArrayConstant(entries, sp.Tuple(*value.shape), sp.Integer(integer))
    return t.session.structural(node, [], integer=integer)


# --- tracing: arrays made from numbers, and copies --------------------------------------


def _constant(session, value, shape, dtype=None):
    value = sp.sympify(value)
    made = typed(session.structural(broadcast_to(value, shape), []), dtype)
    if _kind(made, dtype) in ("i", "u") and value.is_integer is not True:
        raise session.error(
            f"an integer dtype ({np.dtype(dtype).name}) for a value that is not whole",
            "make the value a whole number, or leave dtype out",
        )
    return made


def typed(made, dtype):
    """An array a model makes (np.ones, np.tri, ...) of the ``dtype`` it asks for: with
    dtype=bool a mask, true where the entry is not 0 (a condition, for np.where, &, ~);
    otherwise as it is: floats, or integers the integer operations make."""
    kind = _kind(made, dtype)
    if kind in ("i", "u"):
        made.whole = True  # computed as floats; what is written into it made whole
    return made != 0 if kind == "b" else made


def _kind(made, dtype) -> str | None:
    try:
        return None if dtype is None else np.dtype(dtype).kind
    except TypeError:
        raise made.session.error(f"dtype={dtype!r} is not a NumPy type") from None


def _like(a, dtype):
    """The dtype of np.zeros_like(a, dtype) and the like: ``a``'s unless one is given,
    so that of a mask is a mask (ones_like(m) + ones_like(m) is their or) and of integer
    data integers (None: the float type of the generated code)."""
    if dtype is not None:
        return dtype
    return bool if a.is_condition else int if a.integer else None


_LIKE = "dtype; of a mask a mask, of integer data integers, as NumPy"


@dispatch.numpy(np.zeros_like, note=_LIKE)
def zeros_like(a, dtype=None):
    return _constant(a.session, 0, a.shape_, _like(a, dtype))


@dispatch.numpy(np.ones_like, note=_LIKE)
def ones_like(a, dtype=None):
    return _constant(a.session, 1, a.shape_, _like(a, dtype))


@dispatch.numpy(
    np.full_like,
    note="dtype; of a mask a mask, of integer data integers (2.5 is 2), as NumPy",
)
def full_like(a, fill_value, dtype=None):
    given, dtype = dtype, _like(a, dtype)
    kind = np.dtype(dtype or float).kind
    if isinstance(fill_value, (bool, np.bool_)):
        fill_value = int(fill_value)  # True in the array's type: 1, 1.0 or a mask
    elif given is None and kind in "iu" and isinstance(fill_value, float):
        if not np.isfinite(fill_value):
            raise a.session.error(
                "np.full_like of integer data with a value that is not finite",
                "give a whole number, or dtype=float",
            )
        fill_value = int(fill_value)  # in integer data's type, as NumPy: 2.5 is 2
    expr, shape = a._operand(fill_value)
    if shape:
        raise a.session.error("np.full_like needs a number as its fill value")
    return _constant(a.session, expr, a.shape_, dtype)


@dispatch.method("copy")
@dispatch.numpy(np.copy, note="a mask stays a mask, integer data integers")
def copy(a, order="K"):
    made = a._new(a.expr, a.shape_, a.is_condition, a.integer)  # a mask stays a mask
    made.whole = a.whole
    return made


# NumPy cannot dispatch a function that takes no array to a tracer: these are swapped in
# while a model is traced (tracing.patched), each made for the trace's session.


@dispatch.creation("zeros")
@dispatch.creation("empty")
def _zeros(session):
    return lambda shape, dtype=None: _constant(session, 0, dims(session, shape), dtype)


@dispatch.creation("ones")
def _ones(session):
    return lambda shape, dtype=None: _constant(session, 1, dims(session, shape), dtype)


@dispatch.creation("full")
def _full(session):
    def full(shape, fill_value, dtype=None):
        if not isinstance(fill_value, (int, float, np.integer, np.floating)):
            raise session.error("np.full needs a number as its fill value")
        if isinstance(fill_value, (bool, np.bool_)) and dtype is None:
            dtype = bool  # as NumPy: the fill value's type
        elif isinstance(fill_value, (int, np.integer)) and dtype is None:
            dtype = int  # np.full(n, 2) holds integers: 0.5 written into it is 0
        return _constant(session, constant(fill_value), dims(session, shape), dtype)

    return full


@dispatch.creation("eye")
@dispatch.creation("identity")
def _eye(session):
    def eye(n, m=None, k=0, dtype=None):
        if not isinstance(k, (int, np.integer)) or k:
            raise session.error(
                "np.eye with k other than 0",
                "np.tri(n, k=k) - np.tri(n, k=k - 1) has ones on the k-th diagonal",
            )
        n, m = dims(session, n)[0], dims(session, n if m is None else m)[0]
        return typed(session.structural(Eye(n, m), []), dtype)

    return eye


@dispatch.creation("array")
def _array(session):
    original = np.array

    def array(obj, *args, **kwargs):
        if is_tracer(obj):
            return copy(obj)
        if isinstance(obj, (list, tuple)) and holds_tracer(obj):
            with written_as("np.array of a list", "np.stack"):
                return dispatch.FUNCTIONS[np.stack]([array(item) for item in obj])
        return original(obj, *args, **kwargs)

    return array


@dispatch.creation("asarray")
def _asarray(session):
    array = _array(session)
    return lambda obj, *args, **kwargs: (
        obj if is_tracer(obj) else array(obj, *args, **kwargs)
    )


@dispatch.creation("sum")
def _sum(session):
    """np.sum of a list of traced values: their stack's sum."""
    original, array = np.sum, _array(session)

    def sum_(a, *args, **kwargs):
        if isinstance(a, (list, tuple)) and holds_tracer(a):
            with written_as("np.sum of a list", "np.stack"):
                a = dispatch.FUNCTIONS[np.stack]([array(item) for item in a])
        return original(a, *args, **kwargs)

    return sum_
