"""Reading and writing part of an array: ``Index`` (``a[key]``), ``Scatter`` (zeros shaped
like ``like`` holding ``value`` at ``key``: the VJP of indexing) and ``Update`` (``a`` with
``a[key] = value``: an in-place write, made pure), with ``encode_key``/``decode_key`` for
constant index keys. Each operation in one place: shape, VJP and JVP, code, text and LaTeX,
and how it traces (``x[k]``, ``x[k] = v``, ``x += v``, ``for row in x``).

A key is a tuple of entries, each an integer, a slice with constant (or, from a join's
rule, symbolic) bounds, or ``None`` (a new axis); it is stored as a SymPy ``Tuple`` so it
survives ``xreplace`` and ``cse``: an integer as itself, a slice as ``(start, stop, step)``
with ``OMITTED`` for an omitted bound, a new axis as ``()``.
"""

from __future__ import annotations

import operator

import numpy as np
import sympy as sp
from sympy.core.symbol import Str
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.errors import GradgenError
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.arrays import BroadcastTo, LinearInAll, broadcast_to
from gradgen.ops.gather import (
    advanced,
    float_index,
    is_index_array,
    mask_refusal,
    put,
    require_inside,
)
from gradgen.ops.rules import Linear
from gradgen.ops.tracing import (
    as_tracer,
    holds_tracer,
    is_tracer,
    shape_error,
    static_int,
)

OMITTED = Str("omitted")  # an atom that is no number: sorting and printing leave it be


def encode_key(key: tuple) -> sp.Tuple:
    entries = []
    for k in key:
        if k is None:
            entries.append(sp.Tuple())
        elif isinstance(k, slice):
            bounds = (k.start, k.stop, k.step)
            entries.append(sp.Tuple(*[OMITTED if b is None else b for b in bounds]))
        else:
            entries.append(sp.sympify(k))
    return sp.Tuple(*entries)


def decode_key(key: sp.Tuple) -> tuple:
    out = []
    for k in key:
        if isinstance(k, sp.Tuple) and len(k) == 0:
            out.append(None)
        elif isinstance(k, sp.Tuple):
            out.append(slice(*[None if b == OMITTED else b for b in k]))
        else:
            out.append(k)
    return tuple(out)


def key_text(key: sp.Tuple, write, every_axis: bool = False) -> str:
    """A key as written inside ``[...]`` in NumPy (``1:``, ``:, 0``, ``..., None``);
    ``write`` prints a bound. ``every_axis``: the Array API standard's form, which
    indexes every axis, so a key ends in ``...`` (``1:, ...``; ``...`` alone for every
    element)."""
    entries = decode_key(key)
    if every_axis:
        while entries and entries[-1] == slice(None):
            entries = entries[:-1]
        entries += (Ellipsis,)
    parts = []
    for k in entries:
        if k is None or k is Ellipsis:
            parts.append("None" if k is None else "...")
        elif isinstance(k, slice):
            bounds = ["" if b is None else write(b) for b in (k.start, k.stop)]
            text = ":".join(bounds)
            parts.append(text if k.step is None else f"{text}:{write(k.step)}")
        else:
            parts.append(write(k))
    return ", ".join(parts) if parts else "()"


def _axes_text(axes: list[int]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(tuple(axes))


def reversed_first(key: sp.Tuple) -> tuple[sp.Tuple, list[int]]:
    """``a[key]`` as ``flip(a, axes)[turned]``, every step of ``turned`` positive (the
    Array API form of a read: PyTorch takes no negative step). Along a reversed axis of
    size n position i is n - 1 - i, so a bound b (counted from the start when b >= 0,
    from the end when b < 0) becomes -1 - b, counted from the other end, clipped as
    NumPy clips it; an omitted bound stays omitted. Needs no size: bounds inside the
    axis stay inside it. ``axes``: the axes of ``a`` to reverse."""
    turned, axes, axis = [], [], 0
    for k in decode_key(key):
        if isinstance(k, slice) and k.step is not None and k.step < 0:
            start, stop = (None if b is None else -1 - b for b in (k.start, k.stop))
            step = None if k.step == -1 else -k.step
            k = slice(None if start == 0 else start, stop, step)
            axes.append(axis)
        turned.append(k)
        axis += k is not None
    return encode_key(tuple(turned)), axes


def _ascending(k: slice, size: int) -> slice:
    """The slice of step > 0 that picks what ``k`` (a step < 0) picks from an axis of
    ``size``, in the reverse order: lowest position first, and a stop (omitted where the
    end stops it as well) just past the highest. Of an axis of symbolic size, only the
    whole axis reversed ([::-1]) is written without it."""
    if not isinstance(size, int) and not sp.sympify(size).is_Integer:
        if k.start is None and k.stop is None and k.step == -1:
            return slice(None)
        raise GradgenError(
            f"the reversed slice {_slice_text(k)} of an axis of size {size} (written "
            "through, or a read whose gradient is) has no Array API form in gradgen yet",
            hint="reverse the whole axis and slice that (x[-2::-1] is x[::-1][1:]), "
            "or compile without --target array-api",
        )
    size = int(size)
    picked = range(*k.indices(size))
    if not picked:
        return slice(sp.Integer(0), sp.Integer(0))
    step = -int(k.step)
    start, stop = picked[-1], picked[0] + 1
    return slice(
        sp.Integer(start) if start else None,
        None if picked[0] + step >= size else sp.Integer(stop),
        sp.Integer(step) if step > 1 else None,
    )


def array_api_slot(
    key: sp.Tuple, shape: ir.Shape, value_ndim: int
) -> tuple[sp.Tuple, list[int], list[int]]:
    """The Array API form of a write ``a[key] = v`` into an array of ``shape``, for a
    ``v`` of ``value_ndim`` dimensions that broadcasts into the slot. The standard writes
    through no new axis, and PyTorch takes no negative step: the key written at has no
    ``None`` and every step positive (the same positions, taken in ascending order), and
    ``v`` is squeezed along the new axes (``squeeze``: axes of ``v``), then reversed
    along the axes of negative step (``flip``: axes of the squeezed ``v``); an axis that
    ``v`` lacks (it broadcasts along it) is left out."""
    parts = decode_key(key)
    written, new, negative = [], [], []  # new, negative: positions in the slot
    position = axis = 0
    for k in parts:
        if k is None:
            new.append(position)
            position += 1
            continue
        if isinstance(k, slice):
            if k.step is not None and k.step < 0:
                negative.append(position)
                k = _ascending(k, shape[axis])
            position += 1
        written.append(k)  # an integer takes its axis away
        axis += 1
    ndim = position + len(shape) - axis  # the slot's
    squeeze = [a - ndim + value_ndim for a in new if ndim - a <= value_ndim]
    # then the slot without its new axes, and v without those it had
    negative = [a - sum(b < a for b in new) for a in negative]
    ndim, value_ndim = ndim - len(new), value_ndim - len(squeeze)
    flip = [a - ndim + value_ndim for a in negative if ndim - a <= value_ndim]
    return encode_key(tuple(written)), squeeze, flip


def _latex_key(p, key: sp.Tuple) -> str:
    """A key in LaTeX: ``x_{0}`` for integers, ``x[1{:}]`` for slices (a colon made an
    ordinary symbol, not a relation)."""
    return key_text(key, p._print).replace(":", "{:}")


def _span(size: sp.Expr, k: slice) -> tuple[sp.Expr, list]:
    """For a slice of an axis of symbolic ``size``: the distance its steps cover, and
    what must be at least 0 for both bounds to lie inside the axis, in order. A bound
    b < 0 counts from the end (size + b); an omitted one is the end the step starts or
    stops at: 0 and size going up, size - 1 and -1 (past the first) going down."""

    def bound(b, default):
        if b is None:
            return default
        b = sp.sympify(b)
        return size + b if b.is_Integer and b < 0 else b

    if k.step is None or int(k.step) > 0:
        start, stop = bound(k.start, sp.Integer(0)), bound(k.stop, size)
        return stop - start, [start, size - stop, stop - start]
    start, stop = bound(k.start, size - 1), bound(k.stop, sp.Integer(-1))
    # a bound that is an expression (x[n - 2::-1]) must itself be 0 or more: NumPy
    # counts a negative one from the end (only an omitted stop goes past the first)
    given = [b for b, g in ((start, k.start), (stop, k.stop)) if not _literal(g)]
    return start - stop, [size - 1 - start, stop + 1, start - stop, *given]


def _literal(b) -> bool:
    return b is None or sp.sympify(b).is_Integer


def _slice_length(size: sp.Expr, s: slice) -> sp.Expr:
    """Elements of an axis of ``size`` a slice selects. With a symbolic size, bounds are
    taken to lie inside the axis (the generated code slices at run time, as NumPy does,
    and checks them at entry: ``slice_conditions``)."""
    step = 1 if s.step is None else s.step
    if size.is_Integer and all(
        b is None or sp.sympify(b).is_Integer for b in (s.start, s.stop)
    ):
        plain = slice(*[None if b is None else int(b) for b in (s.start, s.stop)], step)
        return sp.Integer(len(range(*plain.indices(int(size)))))
    # expand: the compile runs with distribution off (pipeline), and n + m - (m) must be n
    length = sp.expand(_span(size, s)[0])
    return length if abs(int(step)) == 1 else sp.ceiling(length / abs(int(step)))


def index_shape(shape: ir.Shape, key: tuple) -> ir.Shape:
    """The shape of ``a[key]`` (basic indexing: integers, slices, new axes)."""
    used = sum(1 for k in key if k is not None)
    if used > len(shape):
        raise ShapeError(f"{used} indices for an array of shape {shape_str(shape)}")
    out, axis = [], 0
    for k in key:
        if k is None:
            out.append(sp.Integer(1))
            continue
        size = shape[axis]
        if isinstance(k, slice):
            out.append(_slice_length(size, k))
        elif size.is_Integer and not -int(size) <= int(k) < int(size):
            raise ShapeError(f"index {k} is out of range for an axis of size {size}")
        axis += 1
    return tuple(out) + tuple(shape[axis:])


class Index(Linear, ir.Structural):
    """``a[key]``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    @classmethod
    def eval(cls, a, key):
        if isinstance(a, BroadcastTo) and a.args[0].is_Number:
            # part of a constant array: the constant (not of a broadcast array, whose
            # own axes the key may select from)
            value, dims = a.args
            shape = index_shape(tuple(dims), decode_key(key))
            return broadcast_to(value, shape) if shape else value
        return None

    def out_shape(self, shapes):
        return index_shape(shapes[0], decode_key(self.args[1]))

    @staticmethod
    def vjp(g, ans, a, key, *, shape):
        return (Scatter(g, a, key),)

    def _gradgen_numpy(self, p, **kwargs):
        a, key = self.args
        if not p.array_api:
            return f"{p.postfix(a)}[{key_text(key, p._print)}]"
        key, axes = reversed_first(key)
        if not axes:
            return f"{p.postfix(a)}[{key_text(key, p._print, True)}]"
        flipped = f"{p.np}.flip({p._print(a)}, axis={_axes_text(axes)})"
        if all(k == slice(None) for k in decode_key(key)):  # np.flip: the whole axes
            return flipped
        return f"{flipped}[{key_text(key, p._print, True)}]"

    def _gradgen_text(self, p, **kwargs):
        return f"{p.postfix(self.args[0])}[{key_text(self.args[1], p._print)}]"

    def _gradgen_latex(self, p, **kwargs):
        a, key = self.args
        if all(k.is_Integer for k in key):  # x_{0}, W_{1,2}; {t_{3}}_{0}
            base = p.postfix(a)
            base = f"{{{base}}}" if "_" in base or "^" in base else base
            return f"{base}_{{{','.join(p._print(k) for k in key)}}}"
        return rf"{p.postfix(a)}\left[{_latex_key(p, key)}\right]"


class Scatter(Linear, ir.Structural):
    """Zeros shaped like ``like``, holding ``value`` at ``key``: the VJP of ``like[key]``.
    Printed as statements (``assignments``: zeros, then ``t[1:] = v``); in formulas as
    ``{[1:] ← v}``, the array that is v at [1:] and 0 elsewhere."""

    nargs = 3
    array_args = 2

    def out_shape(self, shapes):
        return shapes[1]

    @staticmethod
    def vjp(g, ans, value, like, key, *, shape):
        return (Index(g, key), None)

    def _gradgen_numpy(
        self, p, **kwargs
    ):  # pragma: no cover - the optimiser never nests one
        raise TypeError("a Scatter is printed as statements (statements.assignments)")

    def _gradgen_text(self, p, **kwargs):
        value, _, key = self.args
        return f"{{[{key_text(key, p._print)}] ← {p._print(value)}}}"

    def _gradgen_latex(self, p, **kwargs):
        value, _, key = self.args
        return rf"\left\{{[{_latex_key(p, key)}] \leftarrow {p._print(value)}\right\}}"


class Update(LinearInAll, ir.Structural):
    """``a`` with ``a[key] = value``: an in-place write, as a new value; in formulas
    ``{a with [k] ← v}``."""

    nargs = 3
    array_args = 2

    def out_shape(self, shapes):
        slot = index_shape(shapes[0], decode_key(self.args[2]))
        if ir.broadcast_shapes(slot, shapes[1]) != slot:
            raise ShapeError(
                f"a value of shape {shape_str(shapes[1])} does not fit a slot of "
                f"shape {shape_str(slot)}"
            )
        return shapes[0]

    @staticmethod
    def vjp(g, ans, a, value, key, *, shape):
        return (Update(g, 0, key), Index(g, key))

    _gradgen_numpy = Scatter._gradgen_numpy

    def _gradgen_text(self, p, **kwargs):
        a, value, key = self.args
        return f"{{{p._print(a)} with [{key_text(key, p._print)}] ← {p._print(value)}}}"

    def _gradgen_latex(self, p, **kwargs):
        a, value, key = self.args
        return (
            rf"\left\{{{p._print(a)}\ \text{{with}}\ [{_latex_key(p, key)}] "
            rf"\leftarrow {p._print(value)}\right\}}"
        )


def statement_level(expr: sp.Expr) -> bool:
    """Printed as several statements (``t = np.zeros_like(x)``, ``t[1:] = v``), so never
    folded into another expression: a ``Scatter`` or a sum with one, or an ``Update``.
    """
    if isinstance(expr, (Scatter, Update)):
        return True
    return isinstance(expr, sp.Add) and any(isinstance(t, Scatter) for t in expr.args)


# --- tracing: indexing, writing and iterating ------------------------------------------


def _bad_key(t, what: str):
    raise t.session.error(
        f"{what} is not supported in indexing",
        "index with integers, slices of constant bounds and None",
    )


def _key_entry(t, k):
    if k is None or isinstance(k, slice) and k.step is not None and k.step == 0:
        return k if k is None else _bad_key(t, "a slice step of 0")
    if isinstance(k, slice):
        for b in (k.start, k.stop, k.step):
            if is_tracer(b):
                raise t.session.error(
                    "a slice bound that is a traced value (its length would depend "
                    "on the data)",
                    "slice with constants or sizes (x.shape[0] - 1); for a bound "
                    "from integer data keep the shape: np.where(np.arange(n) < k, x, 0)",
                )
            if not (b is None or static_int(b)):
                return _bad_key(t, f"the slice bound {b!r}")
        return k
    if static_int(k):
        return sp.sympify(int(k) if isinstance(k, (int, np.integer)) else k)
    if is_tracer(k) and not k.is_condition and not k.integer:
        raise float_index(t, k)
    what = "a traced value" if is_tracer(k) else f"a {type(k).__name__}"
    return _bad_key(t, f"{what} as an index")


def normalise_key(t, key) -> tuple:
    """A key as a tuple of integers, slices and None, with ``...`` expanded."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        fill = (slice(None),) * (len(t.shape_) - used)
        key = key[:at] + fill + key[at + 1 :]
    return tuple(_key_entry(t, k) for k in key)


def _slice_text(k: slice) -> str:
    parts = ["" if b is None else str(b) for b in (k.start, k.stop)]
    return "[" + ":".join(parts + ([str(k.step)] if k.step is not None else [])) + "]"


def slice_conditions(size: sp.Expr, k: slice) -> list:
    """What a slice of an axis of symbolic ``size`` takes to hold when its length is
    computed (``_slice_length``): both bounds inside the axis, in order; each condition
    SymPy cannot decide (``T >= 6`` for ``[:6]``), or False."""
    if size.is_Integer:
        return []
    found = []
    for difference in _span(size, k)[1]:  # each at least 0
        constant, rest = sp.expand(difference).as_coeff_Add()
        found.append(sp.Ge(rest, -constant))  # T >= 6, not T - 6 >= 0
    return [c for c in found if c is not sp.true]


def _require_bounds(t, key) -> None:
    """Record what the slices and integers on symbolic axes in ``key`` take to hold (x[5]
    of an axis of n: n >= 6), for the entry checks; one that cannot hold is an error."""
    axis = 0
    for k in key:
        if k is None:
            continue
        if isinstance(k, sp.Integer):
            require_inside(t, t.shape_[axis], [int(k)])
        if isinstance(k, slice):
            for cond in slice_conditions(t.shape_[axis], k):
                if cond is sp.false:
                    raise t.session.error(
                        f"the slice {_slice_text(k)} of an axis of size "
                        f"{t.shape_[axis]} is always empty",
                        "slice with bounds inside the axis",
                    )
                site = t.session.site()
                where = f"the slice {_slice_text(k)} at {site.path}:{site.line}"
                t.session.graph.requires.setdefault(cond, where)
        axis += 1


@dispatch.method("__getitem__")
def getitem(t, key):
    if t.session.loops:  # X[t] in a loop that stays a loop: the row of this step
        row = t.session.loops[-1].slice(t, key)
        if row is not None:
            return row
    entries = _constant_masks(key if isinstance(key, tuple) else (key,))
    key = entries if len(entries) != 1 else entries[0]
    if any(is_tracer(k) and k.is_condition for k in entries):
        raise mask_refusal(t)
    if any(is_index_array(k) for k in entries):
        return advanced(t, entries)
    key = normalise_key(t, key)
    try:
        index_shape(t.shape_, key)
    except ShapeError as exc:
        raise shape_error(t, exc) from None
    _require_bounds(t, key)
    s = t.session
    result = s.structural(Index(s.materialise(t), encode_key(key)), [t])
    if result.shape_:  # a view of t, as in NumPy
        result.base = (t, key)
    return result


def _constant_masks(entries: tuple) -> tuple:
    """A boolean array of the model in an index, as the integer arrays of where it holds
    (np.nonzero), as NumPy reads it: x[:, keep] picks a fixed number of columns."""
    out = []
    for k in entries:
        if isinstance(k, (list, np.ndarray)) and not holds_tracer(k):
            array = np.asarray(k)
            if array.dtype.kind == "b" and array.ndim:
                out.extend(np.nonzero(array))
                continue
        out.append(k)
    return tuple(out)


def _view_error(t):
    return t.session.error(
        "writing into a view (a slice, transpose or reshape) of a traced array",
        "write into the array itself, e.g. x[1:3] = v instead of y = x[1:]; y[:2] = v",
    )


@dispatch.method("__setitem__")
def setitem(t, key, value) -> None:
    """``t[key] = value``: ``t`` becomes a new node, as NumPy writes into the array. A
    mask stays a mask (its new node holds 0 and 1; True and False are written as those)."""
    if not t.is_condition:
        return _setitem(t, key, value)
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        value = int(bool(value))  # as NumPy writes a number into booleans: not 0
    elif is_tracer(value) and not value.is_condition:
        value = value != 0
    _setitem(t, key, value)
    if t.expr.is_Symbol or not isinstance(t.expr, sp.logic.boolalg.Boolean):
        t.expr = (t._new(t.expr, t.shape_) != 0).expr  # written: a node of numbers


def _floats(value) -> bool:
    """Whether ``value`` holds floats: traced ones (not integer data, whole numbers or a
    mask), or a float number or array of the model."""
    if is_tracer(value):
        return not (value.integer or value.whole or value.is_condition)
    if isinstance(value, (list, tuple)) and holds_tracer(value):
        return True
    return np.asarray(value).dtype.kind == "f"


def _whole_value(t, value):
    """``value`` as NumPy writes it into ``t``: into an array of integers (integer data,
    np.zeros(n, dtype=int)) a number is made whole (2.7 is 2, -1.5 is -1); floats
    computed from the parameters are refused (that cut has no derivative)."""
    if not (t.integer or t.whole) or not _floats(value):
        return value
    if is_tracer(value) or isinstance(value, (list, tuple)) and holds_tracer(value):
        raise t.session.error(
            "floats written into an array of integers (NumPy would cut them to whole "
            "numbers, which has no derivative)",
            "make the array one of floats: np.zeros(n), or y.astype(float)",
        )
    array = np.asarray(value)
    if not np.all(np.isfinite(array)):
        raise t.session.error("a value that is not finite written into integers")
    array = array.astype(np.int64)  # as NumPy casts: toward zero
    return int(array) if array.ndim == 0 else array


def _setitem(t, key, value) -> None:
    if t.base is not None:
        raise _view_error(t)
    value = _whole_value(t, value)
    entries = _constant_masks(key if isinstance(key, tuple) else (key,))
    key = entries if len(entries) != 1 else entries[0]
    if any(is_tracer(k) and k.is_condition for k in entries):
        return _masked_write(t, entries, value)
    if any(is_index_array(k) for k in entries):
        new = put(t, entries, value)
        t.expr, t.site = new.expr, new.site
        return
    key = normalise_key(t, key)
    _require_bounds(t, key)
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
        raise shape_error(t, exc) from None
    result = s.structural(update, [t, as_tracer(value, t)])
    t.expr, t.site = result.expr, result.site


def _masked_write(t, entries: tuple, value) -> None:
    """``z[mask] = v`` for a number ``v``: ``z = np.where(mask, v, z)``, the same shape."""
    mask = entries[0]
    _, shape = t._operand(value)
    if len(entries) > 1 or shape != () or mask.shape_ != t.shape_:
        raise t.session.error(
            "a masked write z[mask] = v takes a mask of z's shape and a number v",
            "write z = np.where(mask, v, z) for arrays that broadcast",
        )
    new = dispatch.FUNCTIONS[np.where](mask, value, t)
    t.expr, t.site = new.expr, new.site


def inplace(t, op, other):
    """``t += other`` and the like: the array itself changes, as in NumPy (a Python float
    is rebound instead). A view writes through to its array."""
    if not t.shape_:
        return NotImplemented
    if (t.integer or t.whole) and (op is operator.truediv or _floats(other)):
        raise t.session.error(  # NumPy's UFuncTypeError: floats into integers
            "an in-place operation makes floats of an array of integers",
            "write z = z + v, or make the array one of floats: np.zeros(n)",
        )
    new = op(t, other)
    if t.is_condition and not new.is_condition:
        raise t.session.error(  # NumPy cannot cast the numbers back into booleans
            "an in-place operation makes numbers of a mask",
            "write m = m + v for a number array, or m |= c to combine masks",
        )
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


def _inplace(op):
    return lambda t, other: inplace(t, op, other)


dispatch.METHODS.update(
    __iadd__=_inplace(operator.add),
    __isub__=_inplace(operator.sub),
    __imul__=_inplace(operator.mul),
    __itruediv__=_inplace(operator.truediv),
    __ipow__=_inplace(operator.pow),
)


@dispatch.method("__iter__")
def iterate(t):
    if not t.shape_:
        raise t.session.error("iterating over a 0-d array")
    if not t.shape_[0].is_Integer:
        raise t.session.error(
            f"iterating over an array whose first dimension {t.shape_[0]} is symbolic, "
            "other than in a for statement's header",
            "loop over it directly (for x_t in X stays a loop), or over range(...) "
            "reading X[t]; or annotate that dimension with an integer size",
        )
    return iter([getitem(t, i) for i in range(int(t.shape_[0]))])
