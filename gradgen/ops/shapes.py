"""Other shapes for the same entries: ``Reshape``, and joins, ``Concat``
(``np.concatenate``) and ``Stack`` (``np.stack``). Each operation in one place: shape, VJP
and JVP, code, text and LaTeX, and the NumPy calls that trace to it (also ``np.squeeze``,
``np.ravel``, ``np.atleast_2d``, ``x.reshape``, which are reshapes).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.errors import written_as
from gradgen.ir import ShapeError, shape_str, static
from gradgen.ops.arrays import LinearInAll
from gradgen.ops.indexing import Index, encode_key
from gradgen.ops.linear import Transpose
from gradgen.ops.rules import Linear
from gradgen.ops.tracing import any_tracer, as_tracer, dims, is_tracer, shape_error
from gradgen.ops.tracing import axis as axis_of


def _shape_text(p, dims) -> str:
    items = [p._print(d) for d in dims]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _number(expr: sp.Expr) -> bool:
    """A number or a size (a Python number in the code, whose reshape would be an
    array of integers), not an array."""
    return ir.of_sizes(expr) and not any(
        isinstance(e, ir.Structural) for e in sp.preorder_traversal(expr)
    )


class Reshape(Linear, ir.Structural):
    """``a.reshape(shape)``; the shape is a Tuple of dims."""

    nargs = 2

    def out_shape(self, shapes):
        if sp.simplify(ir.size_of(shapes[0]) - ir.size_of(tuple(self.args[1]))) != 0:
            raise ShapeError(
                f"cannot reshape an array of shape {shape_str(shapes[0])} into "
                f"{shape_str(tuple(self.args[1]))}"
            )
        return tuple(self.args[1])

    @staticmethod
    def vjp(g, ans, a, dims, *, shape):
        return (Reshape(g, sp.Tuple(*shape(a))),)

    def _gradgen_numpy(self, p, **kwargs):
        value, shape = p._print(self.args[0]), _shape_text(p, self.args[1])
        if _number(self.args[0]):  # of the float type (the Array API's takes arrays)
            dtype = f"dtype={p.dtype}" if p.array_api else p.dtype
            return f"{p.np}.full({shape}, {value}, {dtype})"
        # np.reshape, not .reshape: the operand may be a Python float
        return f"{p.np}.reshape({value}, {shape})"

    def _gradgen_text(self, p, **kwargs):
        return f"reshape({p._print(self.args[0])}, {_shape_text(p, self.args[1])})"

    def _gradgen_latex(self, p, **kwargs):
        inner = f"{p._print(self.args[0])}, {_shape_text(p, self.args[1])}"
        return rf"\operatorname{{reshape}}\left({inner}\right)"


def reshape_shape(shape: ir.Shape, new: tuple) -> ir.Shape:
    """``new`` with a -1 entry worked out from the size of ``shape``."""
    new = [sp.sympify(d) for d in new]
    unknown = [k for k, d in enumerate(new) if d == -1]
    if len(unknown) > 1:
        raise ShapeError("only one dimension of a new shape can be -1")
    if unknown:
        known = sp.Mul(*[d for d in new if d != -1])
        new[unknown[0]] = sp.simplify(ir.size_of(shape) / known)
    return tuple(new)


class _Joined(LinearInAll, ir.Structural):
    """An operation on all its arguments but the last, which is the axis (an Integer)."""

    numpy_name = ""
    standard_name = ""  # the Array API standard's name, where it is not NumPy's

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    @property
    def axis(self) -> int:
        return int(self.args[-1])

    def _gradgen_numpy(self, p, **kwargs):
        arrays = ", ".join(p._print(a) for a in self.args[:-1])
        axis = "" if self.axis == 0 else f", axis={self.axis}"
        name = (p.array_api and self.standard_name) or self.numpy_name
        return f"{p.np}.{name}([{arrays}]{axis})"

    def _gradgen_text(self, p, **kwargs):
        arrays = ", ".join(p._print(a) for a in self.args[:-1])
        axis = "" if self.axis == 0 else f"; axis {self.axis}"
        return f"{self.numpy_name}({arrays}{axis})"

    def _gradgen_latex(self, p, **kwargs):
        arrays = ",\\ ".join(p._print(a) for a in self.args[:-1])
        axis = "" if self.axis == 0 else rf";\ \mathrm{{axis}}\ {self.axis}"
        return rf"\operatorname{{{self.numpy_name}}}\left({arrays}{axis}\right)"


def _check_axis(name: str, axis: int, shapes: list, last: int) -> None:
    """An axis the operands have: when folding cancels an operand to a scalar (x - x is
    0), this ShapeError keeps the optimiser from folding it (optimize._misshapen)."""
    if not 0 <= axis <= last:
        raise ShapeError(
            f"{name} along axis {axis} of arrays of shape {shape_str(shapes[0])}"
        )


class Concat(_Joined):
    """``np.concatenate([a, b, ...], axis)``."""

    numpy_name = "concatenate"
    standard_name = "concat"

    def out_shape(self, shapes):
        first, axis = shapes[0], self.axis
        _check_axis("np.concatenate", axis, shapes, len(first) - 1)
        for s in shapes[1:]:
            if len(s) != len(first) or any(
                a != b for k, (a, b) in enumerate(zip(s, first)) if k != axis
            ):
                raise ShapeError(
                    f"np.concatenate of shapes {shape_str(first)} and {shape_str(s)}: "
                    f"only axis {axis} may differ"
                )
        total = sp.expand(sp.Add(*[s[axis] for s in shapes]))
        return first[:axis] + (total,) + first[axis + 1 :]

    @staticmethod
    def vjp(g, ans, *args, shape):
        *arrays, axis = args
        lead, offset, out = (slice(None),) * int(axis), sp.Integer(0), []
        for k, a in enumerate(arrays):
            end = offset + shape(a)[int(axis)]
            part = slice(offset or None, end if k < len(arrays) - 1 else None)
            out.append(Index(g, encode_key(lead + (part,))))
            offset = end
        return out


class Stack(_Joined):
    """``np.stack([a, b, ...], axis)``."""

    numpy_name = "stack"

    def out_shape(self, shapes):
        _check_axis("np.stack", self.axis, shapes, len(shapes[0]))
        for s in shapes[1:]:
            if s != shapes[0]:
                raise ShapeError(
                    f"np.stack of shapes {shape_str(shapes[0])} and {shape_str(s)}: "
                    "all must be equal"
                )
        return (
            shapes[0][: self.axis] + (sp.Integer(len(shapes)),) + shapes[0][self.axis :]
        )

    @staticmethod
    def vjp(g, ans, *args, shape):
        *arrays, axis = args
        lead = (slice(None),) * int(axis)
        return [Index(g, encode_key(lead + (i,))) for i in range(len(arrays))]


class Permute(Linear, ir.Structural):
    """``np.transpose(a, axes)`` of an N-D array; ``axes`` a Tuple."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    @classmethod
    def eval(cls, a, axes):
        order = [int(k) for k in axes]
        if order == sorted(order) or a.is_Number:
            return a
        if order == [1, 0]:
            return Transpose(a)
        if isinstance(a, Permute):
            inner = [int(k) for k in a.args[1]]
            return Permute(a.args[0], static([inner[k] for k in order]))
        return None

    def out_shape(self, shapes):
        order = [int(k) for k in self.args[1]]
        if len(order) != len(shapes[0]):
            raise ShapeError(
                f"axes {tuple(order)} for an array of shape {shape_str(shapes[0])}"
            )
        return tuple(shapes[0][k] for k in order)

    @staticmethod
    def vjp(g, ans, a, axes, *, shape):
        order = [int(k) for k in axes]
        return (Permute(g, static([order.index(k) for k in range(len(order))])),)

    def _reversed(self) -> bool:
        order = [int(k) for k in self.args[1]]
        return order == list(range(len(order)))[::-1]

    def _gradgen_numpy(self, p, **kwargs):
        axes = tuple(int(k) for k in self.args[1])
        if self._reversed() and (len(axes) == 2 or not p.array_api):
            return f"{p.postfix(self.args[0])}.T"  # the standard's .T is 2-D only
        name = "permute_dims" if p.array_api else "transpose"
        return f"{p.np}.{name}({p._print(self.args[0])}, {axes})"

    def _gradgen_text(self, p, **kwargs):
        if self._reversed():
            return p.TOP.format(p.postfix(self.args[0]))
        axes = ",".join(str(int(k)) for k in self.args[1])
        return f"transpose({p._print(self.args[0])}; axes {axes})"

    def _gradgen_latex(self, p, **kwargs):
        if self._reversed():
            return p.TOP.format(p.postfix(self.args[0]))
        axes = ",".join(str(int(k)) for k in self.args[1])
        inner = p._print(self.args[0])
        return rf"\operatorname{{transpose}}_{{{axes}}}\left({inner}\right)"


# --- tracing: the NumPy calls that make these ------------------------------------------


def traced_list(arrays) -> list:
    """The arrays of a join's list or tuple, each a tracer."""
    if is_tracer(arrays) and arrays.ndim and arrays.shape_[0].is_Integer:
        return [arrays[i] for i in range(int(arrays.shape_[0]))]  # NumPy's: its rows
    if not isinstance(arrays, (list, tuple)) or not arrays:
        t = arrays if is_tracer(arrays) else None
        if t is None:
            raise TypeError("expects a list of arrays")
        raise t.session.error(
            "join a list or tuple of arrays, not one array whose first axis is a name",
            "give its first axis a fixed size, or pass a list",
        )
    t = any_tracer(*arrays)
    return [as_tracer(a, t) for a in arrays]


def _join(cls, arrays, axis, extra: int):
    items = traced_list(arrays)
    t = items[0]
    k = axis_of(t, axis, len(items[0].shape_) + extra)
    s = t.session
    args = [s.materialise(a) for a in items]
    expr = cls(*args, sp.Integer(k))
    try:
        return s.structural(expr, items)
    except ShapeError as exc:  # pragma: no cover - structural() reports it
        raise shape_error(t, exc) from None


@dispatch.numpy(np.concatenate, note="a list or tuple of arrays, axis")
def concatenate(arrays, axis=0):
    return _join(Concat, arrays, axis, 0)


def joined(arrays, axis: int, name: str):
    """np.concatenate of ``arrays``, for the join ``name`` that is written with it
    (np.vstack, np.hstack, np.column_stack): a shape error names the model's call."""
    with written_as(name, "np.concatenate"):
        return concatenate(arrays, axis)


@dispatch.numpy(np.stack, note="a list or tuple of arrays (or numbers), axis")
def stack(arrays, axis=0):
    return _join(Stack, arrays, axis, 1)


def reshape(a, *shape):
    shape = shape[0] if len(shape) == 1 else shape
    try:
        new = reshape_shape(a.shape_, dims(a.session, shape))
        if new == a.shape_:
            return a
        s = a.session
        result = s.structural(Reshape(s.materialise(a), sp.Tuple(*new)), [a])
    except ShapeError as exc:
        raise shape_error(a, exc) from None
    result.base = "reshape"
    return result


@dispatch.method("reshape")
@dispatch.numpy(np.reshape, note="one dimension may be -1")
def np_reshape(a, newshape=None, order="C", *, shape=None):
    if order != "C":
        raise a.session.error("np.reshape with order other than 'C'")
    return reshape(a, newshape if shape is None else shape)


@dispatch.numpy(np.ravel)
def ravel(a, order="C"):
    return np_reshape(a, (-1,), order)


@dispatch.method("squeeze")
@dispatch.numpy(np.squeeze, note="axis, or every axis of size 1")
def squeeze(a, axis=None):
    if axis is None:
        axes = [k for k, d in enumerate(a.shape_) if d == 1]
    else:
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = [axis_of(a, k, len(a.shape_)) for k in items]
        if any(a.shape_[k] != 1 for k in axes):
            raise a.session.error("np.squeeze of an axis whose size is not 1")
    return reshape(a, tuple(d for k, d in enumerate(a.shape_) if k not in axes))


@dispatch.numpy(np.atleast_1d)
def atleast_1d(a):
    return a if a.shape_ else reshape(a, (1,))


@dispatch.numpy(np.atleast_2d)
def atleast_2d(a):
    if len(a.shape_) >= 2:
        return a
    return reshape(a, (1,) + tuple(a.shape_) if a.shape_ else (1, 1))


def permute(a, order):
    """``a`` with its axes in ``order`` (a list of axes of ``a``)."""
    if order == sorted(order):
        return a
    s = a.session
    if order == [1, 0]:
        return s.structural(Transpose(s.materialise(a)), [a])
    return s.structural(Permute(s.materialise(a), static(order)), [a])


@dispatch.method("transpose")
@dispatch.numpy(
    np.transpose, note="axes (a permutation)", section="Reductions and products"
)
def transpose(a, axes=None):
    if axes is None:
        return permute(a, list(range(a.ndim))[::-1])
    items = (
        list(axes[0])
        if len(axes) == 1 and isinstance(axes[0], (tuple, list))
        else list(axes)
    )
    order = [axis_of(a, k, a.ndim) for k in items]
    if sorted(order) != list(range(a.ndim)):
        raise a.session.error(
            f"np.transpose: axes {tuple(items)} are not a permutation of the "
            f"{a.ndim} axes of an array of shape {shape_str(a.shape_)}"
        )
    return permute(a, order)


@dispatch.method("swapaxes")
@dispatch.numpy(np.swapaxes, section="Reductions and products")
def swapaxes(a, axis1, axis2):
    i, j = axis_of(a, axis1, a.ndim), axis_of(a, axis2, a.ndim)
    order = list(range(a.ndim))
    order[i], order[j] = j, i
    return permute(a, order)


@dispatch.numpy(
    np.moveaxis,
    note="source, destination (ints or tuples)",
    section="Reductions and products",
)
def moveaxis(a, source, destination):
    items = lambda v: list(v) if isinstance(v, (tuple, list)) else [v]
    src = [axis_of(a, k, a.ndim) for k in items(source)]
    dst = [axis_of(a, k, a.ndim) for k in items(destination)]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise a.session.error(
            "np.moveaxis: source and destination must be as many distinct axes"
        )
    order = [k for k in range(a.ndim) if k not in src]
    for d, k in sorted(zip(dst, src)):
        order.insert(d, k)
    return permute(a, order)
