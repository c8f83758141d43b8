"""The NumPy calls that index, join, reshape and create arrays, on tracers.

Takes tracers (and constant keys, axes, shapes) and returns tracers over the ops of
``ops.py``; ``FUNCTIONS`` is their dispatch table for ``__array_function__``, and
``CREATION`` lists the NumPy functions that take no array (``np.zeros((n, d))``), which the
trace swaps in for its duration (``patched``) because NumPy cannot dispatch them to a
tracer. Knows no calculus.
"""

from __future__ import annotations

import contextlib
import operator

import numpy as np
import sympy as sp

from . import ir, ops
from .ops import (
    Concat,
    Index,
    Reshape,
    Stack,
    Update,
    encode_key,
    index_shape,
    reshape_shape,
)
from .ir import ShapeError


def _tracer():
    """The tracer module, imported late: it imports this one."""
    from . import tracer

    return tracer


def is_tracer(value) -> bool:
    return isinstance(value, _tracer().Tracer)


def as_tracer(value, like):
    if is_tracer(value):
        return value
    expr, shape = like._operand(value)
    return like._new(expr, shape)


def any_tracer(*values):
    return next(v for v in values if is_tracer(v))


def _shape_error(t, exc: ShapeError):
    return t.session.error(str(exc), "give equal sizes the same dimension name")


# --- indexing and writing ------------------------------------------------------------


def _key_entry(t, k):
    if k is None or isinstance(k, slice) and k.step is not None and k.step == 0:
        return k if k is None else _bad_key(t, "a slice step of 0")
    if isinstance(k, slice):
        for b in (k.start, k.stop, k.step):
            if not (b is None or _static_int(b)):
                return _bad_key(t, f"the slice bound {b!r}")
        return k
    if _static_int(k):
        return sp.sympify(int(k) if isinstance(k, (int, np.integer)) else k)
    what = "a traced value" if is_tracer(k) else f"a {type(k).__name__}"
    return _bad_key(t, f"{what} as an index")


def _static_int(b) -> bool:
    if isinstance(b, (bool, np.bool_)):
        return False
    if isinstance(b, (int, np.integer)):
        return True
    return ir.of_sizes(b)


def _bad_key(t, what: str):
    raise t.session.error(
        f"{what} is not supported in indexing",
        "index with integers, slices of constant bounds and None",
    )


def normalise_key(t, key) -> tuple:
    """A key as a tuple of integers, slices and None, with ``...`` expanded."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        fill = (slice(None),) * (len(t.shape_) - used)
        key = key[:at] + fill + key[at + 1 :]
    return tuple(_key_entry(t, k) for k in key)


def getitem(t, key):
    key = normalise_key(t, key)
    try:
        index_shape(t.shape_, key)
    except ShapeError as exc:
        raise _shape_error(t, exc) from None
    s = t.session
    result = s.structural(Index(s.materialise(t), encode_key(key)), [t])
    if result.shape_:  # a view of t, as in NumPy
        result.base = (t, key)
    return result


def _view_error(t):
    return t.session.error(
        "writing into a view (a slice, transpose or reshape) of a traced array",
        "write into the array itself, e.g. x[1:3] = v instead of y = x[1:]; y[:2] = v",
    )


def setitem(t, key, value) -> None:
    """``t[key] = value``: ``t`` becomes a new node, as NumPy writes into the array."""
    if t.base is not None:
        raise _view_error(t)
    key = normalise_key(t, key)
    if getattr(value, "written", None) == (id(t), key):
        return  # x[k] += v: the view already wrote through (see inplace)
    expr, shape = t._operand(value)
    s = t.session
    if isinstance(expr, sp.Expr) and not expr.is_Number:
        expr = s.materialise(as_tracer(value, t))
    update = Update(s.materialise(t), expr, encode_key(key))
    try:
        update.out_shape([t.shape_, shape])
    except ShapeError as exc:
        raise _shape_error(t, exc) from None
    result = s.structural(update, [t, as_tracer(value, t)])
    t.expr, t.site = result.expr, result.site


_INPLACE = {
    "__iadd__": operator.add,
    "__isub__": operator.sub,
    "__imul__": operator.mul,
    "__itruediv__": operator.truediv,
    "__ipow__": operator.pow,
}


def inplace(t, op, other):
    """``t += other`` and the like: the array itself changes, as in NumPy (a Python float
    is rebound instead). A view writes through to its array."""
    if not t.shape_:
        return NotImplemented
    new = op(t, other)
    if new.shape_ != t.shape_:
        raise t.session.error(
            f"an in-place operation gives shape {ir.shape_str(new.shape_)} "
            f"for an array of shape {ir.shape_str(t.shape_)}",
            "write y = y + v when the result has another shape",
        )
    if t.base is not None:
        if not isinstance(t.base, tuple) or t.base[0].base is not None:
            raise _view_error(t)
        array, key = t.base
        setitem(array, key, new)
        t.written = (id(array), key)
    t.expr, t.site = new.expr, new.site
    return t


def iterate(t):
    if not t.shape_:
        raise t.session.error("iterating over a 0-d array")
    if not t.shape_[0].is_Integer:
        raise t.session.error(
            f"iterating over an array whose first dimension {t.shape_[0]} is symbolic",
            "annotate that dimension with an integer, or loop over range(...)",
        )
    return iter([getitem(t, i) for i in range(int(t.shape_[0]))])


# --- joining and reshaping -------------------------------------------------------------


def _axis(t, axis, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise t.session.error(f"axis={axis!r} must be an integer")
    k = int(axis) + ndim if axis < 0 else int(axis)
    if not 0 <= k < ndim:
        raise t.session.error(f"axis {axis} is out of range for {ndim} dimensions")
    return k


def _joined(cls, arrays, axis, extra: int):
    if not isinstance(arrays, (list, tuple)) or not arrays:
        t = arrays if is_tracer(arrays) else None
        if t is None:
            raise TypeError("expects a list of arrays")
        raise t.session.error("join a list or tuple of arrays, not one array")
    t = any_tracer(*arrays)
    items = [as_tracer(a, t) for a in arrays]
    k = _axis(t, axis, len(items[0].shape_) + extra)
    s = t.session
    args = [s.materialise(a) for a in items]
    expr = cls(*args, sp.Integer(k))
    try:
        return s.structural(expr, items)
    except ShapeError as exc:  # pragma: no cover - structural() reports it
        raise _shape_error(t, exc) from None


def concatenate(arrays, axis=0):
    return _joined(Concat, arrays, axis, 0)


def stack(arrays, axis=0):
    return _joined(Stack, arrays, axis, 1)


def _dims(session, shape) -> tuple:
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    for d in items:
        if not _static_int(d) or (isinstance(d, (int, np.integer)) and d < -1):
            raise session.error(
                f"the shape {shape!r} is not a tuple of sizes and dimension names"
            )
    return tuple(sp.sympify(int(d) if isinstance(d, np.integer) else d) for d in items)


def reshape(a, *shape):
    shape = shape[0] if len(shape) == 1 else shape
    try:
        new = reshape_shape(a.shape_, _dims(a.session, shape))
        if new == a.shape_:
            return a
        s = a.session
        result = s.structural(Reshape(s.materialise(a), sp.Tuple(*new)), [a])
    except ShapeError as exc:
        raise _shape_error(a, exc) from None
    result.base = "reshape"
    return result


def np_reshape(a, newshape=None, order="C", *, shape=None):
    if order != "C":
        raise a.session.error("np.reshape with order other than 'C'")
    return reshape(a, newshape if shape is None else shape)


def squeeze(a, axis=None):
    if axis is None:
        axes = [k for k, d in enumerate(a.shape_) if d == 1]
    else:
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = [_axis(a, k, len(a.shape_)) for k in items]
        if any(a.shape_[k] != 1 for k in axes):
            raise a.session.error("np.squeeze of an axis whose size is not 1")
    return reshape(a, tuple(d for k, d in enumerate(a.shape_) if k not in axes))


def expand_dims(a, axis):
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = len(a.shape_) + len(items)
    axes = sorted(_axis(a, k, ndim) for k in items)
    s = a.session
    return s.structural(ops.expand_dims(s.materialise(a), axes, len(a.shape_)), [a])


def atleast_1d(a):
    return a if a.shape_ else reshape(a, (1,))


def atleast_2d(a):
    if len(a.shape_) >= 2:
        return a
    return reshape(a, (1,) + tuple(a.shape_) if a.shape_ else (1, 1))


# --- constant arrays -------------------------------------------------------------------


def _constant(session, value, shape):
    expr = ops.broadcast_to(sp.sympify(value), shape)
    return session.structural(expr, [])


def zeros_like(a, dtype=None):
    return _constant(a.session, 0, a.shape_)


def ones_like(a, dtype=None):
    return _constant(a.session, 1, a.shape_)


def full_like(a, fill_value, dtype=None):
    expr, shape = a._operand(fill_value)
    if shape:
        raise a.session.error("np.full_like needs a number as its fill value")
    return _constant(a.session, expr, a.shape_)


def copy(a, order="K"):
    return a._new(a.expr, a.shape_)


def norm(x, ord=None, axis=None, keepdims=False):
    if ord not in (None, 2, "fro"):
        raise x.session.error(f"np.linalg.norm with ord={ord!r}", "use the 2-norm")
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


FUNCTIONS = {
    np.concatenate: concatenate,
    np.stack: stack,
    np.reshape: np_reshape,
    np.squeeze: squeeze,
    np.ravel: lambda a, order="C": np_reshape(a, (-1,), order),
    np.expand_dims: expand_dims,
    np.atleast_1d: atleast_1d,
    np.atleast_2d: atleast_2d,
    np.zeros_like: zeros_like,
    np.ones_like: ones_like,
    np.full_like: full_like,
    np.copy: copy,
    np.linalg.norm: norm,
}


# --- functions NumPy cannot dispatch: swapped in while a model is traced -----------------


# NumPy functions swapped for traced versions while a model runs (see creation_functions)
CREATION = (
    "zeros",
    "ones",
    "empty",
    "full",
    "eye",
    "identity",
    "array",
    "asarray",
    "sum",
)


def creation_functions(session) -> dict:
    """Replacements for NumPy functions that take no traced array, bound to a trace."""
    originals = {name: getattr(np, name) for name in ("sum", "array", "asarray")}

    def shape_of(shape):
        return _dims(session, shape)

    def zeros(shape, dtype=None):
        return _constant(session, 0, shape_of(shape))

    def ones(shape, dtype=None):
        return _constant(session, 1, shape_of(shape))

    def full(shape, fill_value, dtype=None):
        if not isinstance(fill_value, (int, float, np.integer, np.floating)):
            raise session.error("np.full needs a number as its fill value")
        return _constant(session, _tracer().constant(fill_value), shape_of(shape))

    def eye(n, m=None, dtype=None):
        n, m = shape_of(n)[0], shape_of(n if m is None else m)[0]
        return session.structural(ops.Eye(n, m), [])

    def array(obj, *args, **kwargs):
        if is_tracer(obj):
            return copy(obj)
        if isinstance(obj, (list, tuple)) and _holds_tracer(obj):
            return stack([array(item) for item in obj])
        return originals["array"](obj, *args, **kwargs)

    def asarray(obj, *args, **kwargs):
        if is_tracer(obj):
            return obj
        return array(obj, *args, **kwargs)

    def sum_(a, *args, **kwargs):
        if isinstance(a, (list, tuple)) and _holds_tracer(a):
            a = stack([array(item) for item in a])
        return originals["sum"](a, *args, **kwargs)

    return {
        "zeros": zeros,
        "ones": ones,
        "empty": zeros,
        "full": full,
        "eye": eye,
        "identity": eye,
        "array": array,
        "asarray": asarray,
        "sum": sum_,
    }


def _holds_tracer(items) -> bool:
    return any(
        is_tracer(i) or isinstance(i, (list, tuple)) and _holds_tracer(i) for i in items
    )


@contextlib.contextmanager
def patched(session, more: dict):
    """NumPy's creation functions, and the functions in ``more`` (by name), replaced by
    traced ones while a model runs."""
    replacements = creation_functions(session)
    assert set(replacements) == set(CREATION)
    replacements.update(more)
    saved = {name: getattr(np, name) for name in replacements}
    try:
        for name, fn in replacements.items():
            setattr(np, name, fn)
        yield
    finally:
        for name, fn in saved.items():
            setattr(np, name, fn)
