"""Indexing and shape operations of the IR: the structural ops that read or write part of an
array, join arrays, or give an array another shape.

Takes nothing from the other stages but ``ir``; gives them ``Index`` (``a[key]``), ``Scatter``
(zeros shaped like ``like`` holding ``value`` at ``key``: the VJP of indexing), ``Update``
(``a`` with ``a[key] = value``: an in-place write, made pure), ``Concat``, ``Stack`` and
``Reshape``, plus ``encode_key``/``decode_key`` for constant index keys.

A key is a tuple of entries, each an integer, a slice with constant (or, from ``Concat``'s
rule, symbolic) bounds, or ``None`` (a new axis); it is stored as a SymPy ``Tuple`` so it
survives ``xreplace`` and ``cse``: an integer as itself, a slice as ``(start, stop, step)``
with ``OMITTED`` for an omitted bound, a new axis as ``()``.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str

from . import ir
from .ir import ShapeError, shape_str

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


def _slice_length(size: sp.Expr, s: slice) -> sp.Expr:
    """Elements of an axis of ``size`` a slice selects. With a symbolic size, bounds are
    taken to lie inside the axis (the generated code slices at run time, as NumPy does).
    """
    step = 1 if s.step is None else s.step
    if size.is_Integer and all(
        b is None or sp.sympify(b).is_Integer for b in (s.start, s.stop)
    ):
        plain = slice(*[None if b is None else int(b) for b in (s.start, s.stop)], step)
        return sp.Integer(len(range(*plain.indices(int(size)))))
    if int(step) < 0:
        raise ShapeError("a negative slice step needs an axis of fixed size")

    def bound(b, default):
        if b is None:
            return default
        b = sp.sympify(b)
        return size + b if b.is_Integer and b < 0 else b

    # expand: the compile runs with distribution off (pipeline), and n + m - (m) must be n
    length = sp.expand(bound(s.stop, size) - bound(s.start, sp.Integer(0)))
    return length if step == 1 else sp.ceiling(length / step)


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


class Index(ir.Structural):
    """``a[key]``."""

    nargs = 2
    precedence = ir.PRECEDENCE["Atom"]

    @classmethod
    def eval(cls, a, key):
        if isinstance(a, ir.BroadcastTo) and a.args[0].is_Number:
            # part of a constant array: the constant (not of a broadcast array, whose
            # own axes the key may select from)
            value, dims = a.args
            shape = index_shape(tuple(dims), decode_key(key))
            return ir.broadcast_to(value, shape) if shape else value
        return None

    def out_shape(self, shapes):
        return index_shape(shapes[0], decode_key(self.args[1]))


class Scatter(ir.Structural):
    """Zeros shaped like ``like``, holding ``value`` at ``key``: the VJP of ``like[key]``."""

    nargs = 3
    array_args = 2

    def out_shape(self, shapes):
        return shapes[1]


class Update(ir.Structural):
    """``a`` with ``a[key] = value``: an in-place write, as a new value."""

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


class _Joined(ir.Structural):
    """An operation on all its arguments but the last, which is the axis (an Integer)."""

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    @property
    def axis(self) -> int:
        return int(self.args[-1])


def _check_axis(name: str, axis: int, shapes: list, last: int) -> None:
    """An axis the operands have: when folding cancels an operand to a scalar (x - x is
    0), this ShapeError keeps the optimiser from folding it (optimize._misshapen)."""
    if not 0 <= axis <= last:
        raise ShapeError(
            f"{name} along axis {axis} of arrays of shape {shape_str(shapes[0])}"
        )


class Concat(_Joined):
    """``np.concatenate([a, b, ...], axis)``."""

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


class Stack(_Joined):
    """``np.stack([a, b, ...], axis)``."""

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


class Reshape(ir.Structural):
    """``a.reshape(shape)``; the shape is a Tuple of dims."""

    nargs = 2

    def out_shape(self, shapes):
        if sp.simplify(ir.size_of(shapes[0]) - ir.size_of(tuple(self.args[1]))) != 0:
            raise ShapeError(
                f"cannot reshape an array of shape {shape_str(shapes[0])} into "
                f"{shape_str(tuple(self.args[1]))}"
            )
        return tuple(self.args[1])


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


def statement_level(expr: sp.Expr) -> bool:
    """Printed as several statements (``t = np.zeros_like(x)``, ``t[1:] = v``), so never
    folded into another expression: a ``Scatter`` or a sum with one, or an ``Update``.
    """
    if isinstance(expr, (Scatter, Update)):
        return True
    return isinstance(expr, sp.Add) and any(isinstance(t, Scatter) for t in expr.args)
