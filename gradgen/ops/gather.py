"""Reading an array by integer arrays (labels, indices): ``Gather`` (``p[np.arange(n), y]``,
``E[idx]``, ``x[[0, 2]]``, ``np.take``, ``np.take_along_axis``, one-hot ``np.eye(c)[y]``)
and its adjoint ``ScatterAdd`` (``np.add.at`` semantics: an index that repeats adds each
of its values). Each operation in one place: shape, VJP and JVP, code, text and LaTeX,
and how it traces (``x[idx]`` through ``indexing.getitem``). The indices are integer
data: parameters, ``integers`` (``np.arange``, ``np.argmax``) or constants.

A ``Gather`` reads ``a[:, ..., :, i0, i1, ...]``: ``axis`` full slices, then index arrays
(integer nodes, or an Integer for a single position) that broadcast together, for the
axes from ``axis`` on; its result has ``a``'s leading axes, the indices' broadcast shape
and ``a``'s remaining axes, as NumPy's advanced indexing gives when the index arrays are
next to one another.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.arrays import ArrayConstant
from gradgen.ops.integers import Arange, arange_of, argsort_of
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


def refuse_array_api(p) -> None:
    """The Array API has no np.add.at, and its integer-array indexing is optional."""
    if p.array_api:
        p.refuse(
            "indexing by integer arrays (np.argmax, np.argsort, np.arange as an index)"
        )


class _ByIndices(ir.Structural):
    """An operation whose arguments are ``lead`` arrays, the indices, and the axis: all
    but the axis are arrays (an index may be a number)."""

    lead = 1

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    def parts(self) -> tuple:
        """(the leading arrays, the indices, the axis)."""
        return self.args[: self.lead], self.args[self.lead : -1], int(self.args[-1])

    def helper_call(self, p, helper: str, array, value) -> str:
        """``helper(array, index, value)``: the module's ``scatter_add``, ``put_at``."""
        refuse_array_api(p)
        _, indices, axis = self.parts()
        index = _index_argument(p, indices, axis)
        return f"{p.helper(helper)}({p._print(array)}, {index}, {p._print(value)})"

    def braces(self, p, before: str, op: str, value, latex: bool) -> str:
        """``{[y] += g}``, ``{a with [y] ← 0}``, as text or LaTeX."""
        _, indices, axis = self.parts()
        key = _key_text(p, indices, axis)
        if not latex:
            return f"{{{before}[{key}] {op} {p._print(value)}}}"
        before = before.replace(" with ", r"\ \text{with}\ ")
        key = key.replace(":", "{:}")
        return rf"\left\{{{before}[{key}] {op} {p._print(value)}\right\}}"


class Gather(Linear, _ByIndices):
    """``a[:, i0, i1]`` with integer arrays ``i0, i1`` (``axis`` leading full slices)."""

    precedence = PRECEDENCE["Atom"]

    def out_shape(self, shapes):
        indices, axis = self.args[1:-1], int(self.args[-1])
        return gather_shape(shapes[0], _index_shapes(indices, shapes[1:]), axis)

    @staticmethod
    def vjp(g, ans, a, *rest, shape):
        return (ScatterAdd(g, a, *rest),) + (None,) * (len(rest) - 1)

    def _gradgen_numpy(self, p, **kwargs):
        refuse_array_api(p)
        return self._gradgen_text(p)

    def _gradgen_text(self, p, **kwargs):
        a, *indices, axis = self.args
        return f"{p.postfix(a)}[{_key_text(p, indices, int(axis))}]"

    def _gradgen_latex(self, p, **kwargs):
        a, *indices, axis = self.args
        return rf"{p.postfix(a)}\left[{_key_text(p, indices, int(axis))}\right]"


def _index_argument(p, indices, axis: int) -> str:
    """The key as a helper's argument: ``y``, ``(np.arange(n), y)``, ``np.s_[:, idx]``."""
    printed = [p._print(i) for i in indices]
    if axis:
        return f"{p.np}.s_[{', '.join([':'] * axis + printed)}]"
    return printed[0] if len(printed) == 1 else f"({', '.join(printed)})"


class ScatterAdd(Linear, _ByIndices):
    """Zeros shaped like ``like`` with ``value`` added at the indices (``np.add.at``: a
    repeated index adds each value): the VJP of ``Gather(like, ...)``. In code the
    module's helper ``scatter_add(like, index, value)``; in formulas ``{[y] += g}``."""

    lead = 2

    def out_shape(self, shapes):
        return shapes[1]

    @staticmethod
    def vjp(g, ans, value, like, *rest, shape):
        return (Gather(g, *rest), None) + (None,) * (len(rest) - 1)

    def _gradgen_numpy(self, p, **kwargs):
        value, like = self.args[:2]
        return self.helper_call(p, "scatter_add", like, value)

    def _gradgen_text(self, p, **kwargs):
        return self.braces(p, "", "+=", self.args[0], latex=False)

    def _gradgen_latex(self, p, **kwargs):
        return self.braces(p, "", "+=", self.args[0], latex=True)


class PutAt(_ByIndices):
    """``a`` with ``a[:, i0, i1] = value`` for a number ``value`` (CS231n's
    ``margins[np.arange(n), y] = 0``): a copy with those entries set. In code the
    module's helper ``put_at(a, index, value)``; in formulas ``{a with [y] ← 0}``."""

    lead = 2

    def out_shape(self, shapes):
        return shapes[0]

    @staticmethod
    def vjp(g, ans, a, value, *rest, shape):  # the entries written get no gradient
        return (PutAt(g, sp.Integer(0), *rest), None) + (None,) * (len(rest) - 1)

    @staticmethod
    def jvp(t, ans, a, value, *rest, shape):
        return None if t[0] is None else PutAt(t[0], sp.Integer(0), *rest)

    def _gradgen_numpy(self, p, **kwargs):
        return self.helper_call(p, "put_at", *self.args[:2])

    def _gradgen_text(self, p, **kwargs):
        a, value = self.args[:2]
        return self.braces(p, f"{p._print(a)} with ", "←", value, latex=False)

    def _gradgen_latex(self, p, **kwargs):
        a, value = self.args[:2]
        return self.braces(p, f"{p._print(a)} with ", r"\leftarrow", value, latex=True)


# --- tracing ---------------------------------------------------------------------------


def _index_args(t, indices: list, axis: int) -> tuple[list, list]:
    """The indices as arguments (integer nodes and Integers) and as operands (their
    shapes), checked against ``t``'s shape."""
    s = t.session
    exprs = [sp.Integer(i) if not is_tracer(i) else s.materialise(i) for i in indices]
    shapes = [i.shape_ if is_tracer(i) else () for i in indices]
    try:
        gather_shape(t.shape_, shapes, axis)
    except ShapeError as exc:
        raise shape_error(t, exc) from None
    for k, expr in enumerate(exprs):
        require_inside(t, t.shape_[axis + k], _positions(s, expr))
    return exprs + [sp.Integer(axis)], [_Shape(sh) for sh in shapes]


def _positions(session, index: sp.Expr) -> list[int]:
    """The positions an index selects, where tracing knows them (an int, a constant
    array, np.arange of numbers); none for data."""
    node = session.graph.by_sym.get(index)
    expr = index if node is None or node.expr is None else node.expr
    if expr.is_Integer:
        return [int(expr)]
    if isinstance(expr, ArrayConstant):
        return [int(v) for v in expr.args[0]]
    if isinstance(expr, Arange) and all(v.is_Integer for v in expr.args):
        return list(range(*(int(v) for v in expr.args)))
    return []


def require_inside(t, size: sp.Expr, positions: list[int]) -> None:
    """Known positions inside an axis: NumPy raises an IndexError for one outside, some
    libraries of the Array API target clip it. On an axis of fixed size one outside is
    refused; on a named one the entry checks ask for a size that holds them."""
    if not positions:
        return
    low, high = min(positions), max(positions)
    if size.is_Integer:
        outside = [p for p in (high, low) if not -int(size) <= p < int(size)]
        if outside:
            raise t.session.error(
                f"index {outside[0]} is out of range for an axis of size {size}",
                "index inside the axis",
            )
        return
    site = t.session.site()
    for position, least in ((high, high + 1), (low, -low)):
        constant, rest = sp.expand(size - least).as_coeff_Add()
        condition = sp.Ge(rest, -constant)
        if condition is sp.false:
            raise t.session.error(
                f"index {position} is out of range for an axis of size {size}",
                "index inside the axis",
            )
        if condition is not sp.true:
            where = f"the index {position} at {site.path}:{site.line}"
            t.session.graph.requires.setdefault(condition, where)


def gather(t, indices: list, axis: int):
    """``t[:, ..., i0, i1]``: ``indices`` are integer tracers or ints."""
    args, operands = _index_args(t, indices, axis)
    node = Gather(t.session.materialise(t), *args)
    return t.session.structural(node, [t] + operands, t.integer)


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


@dispatch.numpy(
    np.sort,
    note="axis (None: of the flattened array), kind; np.take_along_axis by np.argsort: "
    "the gradient goes back to where each entry came from",
    section="Reductions and products",
)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    a, k, positions = argsort_of(a, axis, kind, order, stable, "np.sort")
    return take_along_axis(a, positions, k)


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


def _advanced_key(t, entries: tuple) -> tuple[list, int]:
    """(indices, axis) of a key where some entries are integer arrays: full slices,
    then the index arrays (and ints) next to one another, then full slices."""
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
    return indices, lead


def advanced(t, entries: tuple):
    """``t[entries]`` where some entries are integer arrays."""
    return gather(t, *_advanced_key(t, entries))


def put(t, entries: tuple, value):
    """``t[entries] = value`` through integer arrays, for a number ``value`` (with an
    array, a repeated index would keep only its last value): the new traced value."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
        value, (bool, np.bool_)
    ):
        raise t.session.error(
            "writing an array or a traced value through integer index arrays",
            "write a number (z[np.arange(n), y] = 0), or with a mask that keeps the "
            "shape: z = np.where(np.eye(c)[y] == 1, v, z)",
        )
    args, operands = _index_args(t, *_advanced_key(t, entries))
    number, _ = t._operand(value)
    node = PutAt(t.session.materialise(t), number, *args)
    return t.session.structural(node, [t, _Shape(())] + operands, t.integer)
