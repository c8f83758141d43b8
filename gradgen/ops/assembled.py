"""Arrays assembled from others: ``Tri`` (``np.tri``, a constant lower-triangular mask),
``Linspace`` (``np.linspace``, whose ends may be traced numbers) and the NumPy calls traced as compositions of gradgen's other operations, whose derivatives
are theirs: ``np.diag`` (both directions), ``np.tril``/``np.triu`` (a product with a mask),
``np.tile`` and ``np.repeat`` (a broadcast between reshapes), ``np.pad`` (constant; joins
with constant blocks), ``np.vstack``/``np.hstack``, ``np.split``/``np.array_split``
(slices), ``np.broadcast_to``, ``np.kron`` (a broadcast product, reshaped) and
``np.cross`` (products of components, stacked).

Takes tracers and NumPy-style arguments; returns tracers (a list of them for a split).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.ops.arrays import BroadcastTo, Eye, broadcast_to, typed
from gradgen.ops.linear import Vdot
from gradgen.ops.shapes import joined, traced_list
from gradgen.ops.tracing import any_tracer, as_tracer, dims, is_tracer, static_int
from gradgen.ops.tracing import axis as axis_of
from gradgen.traced import constant, kept_mask


class Tri(ir.Structural):
    """``np.tri(n, m, k)``: ones on and below the ``k``-th diagonal, zeros above."""

    nargs = 3
    array_args = 0

    def out_shape(self, shapes):
        return tuple(self.args[:2])

    @staticmethod
    def vjp(g, ans, n, m, k, *, shape):
        return ()

    @staticmethod
    def jvp(t, ans, n, m, k, *, shape):
        return None

    def _gradgen_numpy(self, p, **kwargs):
        n, m, k = (p._print(x) for x in self.args)
        if p.array_api:  # the standard has tril, not tri
            ones = f"{p.np}.ones(({n}, {m}), dtype={p.dtype})"
            return f"{p.np}.tril({ones}, k={k})"
        return f"{p.np}.tri({n}, {m}, {k}, dtype={p.dtype})"

    def _gradgen_text(self, p, **kwargs):
        n, m, k = (p._print(x) for x in self.args)
        return f"tri({n}, {m}, {k})"

    def _gradgen_latex(self, p, **kwargs):
        n, m, k = (p._print(x) for x in self.args)
        return rf"\operatorname{{tri}}_{{{k}}}\left({n}, {m}\right)"


class Linspace(ir.Structural):
    """``np.linspace(start, stop, num, endpoint)``: ``num`` numbers evenly spaced from
    ``start`` to ``stop`` (``stop`` left out without ``endpoint``). ``start`` and ``stop``
    are numbers, traced or not; it is linear in the two together, and each entry's weight
    on ``stop`` is the same spacing from 0 to 1, on ``start`` the one from 1 to 0."""

    nargs = 4
    array_args = 2

    def out_shape(self, shapes):
        if any(shapes):
            raise ir.ShapeError("np.linspace needs numbers as its start and stop")
        return (self.args[2],)

    @staticmethod
    def vjp(g, ans, start, stop, num, endpoint, *, shape):
        weights = (Linspace(1, 0, num, endpoint), Linspace(0, 1, num, endpoint))
        return tuple(Vdot(g, w) for w in weights)

    @staticmethod
    def jvp(t, ans, start, stop, num, endpoint, *, shape):
        if t[0] is None and t[1] is None:
            return None
        ends = [sp.Integer(0) if x is None else x for x in t]
        return Linspace(*ends, num, endpoint)

    def _arguments(self, p) -> str:
        start, stop, num, endpoint = self.args
        text = ", ".join(p._print(x) for x in (start, stop, num))
        return text if endpoint else f"{text}, endpoint=False"

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.linspace({self._arguments(p)}, dtype={p.dtype})"

    def _gradgen_text(self, p, **kwargs):
        return f"linspace({self._arguments(p)})"

    def _gradgen_latex(self, p, **kwargs):
        args = [p._print(x) for x in self.args[:3]]
        if not self.args[3]:
            args.append(r"\text{endpoint=False}")
        return rf"\operatorname{{linspace}}\left({', '.join(args)}\right)"


# --- tracing ----------------------------------------------------------------------------


def _reshape(a, shape):
    return dispatch.METHODS["reshape"](a, tuple(shape))


def _concatenate(arrays, axis):
    return dispatch.FUNCTIONS[np.concatenate](arrays, axis)


def _broadcast(a, shape: tuple):
    """``a`` broadcast to ``shape`` (a tuple of sizes)."""
    try:
        if ir.broadcast_shapes(a.shape_, shape) != shape:
            raise ir.ShapeError(
                f"shape {ir.shape_str(a.shape_)} does not broadcast to "
                f"{ir.shape_str(shape)}"
            )
    except ir.ShapeError as exc:
        raise a.session.error(f"np.broadcast_to: {exc}") from None
    if a.shape_ == shape:
        return a
    s = a.session
    return s.structural(BroadcastTo(s.materialise(a), sp.Tuple(*shape)), [a])


def _filled(session, value, shape):
    return session.structural(broadcast_to(constant(value), shape), [])


def _count(t, value, what: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise t.session.error(
            f"{what} must be a non-negative integer, got {value!r}",
            "give a constant count",
        )
    return int(value)


@dispatch.numpy(np.broadcast_to, note="shape: sizes and dimension names")
def broadcast_to_(array, shape):
    return _broadcast(array, dims(array.session, shape))


@dispatch.creation("tri")
def _tri(session):
    def tri(N, M=None, k=0, dtype=None):
        n = dims(session, N)[0]
        m = n if M is None else dims(session, M)[0]
        if not isinstance(k, (int, np.integer)):
            raise session.error("np.tri: k must be an integer")
        return typed(session.structural(Tri(n, m, sp.Integer(int(k))), []), dtype)

    return tri


def _mask(m, k: int):
    if m.ndim < 2:
        raise m.session.error(
            "np.tril and np.triu need an array of 2 or more dimensions"
        )
    if not isinstance(k, (int, np.integer)):
        raise m.session.error("np.tril/np.triu: k must be an integer")
    n, cols = m.shape_[-2:]
    return m.session.structural(Tri(n, cols, sp.Integer(int(k))), [])


@dispatch.numpy(np.tril, note="k; a product with np.tri")
def tril(m, k=0):
    return kept_mask([m], m * _mask(m, k))


@dispatch.numpy(np.triu, note="k; a product with 1 - np.tri")
def triu(m, k=0):
    return kept_mask([m], m * (1 - _mask(m, int(k) - 1)))


@dispatch.numpy(np.diag, note="of a vector; of a matrix (square, or of fixed sizes); k")
def diag(v, k=0):
    k = _count(v, abs(k), "np.diag: k") * (1 if k >= 0 else -1)
    if v.ndim == 1:
        n = v.shape_[0]
        square = kept_mask([v], v.session.structural(Eye(n, n), []) * v)
        if k == 0:
            return square
        width = ((0, k), (k, 0)) if k > 0 else ((-k, 0), (0, -k))
        return pad(square, width)
    if v.ndim != 2:
        raise v.session.error("np.diag needs a 1-D or 2-D array")
    return _diagonal_last(v, k, "np.diag")


def _diagonal_last(v, k: int, what: str):
    """The k-th diagonal of the matrices of the last two axes of v, as its last axis."""
    if k and v.shape_[-2] == v.shape_[-1]:  # the k-th diagonal of a square matrix
        v = v[..., :-k, k:] if k > 0 else v[..., -k:, :k]
    elif k:
        v = v[..., :, k:] if k > 0 else v[..., -k:, :]
    n, m = v.shape_[-2:]
    if n != m:
        if not (n.is_Integer and m.is_Integer):
            raise v.session.error(
                f"{what} of a matrix of shape {ir.shape_str(v.shape_[-2:])}",
                "give it a square shape (the same dimension name twice)",
            )
        if min(n, m) < 1:
            raise v.session.error(f"{what}: the offset {k} leaves an empty diagonal")
        v = v[..., : min(n, m), : min(n, m)]
        n = m = sp.Integer(min(n, m))
    eye = v.session.structural(Eye(n, m), [])
    return kept_mask([v], dispatch.METHODS["sum"](v * eye, -1))  # of a mask, a mask


@dispatch.method("diagonal")
@dispatch.numpy(np.diagonal, note="offset, axis1, axis2; the diagonal is the last axis")
def diagonal(a, offset=0, axis1=0, axis2=1):
    if a.ndim < 2:
        raise a.session.error("np.diagonal needs an array of 2 or more dimensions")
    k = _count(a, abs(offset), "np.diagonal: offset") * (1 if offset >= 0 else -1)
    axes = (axis_of(a, axis1, a.ndim), axis_of(a, axis2, a.ndim))
    if axes[0] == axes[1]:
        raise a.session.error("np.diagonal: axis1 and axis2 are the same axis")
    if axes != (a.ndim - 2, a.ndim - 1):
        a = dispatch.FUNCTIONS[np.moveaxis](a, axes, (-2, -1))
    return _diagonal_last(a, k, "np.diagonal")


@dispatch.numpy(np.tile, note="reps: constant counts")
def tile(A, reps):
    reps = list(reps) if isinstance(reps, (tuple, list)) else [reps]
    reps = [_count(A, r, "np.tile: reps") for r in reps]
    ndim = max(A.ndim, len(reps))
    shape = (sp.Integer(1),) * (ndim - A.ndim) + tuple(A.shape_)
    reps = [1] * (ndim - len(reps)) + reps
    spread, wide, final = [], [], []
    for r, d in zip(reps, shape):
        if r != 1:
            spread.append(sp.Integer(1))
            wide.append(sp.Integer(r))
        spread.append(d)
        wide.append(d)
        final.append(r * d)
    out = _broadcast(_reshape(A, spread), tuple(wide))
    return _reshape(out, final)


@dispatch.method("repeat")
@dispatch.numpy(np.repeat, note="repeats: one constant count; axis")
def repeat(a, repeats, axis=None):
    if not isinstance(repeats, (int, np.integer)):
        raise a.session.error(
            "np.repeat with a list of counts", "repeat by one count, or join slices"
        )
    r = _count(a, repeats, "np.repeat: repeats")
    if axis is None:
        a, axis = _reshape(a, (-1,)), 0
    k = axis_of(a, axis, a.ndim)
    shape = list(a.shape_)
    spread = shape[: k + 1] + [sp.Integer(1)] + shape[k + 1 :]
    wide = shape[: k + 1] + [sp.Integer(r)] + shape[k + 1 :]
    out = _broadcast(_reshape(a, spread), tuple(wide))
    return _reshape(out, shape[:k] + [shape[k] * r] + shape[k + 1 :])


def _pad_widths(t, pad_width, ndim: int) -> list:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=object), (ndim, 2))
    out = []
    for before, after in widths.tolist():
        out.append((_count(t, before, "np.pad"), _count(t, after, "np.pad")))
    return out


@dispatch.numpy(np.pad, note="mode='constant' only, constant_values a number")
def pad(array, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise array.session.error(
            f"np.pad with mode={mode!r}", "join slices with np.concatenate"
        )
    if is_tracer(constant_values) or np.ndim(constant_values) != 0:
        raise array.session.error(
            "np.pad: constant_values must be one number",
            "pad with zeros and add the value where it belongs",
        )
    try:
        widths = _pad_widths(array, pad_width, array.ndim)
    except ValueError:
        raise array.session.error(f"np.pad: pad_width={pad_width!r}") from None
    out = array
    for axis, (before, after) in enumerate(widths):
        parts = []
        for width in (before, after):
            shape = list(out.shape_)
            shape[axis] = sp.Integer(width)
            parts.append(_filled(out.session, constant_values, tuple(shape)))
        pieces = [parts[0]] * bool(before) + [out] + [parts[1]] * bool(after)
        out = _concatenate(pieces, axis) if len(pieces) > 1 else out
    return kept_mask([array], out)


def _float_type(t, dtype):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise t.session.error(f"a join of dtype={dtype!r} has no derivative")


@dispatch.numpy(np.vstack, note="a list or tuple of arrays")
def vstack(tup, *, dtype=None, casting="same_kind"):
    items = traced_list(tup)
    _float_type(items[0], dtype)
    return joined([dispatch.FUNCTIONS[np.atleast_2d](a) for a in items], 0, "np.vstack")


@dispatch.numpy(np.hstack, note="a list or tuple of arrays")
def hstack(tup, *, dtype=None, casting="same_kind"):
    items = [dispatch.FUNCTIONS[np.atleast_1d](a) for a in traced_list(tup)]
    _float_type(items[0], dtype)
    return joined(items, 0 if items[0].ndim == 1 else 1, "np.hstack")


def _pieces(ary, bounds: list, axis: int) -> list:
    lead = (slice(None),) * axis
    getitem = dispatch.METHODS["__getitem__"]
    return [getitem(ary, lead + (slice(a, b),)) for a, b in zip(bounds, bounds[1:])]


def _split(ary, sections, axis, name: str, even: bool) -> list:
    k = axis_of(ary, axis, ary.ndim)
    size = ary.shape_[k]
    if isinstance(sections, (list, tuple)):
        if not all(static_int(i) for i in sections):
            raise ary.session.error(f"{name}: split points must be constant")
        return _pieces(ary, [None] + list(sections) + [None], k)
    count = _count(ary, sections, f"{name}: sections")
    if count == 0 or not size.is_Integer:
        raise ary.session.error(
            f"{name} into {count} parts of an axis of size {size}",
            "split at constant points (a list), or give the axis a fixed size",
        )
    if even and int(size) % count:
        raise ary.session.error(
            f"{name}: {size} does not split into {count} equal parts"
        )
    small, extra = divmod(int(size), count)
    bounds = [0]
    for i in range(count):
        bounds.append(bounds[-1] + small + (i < extra))
    return _pieces(ary, bounds, k)


@dispatch.numpy(np.split, note="sections or constant split points; axis")
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, "np.split", True)


@dispatch.numpy(np.array_split, note="sections (an axis of fixed size) or points; axis")
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, "np.array_split", False)


@dispatch.numpy(np.kron, section="Reductions and products")
def kron(a, b):
    t = any_tracer(a, b)
    a, b = as_tracer(a, t), as_tracer(b, t)
    ndim = max(a.ndim, b.ndim)
    one = sp.Integer(1)
    sa = (one,) * (ndim - a.ndim) + tuple(a.shape_)
    sb = (one,) * (ndim - b.ndim) + tuple(b.shape_)
    wide_a = [d for x in sa for d in (x, one)]
    wide_b = [d for x in sb for d in (one, x)]
    product = _reshape(a, wide_a) * _reshape(b, wide_b)
    return _reshape(product, [x * y for x, y in zip(sa, sb)])


@dispatch.numpy(
    np.cross,
    note="vectors of 3 (or 2) along the last axis, or axisa, axisb, axisc, axis",
    section="Reductions and products",
)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    t = any_tracer(a, b)
    a, b = as_tracer(a, t), as_tracer(b, t)
    if axis is not None:
        axisa = axisb = axisc = axis
    moveaxis = dispatch.FUNCTIONS[np.moveaxis]
    a = moveaxis(a, axis_of(a, axisa, a.ndim), -1) if a.ndim else a
    b = moveaxis(b, axis_of(b, axisb, b.ndim), -1) if b.ndim else b
    product = _cross_last(t, a, b)
    if a.shape_[-1] == 3:  # a vector per entry: its axis goes where axisc says
        return moveaxis(product, -1, axis_of(product, axisc, product.ndim))
    return product


def _cross_last(t, a, b):
    """The cross product of the vectors along the last axes of a and b."""
    sizes = {
        int(x.shape_[-1]) if x.ndim and x.shape_[-1].is_Integer else 0 for x in (a, b)
    }
    if sizes not in ({3}, {2}):
        raise t.session.error(
            "np.cross needs vectors of 3 (or 2) along the last axis of both operands",
            "give the last axis the fixed size 3",
        )
    ca = [a[..., i] for i in range(sizes.pop())]
    cb = [b[..., i] for i in range(len(ca))]
    if len(ca) == 2:
        return ca[0] * cb[1] - ca[1] * cb[0]
    parts = [
        ca[(i + 1) % 3] * cb[(i + 2) % 3] - ca[(i + 2) % 3] * cb[(i + 1) % 3]
        for i in range(3)
    ]
    return dispatch.FUNCTIONS[np.stack](parts, -1)


def _linspace_end(session, value, which: str):
    if is_tracer(value):
        if value.shape_:
            raise session.error(
                f"np.linspace with an array as its {which} (a linspace per entry)",
                "write a + (b - a) * np.linspace(0.0, 1.0, num)[:, None] for arrays a, b",
            )
        return session.materialise(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        if not (isinstance(value, np.ndarray) and value.ndim == 0):
            raise session.error(
                f"np.linspace needs a number as its {which}, got {type(value).__name__}",
                "write a + (b - a) * np.linspace(0.0, 1.0, num)[:, None] for arrays a, b",
            )
    return constant(value[()] if isinstance(value, np.ndarray) else value)


def linspace_of(session, start, stop, num, endpoint, retstep, dtype, axis):
    if retstep or axis != 0:
        raise session.error(
            "np.linspace: retstep= and axis= are not supported",
            "the step is (stop - start) / (num - 1)",
        )
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise session.error("np.linspace of integers has no derivative")
    if not static_int(num) or (isinstance(num, (int, np.integer)) and num < 1):
        raise session.error(
            f"np.linspace(..., num={num!r}): num is a positive integer or a size"
        )
    ends = [_linspace_end(session, v, w) for v, w in ((start, "start"), (stop, "stop"))]
    node = Linspace(*ends, dims(session, num)[0], sp.Integer(bool(endpoint)))
    operands = [v for v in (start, stop) if is_tracer(v)]
    return session.structural(node, operands)


@dispatch.numpy(
    np.linspace,
    note="start and stop numbers (traced or not); num an integer or a size",
    section="Creating arrays",
)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    session = any_tracer(start, stop).session
    return linspace_of(session, start, stop, num, endpoint, retstep, dtype, axis)


@dispatch.creation("linspace")
def _linspace(session):
    def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
        return linspace_of(session, start, stop, num, endpoint, retstep, dtype, axis)

    return linspace
