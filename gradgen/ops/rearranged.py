"""NumPy calls that rearrange, join or split arrays, traced as compositions of gradgen's
other operations, whose derivatives, code, text and LaTeX are theirs: ``np.rollaxis``,
``np.atleast_3d``, ``np.column_stack``, ``np.vsplit``/``np.hsplit``/``np.dsplit``,
``np.flip``/``np.flipud``/``np.fliplr`` (reversed slices), ``np.roll`` (two slices
joined), ``np.rot90``, ``np.append``; ``np.r_[a, b]`` and ``np.c_[a, b]`` of arrays and
numbers (np.concatenate along the first axis, np.column_stack's columns joined along the
last); ``np.real`` and ``np.real_if_close`` of real numbers
(the numbers themselves); ``np.gradient`` (central differences inside, one-sided ones at
the ends, as NumPy computes them with unit spacing).

Takes tracers and NumPy's arguments; returns tracers (a list of them for a split, or for
the gradient along several axes).
"""

from __future__ import annotations

import numpy as np

from gradgen import dispatch, ir
from gradgen.errors import GradgenError
from gradgen.ops.shapes import joined
from gradgen.ops.tracing import any_tracer, as_tracer, holds_tracer, is_tracer
from gradgen.ops.tracing import axis as axis_of
from gradgen.traced import Tracer


def _f(function):
    return dispatch.FUNCTIONS[function]


def _take(a, axis: int, part: slice):
    """``a[..., part, ...]`` with ``part`` on ``axis``."""
    key = (slice(None),) * axis + (part,)
    return dispatch.METHODS["__getitem__"](a, key)


def _axes(a, axis, name: str) -> list:
    if axis is None:
        return list(range(a.ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = [axis_of(a, k, a.ndim) for k in items]
    if len(set(axes)) != len(axes):
        raise a.session.error(f"{name}: an axis is given twice")
    return axes


@dispatch.numpy(
    np.rollaxis, note="axis, start (np.moveaxis)", section="Reductions and products"
)
def rollaxis(a, axis, start=0):
    k = axis_of(a, axis, a.ndim)
    if not isinstance(start, (int, np.integer)) or not -a.ndim <= start <= a.ndim:
        raise a.session.error(f"np.rollaxis: start={start!r} is out of range")
    start = int(start) + a.ndim if start < 0 else int(start)
    return _f(np.moveaxis)(a, k, start - 1 if k < start else start)


@dispatch.numpy(np.atleast_3d)
def atleast_3d(a):
    if a.ndim >= 3:
        return a
    shape = (
        (1, *a.shape_, 1) if a.ndim == 1 else (*a.shape_, 1) if a.ndim else (1, 1, 1)
    )
    return dispatch.METHODS["reshape"](a, shape)


@dispatch.numpy(np.column_stack, note="a list or tuple of arrays")
def column_stack(tup):
    items = [as_tracer(a, any_tracer(*tup)) for a in tup]
    columns = [
        dispatch.METHODS["reshape"](a, (-1, 1)) if a.ndim < 2 else a for a in items
    ]
    return joined(columns, 1, "np.column_stack")


def _r_pieces(a):
    return _f(np.atleast_1d)(a)


def _c_pieces(a):
    return dispatch.METHODS["reshape"](a, (-1, 1)) if a.ndim < 2 else a


def _slice_text(item: slice) -> str:
    parts = [item.start, item.stop] + ([item.step] if item.step is not None else [])
    return ":".join("" if p is None else str(p) for p in parts)


class _IndexJoin:
    """``np.r_`` or ``np.c_`` while a model is traced: ``np.r_[a, b, ...]`` joins arrays
    and numbers as NumPy's does, here by np.concatenate of each piece made at least 1-D
    (np.r_) or a column (np.c_: a vector becomes an (n, 1) column, a number (1, 1); the
    pieces are joined along the last axis). NumPy's own asks ``np.ndim`` of each piece,
    which a tracer cannot answer. Slices and string directives are refused, with the
    call to write instead; a key that holds no traced value is NumPy's constant."""

    def __init__(self, session, name: str, pieces, axis: int, rewrite: str):
        self._session, self._name, self._pieces = session, name, pieces
        self._axis, self._rewrite = axis, rewrite
        self._original = getattr(np, name)

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        sizes = [i for i in items if ir.of_sizes(i) and i.free_symbols]
        if not holds_tracer(items) and not sizes:
            return self._original[key]
        where = f"np.{self._name}"
        for item in items:
            if isinstance(item, slice):
                raise self._session.error(
                    f"a slice ({_slice_text(item)}) in {where}[...] is not supported",
                    f"write {self._rewrite}, with np.arange or np.linspace for "
                    "the range",
                )
            if isinstance(item, str):
                raise self._session.error(
                    f"the directive {item!r} in {where}[...] is not supported",
                    f"write {self._rewrite}, with axis= and np.reshape as needed",
                )
        s = self._session
        array = dispatch.CREATION["array"](s)
        items = [array(i) if isinstance(i, (list, tuple)) else i for i in items]
        tracers = [i for i in items if is_tracer(i)]
        like = tracers[0] if tracers else Tracer(sizes[0], (), s, s.site())
        traced = [self._pieces(as_tracer(item, like)) for item in items]
        try:
            return _f(np.concatenate)(traced, self._axis)
        except GradgenError as exc:
            exc.message = f"{where}[...]: {exc.message}"
            raise

    def __getattr__(self, name):
        return getattr(self._original, name)


@dispatch.creation(
    "r_",
    listed=(
        "Arrays",
        "np.r_[a, b, ...]",
        "arrays and numbers joined along the first axis (np.concatenate); "
        "not slices or string directives",
    ),
)
def _r(session):
    return _IndexJoin(session, "r_", _r_pieces, 0, "np.concatenate([...])")


@dispatch.creation(
    "c_",
    listed=(
        "Arrays",
        "np.c_[a, b, ...]",
        "vectors as columns, arrays joined along the last axis (np.column_stack); "
        "not slices or string directives",
    ),
)
def _c(session):
    return _IndexJoin(session, "c_", _c_pieces, -1, "np.column_stack([...])")


def _split_along(name: str, axis_for):
    def impl(ary, indices_or_sections):
        axis = axis_for(ary.ndim)
        if axis is None:
            raise ary.session.error(f"np.{name} of an array of {ary.ndim} dimensions")
        return _f(np.split)(ary, indices_or_sections, axis)

    impl.__name__ = name
    return impl


vsplit = dispatch.numpy(np.vsplit, note="np.split along axis 0")(
    _split_along("vsplit", lambda n: 0 if n >= 2 else None)
)
hsplit = dispatch.numpy(np.hsplit, note="np.split along axis 1 (0 of a vector)")(
    _split_along("hsplit", lambda n: (1 if n > 1 else 0) if n >= 1 else None)
)
dsplit = dispatch.numpy(np.dsplit, note="np.split along axis 2")(
    _split_along("dsplit", lambda n: 2 if n >= 3 else None)
)


@dispatch.numpy(np.flip, note="axis (ints, a tuple or None)")
def flip(m, axis=None):
    for k in _axes(m, axis, "np.flip"):
        m = _take(m, k, slice(None, None, -1))
    return m


@dispatch.numpy(np.flipud)
def flipud(m):
    return flip(m, 0)


@dispatch.numpy(np.fliplr)
def fliplr(m):
    if m.ndim < 2:
        raise m.session.error("np.fliplr needs an array of 2 or more dimensions")
    return flip(m, 1)


@dispatch.numpy(np.roll, note="constant shifts; axis (an axis of fixed size)")
def roll(a, shift, axis=None):
    if axis is None:
        flat = _f(np.ravel)(a)
        return dispatch.METHODS["reshape"](roll(flat, shift, 0), tuple(a.shape_))
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    shifts = list(shift) if isinstance(shift, (tuple, list)) else [shift] * len(axes)
    if len(shifts) != len(axes) or not all(
        isinstance(s, (int, np.integer)) for s in shifts
    ):
        raise a.session.error("np.roll needs constant integer shifts, one per axis")
    for s, k in zip(shifts, axes):
        k = axis_of(a, k, a.ndim)
        size = a.shape_[k]
        if not size.is_Integer:
            raise a.session.error(
                "np.roll of an axis whose size is a name", "give the axis a fixed size"
            )
        cut = int(size) - int(s) % int(size)
        if cut != int(size):
            a = _f(np.concatenate)(
                [_take(a, k, slice(cut, None)), _take(a, k, slice(None, cut))], k
            )
    return a


@dispatch.numpy(np.rot90, note="k, axes")
def rot90(m, k=1, axes=(0, 1)):
    if len(axes) != 2 or m.ndim < 2:
        raise m.session.error("np.rot90 needs two axes of an array of 2 or more")
    first, second = (axis_of(m, x, m.ndim) for x in axes)
    if first == second:
        raise m.session.error("np.rot90: the two axes are the same")
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, first), second)
    order = list(range(m.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return _f(np.transpose)(flip(m, second), order)
    return flip(_f(np.transpose)(m, order), second)


@dispatch.numpy(np.append, note="axis (None: of the flattened arrays)")
def append(arr, values, axis=None):
    # lists of traced numbers: np.array is the traced one while a model runs
    arr, values = (
        np.array(v) if isinstance(v, (list, tuple)) else v for v in (arr, values)
    )
    t = any_tracer(arr, values)
    arr, values = as_tracer(arr, t), as_tracer(values, t)
    if axis is None:
        return _f(np.concatenate)([_f(np.ravel)(arr), _f(np.ravel)(values)], 0)
    return _f(np.concatenate)([arr, values], axis)


@dispatch.numpy(np.real, note="of real numbers: the numbers themselves")
def real(val):
    return val._new(val.expr, val.shape_)


@dispatch.numpy(np.imag, note="of real numbers: zeros")
def imag(val):
    return val * 0.0


@dispatch.numpy(np.angle, note="of real numbers: np.arctan2(0, x), π where x < 0; deg")
def angle(z, deg=False):
    phase = np.arctan2(0.0, z)
    return phase * (180 / np.pi) if deg else phase


@dispatch.numpy(np.real_if_close, note="of real numbers: the numbers themselves")
def real_if_close(a, tol=100):
    return a._new(a.expr, a.shape_)


def _gradient_along(f, k: int):
    """NumPy's gradient of unit spacing along axis k: (f[i+1] - f[i-1]) / 2 inside,
    f[1] - f[0] and f[-1] - f[-2] at the ends."""
    size = f.shape_[k]
    if size.is_Integer and int(size) < 2:
        raise f.session.error("np.gradient needs at least 2 entries along each axis")
    first = _take(f, k, slice(1, 2)) - _take(f, k, slice(0, 1))
    last = _take(f, k, slice(-1, None)) - _take(f, k, slice(-2, -1))
    if size == 2:
        return _f(np.concatenate)([first, last], k)
    inside = (_take(f, k, slice(2, None)) - _take(f, k, slice(None, -2))) / 2
    return _f(np.concatenate)([first, inside, last], k)


@dispatch.numpy(
    np.gradient,
    note="unit spacing, edge_order=1; axis",
    section="Reductions and products",
)
def gradient(f, *varargs, axis=None, edge_order=1):
    if varargs or edge_order != 1:
        raise f.session.error(
            "np.gradient: only unit spacing and edge_order=1 are supported",
            "divide the result by the spacing",
        )
    if f.ndim == 0:
        raise f.session.error("np.gradient needs an array")
    axes = _axes(f, axis, "np.gradient")
    parts = [_gradient_along(f, k) for k in axes]
    return parts[0] if len(parts) == 1 else parts
