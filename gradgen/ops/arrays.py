"""Arrays made from numbers or by broadcasting: ``BroadcastTo``, ``FullLike``, ``Eye``;
and ``zeros`` and the ``LinearInAll`` form of JVP, which build on them.

Each operation in one place: its result shape, its VJP and JVP rules, and how it prints
as NumPy code, as plain text and as LaTeX (the ``_gradgen_*`` print methods SymPy's
printers call). A made array's float type is the function's (``dtype``), so float32
arguments give float32 results.
"""

from __future__ import annotations

import sympy as sp

from .. import ir
from .rules import Linear


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
        if value == 1:
            return f"{p.np}.ones({shape}, {p.dtype})"
        if value == 0:
            return f"{p.np}.zeros({shape}, {p.dtype})"
        if ir.of_sizes(
            value
        ):  # a new array, as np.ones and np.zeros: it may be written
            return f"{p.np}.full({shape}, {p._print(value)}, {p.dtype})"
        return f"{p.np}.broadcast_to({p._print(value)}, {shape})"

    def _gradgen_text(self, p, **kwargs):  # broadcasting is implicit in the formulas
        return p.ONES if self.args[0] == 1 else p._print(self.args[0])

    _gradgen_latex = _gradgen_text


def broadcast_to(a, shape: ir.Shape) -> sp.Expr:
    return BroadcastTo(a, sp.Tuple(*shape))


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
