"""Reading an array by integer arrays (labels, indices): ``Gather`` (``p[np.arange(n), y]``,
``E[idx]``, ``x[[0, 2]]``, ``np.take``, ``np.take_along_axis``, one-hot ``np.eye(c)[y]``),
its adjoint ``ScatterAdd`` (``np.add.at`` semantics: an index that repeats adds each of
its values), and the integer data that makes indices: ``Arange`` (``np.arange``) and
``ArgMax`` / ``ArgMin``. Each operation in one place: shape, VJP and JVP, code, text and
LaTeX, and how it traces. Integer results are data: never differentiated.

A ``Gather`` reads ``a[:, ..., :, i0, i1, ...]``: ``axis`` full slices, then index arrays
(integer nodes, or an Integer for a single position) that broadcast together, for the
axes from ``axis`` on; its result has ``a``'s leading axes, the indices' broadcast shape
and ``a``'s remaining axes, as NumPy's advanced indexing gives when the index arrays are
next to one another.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradgen import dispatch
from gradgen import ir
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.rules import Linear
from gradgen.ops.tracing import axis as read_axis
from gradgen.ops.tracing import is_tracer, shape_error, static_int


def _index_shapes(indices, shapes) -> list:
    return [() if i.is_Number else s for i, s in zip(indices, shapes)]


def gather_shape(a: ir.Shape, index_shapes: list, axis: int) -> ir.Shape:
    """``a``'s first ``axis`` axes, the indices' broadcast shape, ``a``'s axes after
    those the indices select along."""
    end = axis + len(index_shapes)
    if end > len(a):
        raise ShapeError(f"{end} indices for an array of shape {shape_str(a)}")
    return a[:axis] + ir.broadcast_shapes(*index_shapes) + a[end:]


def _key_text(p, indices, axis: int) -> str:
    return ", ".join([":"] * axis + [p._print(i) for i in indices])


class Gather(Linear, ir.Structural):
    """``a[:, i0, i1]`` with integer arrays ``i0, i1`` (``axis`` leading full slices)."""

    precedence = ir.PRECEDENCE["Atom"]

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    def out_shape(self, shapes):
        indices, axis = self.args[1:-1], int(self.args[-1])
        return gather_shape(shapes[0], _index_shapes(indices, shapes[1:]), axis)

    @staticmethod
    def vjp(g, ans, a, *rest, shape):
        return (ScatterAdd(g, a, *rest),) + (None,) * (len(rest) - 1)

    def _gradgen_numpy(self, p, **kwargs):
        a, *indices, axis = self.args
        return f"{p.postfix(a)}[{_key_text(p, indices, int(axis))}]"

    _gradgen_text = _gradgen_numpy

    def _gradgen_latex(self, p, **kwargs):
        a, *indices, axis = self.args
        return rf"{p.postfix(a)}\left[{_key_text(p, indices, int(axis))}\right]"


class ScatterAdd(Linear, ir.Structural):
    """Zeros shaped like ``like`` with ``value`` added at the indices (``np.add.at``: a
    repeated index adds each value): the VJP of ``Gather(like, ...)``. In code the
    module's helper ``scatter_add(like, index, value)``; in formulas ``{[y] += g}``."""

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    def out_shape(self, shapes):
        return shapes[1]

    @staticmethod
    def vjp(g, ans, value, like, *rest, shape):
        return (Gather(g, *rest), None) + (None,) * (len(rest) - 1)

    def _gradgen_numpy(self, p, **kwargs):
        value, like, *indices, axis = self.args
        axis = int(axis)
        printed = [p._print(i) for i in indices]
        if axis:
            index = f"{p.np}.s_[{', '.join([':'] * axis + printed)}]"
        else:
            index = printed[0] if len(printed) == 1 else f"({', '.join(printed)})"
        helper = p.helper("scatter_add")
        return f"{helper}({p._print(like)}, {index}, {p._print(value)})"

    def _gradgen_text(self, p, **kwargs):
        value, _, *indices, axis = self.args
        return f"{{[{_key_text(p, indices, int(axis))}] += {p._print(value)}}}"

    def _gradgen_latex(self, p, **kwargs):
        value, _, *indices, axis = self.args
        key = _key_text(p, indices, int(axis)).replace(":", "{:}")
        return rf"\left\{{[{key}] \mathrel{{+}}= {p._print(value)}\right\}}"


class _Integers(ir.Structural):
    """Integer data made from other values: no derivative, zero tangent."""

    @staticmethod
    def vjp(g, ans, *args, shape):
        return (None,) * len(args)

    @staticmethod
    def jvp(t, ans, *args, shape):
        return None


class AsFloat(ir.Structural):
    """Integer data as floats of the function's float type (``y.astype(dtype)``), where
    it meets floats: NumPy would make float32 times an int64 array float64. Data: no
    derivative."""

    nargs = 2  # the array, and 1 when it has axes (a number is dtype.type(k))
    vjp = staticmethod(_Integers.vjp)
    jvp = staticmethod(_Integers.jvp)

    def out_shape(self, shapes):
        return shapes[0]

    def _gradgen_numpy(self, p, **kwargs):
        a, axes = self.args
        if axes:
            return f"{p.postfix(a)}.astype({p.dtype})"
        return f"{p.dtype}.type({p._print(a)})"

    def _gradgen_text(self, p, **kwargs):  # a number is a number in the formulas
        return p._print(self.args[0])

    _gradgen_latex = _gradgen_text


class Arange(_Integers):
    """``np.arange(start, stop, step)``: integers; the arguments are sizes."""

    nargs = 3
    array_args = 0

    def out_shape(self, shapes):
        start, stop, step = self.args
        if all(v.is_Integer for v in self.args):
            return (sp.Integer(len(range(int(start), int(stop), int(step)))),)
        if step != 1:
            raise ShapeError("np.arange with a step needs bounds of fixed size")
        return (sp.expand(stop - start),)

    def _arguments(self, p) -> str:
        start, stop, step = self.args
        shown = [stop] if start == 0 and step == 1 else [start, stop]
        shown += [step] if step != 1 else []
        return ", ".join(p._print(v) for v in shown)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.arange({self._arguments(p)})"

    def _gradgen_text(self, p, **kwargs):
        return f"arange({self._arguments(p)})"

    def _gradgen_latex(self, p, **kwargs):
        return rf"\operatorname{{arange}}\left({self._arguments(p)}\right)"


class ArgMax(_Integers):
    """``np.argmax(a, axis)``: the position of the largest entry (the first of equal
    ones); ``axis`` -1 for the position in the flattened array."""

    nargs = 2
    numpy_name = "argmax"

    def out_shape(self, shapes):
        axis = int(self.args[1])
        return () if axis < 0 else shapes[0][:axis] + shapes[0][axis + 1 :]

    def _arguments(self, p) -> str:
        axis = int(self.args[1])
        return p._print(self.args[0]) + ("" if axis < 0 else f", axis={axis}")

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.{self.numpy_name}({self._arguments(p)})"

    def _gradgen_text(self, p, **kwargs):
        return f"{self.numpy_name}({self._arguments(p)})"

    def _gradgen_latex(self, p, **kwargs):
        return rf"\operatorname{{{self.numpy_name}}}\left({self._arguments(p)}\right)"


class ArgMin(ArgMax):
    """``np.argmin(a, axis)``: the position of the smallest entry."""

    numpy_name = "argmin"


# --- tracing ---------------------------------------------------------------------------


def gather(t, indices: list, axis: int):
    """``t[:, ..., i0, i1]``: ``indices`` are integer tracers or ints."""
    s = t.session
    exprs = [sp.Integer(i) if not is_tracer(i) else s.materialise(i) for i in indices]
    operands = [t] + [i for i in indices if is_tracer(i)]
    shapes = [i.shape_ if is_tracer(i) else () for i in indices]
    try:
        gather_shape(t.shape_, shapes, axis)
    except ShapeError as exc:
        raise shape_error(t, exc) from None
    node = Gather(s.materialise(t), *exprs, sp.Integer(axis))
    return s.structural(node, [t] + [_Shape(sh) for sh in shapes], t.integer)


class _Shape:
    """Stands for an operand in ``Session.structural``, which reads only its shape."""

    def __init__(self, shape):
        self.shape_ = shape


def float_index(t, k):
    """The error for floats used as indices: integer data is annotated as such."""
    node = t.session.graph.by_sym.get(k.expr)
    if node is not None and node.kind == "input":
        name = next(p.name for p in t.session.target.params if p.sym == k.expr)
        what = f"parameter {name!r}, annotated as floats,"
    else:
        what = "a float value"
    return t.session.error(
        f"{what} is used as an index",
        "indices are integer data: annotate the parameter Array['n', int], or int "
        "for one index",
    )


def _integer_tracer(t, value, what: str):
    """``value`` (an integer tracer, an int, or a list or array of ints) as an integer
    tracer or int; anything else is refused."""
    if is_tracer(value):
        if value.integer:
            return value
        raise float_index(t, value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    constant = dispatch.OPERANDS[np.ndarray](t, np.asarray(value))
    if not constant.integer:
        raise t.session.error(f"{what} holds floats", "indices are integers")
    return constant


@dispatch.numpy(
    np.take,
    note="np.take(a, indices, axis): indices an integer array of any shape",
    section="Arrays",
)
def take(a, indices, axis=None, out=None, mode="raise"):
    if out is not None or mode != "raise":
        raise a.session.error("np.take: out= and mode= are not supported")
    idx = _integer_tracer(a, indices, "np.take's indices")
    if axis is None:
        return gather(dispatch.METHODS["reshape"](a, (-1,)), [idx], 0)
    return gather(a, [idx], read_axis(a, axis, len(a.shape_)))


dispatch.METHODS["take"] = take


@dispatch.numpy(
    np.take_along_axis,
    note="np.take_along_axis(a, indices, axis): integer indices of a's number of axes",
    section="Arrays",
)
def take_along_axis(arr, indices, axis):
    idx = _integer_tracer(arr, indices, "np.take_along_axis's indices")
    ndim = len(arr.shape_)
    if axis is None or not is_tracer(idx) or len(idx.shape_) != ndim:
        raise arr.session.error(
            "np.take_along_axis needs an integer array with as many axes as the array "
            "and an axis",
            "index with p[np.arange(n), y] for one entry per row",
        )
    k = read_axis(arr, axis, ndim)
    keys = []
    for m in range(ndim):
        if m == k:
            keys.append(idx)
            continue
        ramp = arange_of(arr.session, 0, arr.shape_[m], 1)
        keys.append(ramp[(slice(None),) + (None,) * (ndim - 1 - m)])
    return gather(arr, keys, 0)


def arange_of(session, start, stop, step):
    values = [
        sp.sympify(int(v) if isinstance(v, np.integer) else v)
        for v in (start, stop, step)
    ]
    return session.structural(Arange(*values), [], integer=True)


@dispatch.creation("arange")
def _arange(session):
    def arange(start, stop=None, step=1, dtype=None):
        if stop is None:
            start, stop = 0, start
        for v in (start, stop, step):
            if not static_int(v):
                raise session.error(
                    f"np.arange({v!r}): the bounds of np.arange are integers or sizes",
                    "np.arange(n) with n = x.shape[0] gives the integers 0 to n - 1",
                )
        if step == 0 or not sp.sympify(step).is_Integer:
            raise session.error("np.arange needs a nonzero integer step")
        return arange_of(session, start, stop, step)

    return arange


def _arg_extreme(cls):
    def impl(a, axis=None, out=None, keepdims=False):
        if out is not None or keepdims:
            raise a.session.error(
                f"np.{cls.numpy_name}: out= and keepdims= are not supported"
            )
        k = -1 if axis is None else read_axis(a, axis, len(a.shape_))
        s = a.session
        return s.structural(cls(s.materialise(a), sp.Integer(k)), [a], integer=True)

    return impl


@dispatch.method("astype")
def astype(a, dtype, copy=True):
    """``x.astype(float)``: integer data as floats; floats stay floats. Floats made
    integers would have no derivative: refused."""
    kind = np.dtype(dtype).kind
    if kind == "f":
        if not a.integer:
            return a._new(a.expr, a.shape_)
        s = a.session
        node = AsFloat(s.materialise(a), sp.Integer(bool(a.shape_)))
        return s.structural(node, [a])
    if kind in "iu" and a.integer:
        return a._new(a.expr, a.shape_, integer=True)
    raise a.session.error(
        f".astype({np.dtype(dtype).name}) of {'integers' if a.integer else 'floats'}",
        "floats made integers have no derivative: compute indices from integer data "
        "(Array['n', int], np.arange, np.argmax)",
    )


argmax = dispatch.numpy(
    np.argmax,
    note="integers (data): usable as indices",
    section="Reductions and products",
)(_arg_extreme(ArgMax))
argmin = dispatch.numpy(
    np.argmin,
    note="integers (data): usable as indices",
    section="Reductions and products",
)(_arg_extreme(ArgMin))
dispatch.METHODS.update(argmax=argmax, argmin=argmin)


def is_index_array(k) -> bool:
    """An index that selects by integer data: a traced value (not a comparison), or a
    list or NumPy array of ints."""
    if is_tracer(k):
        return not k.is_condition
    return isinstance(k, list) or isinstance(k, np.ndarray) and k.ndim > 0


def mask_refusal(t):
    return t.session.error(
        "indexing with a boolean mask gives an array whose size depends on the data",
        "keep the shape: np.where(mask, x, 0) or x * mask in place of x[mask], "
        "and np.sum(np.where(mask, x, 0)) for its sum",
    )


def advanced(t, entries: tuple):
    """``t[entries]`` where some entries are integer arrays: full slices, then the
    index arrays (and ints) next to one another, then full slices."""
    full = [isinstance(k, slice) and k == slice(None) for k in entries]
    lead = full.index(False)
    end = len(entries) - full[::-1].index(False)
    middle = entries[lead:end]
    if not all(is_index_array(k) or static_int(k) for k in middle):
        raise t.session.error(
            "an index that mixes integer arrays with slices, new axes or ... between "
            "or before them",
            "index in two steps: z = x[1:], then z[idx]; or put the full slices (:) "
            "first",
        )
    indices = [
        _integer_tracer(t, k, "an index") if is_index_array(k) else int(k)
        for k in middle
    ]
    return gather(t, indices, lead)
