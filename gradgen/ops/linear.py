"""Products and their kin: ``MatMul`` (``@`` of 1-D and 2-D arrays), ``Outer``,
``Transpose``, ``TraceOp``, ``Vdot``. Each operation in one place: shape, VJP and JVP,
code, text and LaTeX, and the NumPy calls that trace to it (``np.dot``, ``np.trace``,
``x.dot``), registered in ``dispatch`` with their ``gradgen ops`` notes; ``@``,
``np.matmul`` and ``np.outer`` trace in ``einsum``, ``np.transpose`` and ``x.T`` in
``shapes``.
"""

from __future__ import annotations

import numpy as np
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.arrays import Eye
from gradgen.ops.rules import Bilinear, Linear
from gradgen.ops.tracing import any_tracer, as_tracer


class MatMul(Bilinear, ir.Structural):
    """``a @ b`` with NumPy semantics for 1-D and 2-D operands."""

    nargs = 2
    array_args = 2
    precedence = PRECEDENCE["Mul"] - 1

    @classmethod
    def eval(cls, a, b):
        if isinstance(a, Eye) and a.args[0] == a.args[1]:
            return b
        if isinstance(b, Eye) and b.args[0] == b.args[1]:
            return a
        return None

    def out_shape(self, shapes):
        a, b = shapes
        if not a or not b or len(a) > 2 or len(b) > 2:
            raise ShapeError(
                f"matmul needs 1-D or 2-D operands, got shapes {shape_str(a)} and "
                f"{shape_str(b)}"
            )
        inner_a, inner_b = a[-1], b[0]
        if inner_a != inner_b:
            raise ShapeError(
                f"matmul of shapes {shape_str(a)} and {shape_str(b)}: "
                f"inner dimensions {inner_a} and {inner_b} differ"
            )
        return tuple(a[:-1]) + tuple(b[1:])

    @staticmethod
    def vjp(g, ans, a, b, *, shape):
        rank = (len(shape(a)), len(shape(b)))
        if rank == (2, 2):
            return MatMul(g, Transpose(b)), MatMul(Transpose(a), g)
        if rank == (1, 2):
            return MatMul(b, g), Outer(a, g)
        if rank == (2, 1):
            return Outer(g, b), MatMul(Transpose(a), g)
        return g * b, g * a

    def _gradgen_numpy(self, p, **kwargs):
        """``np.dot(a, b)``, the same as ``a @ b`` for the 1-D and 2-D operands gradgen
        allows, and a third of a microsecond cheaper per call: 13% of a small network's
        value and gradient."""
        a, b = self.args
        name = "matmul" if p.array_api else "dot"  # the standard has no dot
        return f"{p.np}.{name}({p._print(a)}, {p._print(b)})"

    def _gradgen_text(self, p, **kwargs):
        """a·b: a product, or the dot product of two vectors."""
        a, b = self.args
        vectors = len(p.shape(a)) == 1 and len(p.shape(b)) == 1
        mark = p.DOT if vectors else p.MATMUL
        return mark.join(
            p._print(x) if isinstance(x, MatMul) else p.paren(x) for x in (a, b)
        )

    _gradgen_latex = _gradgen_text


class Outer(Bilinear, ir.Structural):
    """``np.outer(a, b)`` of two 1-D arrays."""

    nargs = 2
    array_args = 2

    def out_shape(self, shapes):
        return (shapes[0][0], shapes[1][0])

    @staticmethod
    def vjp(g, ans, a, b, *, shape):
        return MatMul(g, b), MatMul(a, g)

    def _gradgen_numpy(self, p, **kwargs):
        a, b = self.args
        if p.array_api:  # the standard has no outer: a column times a row
            return f"{p.postfix(a)}[:, None] * {p.postfix(b)}"
        return f"{p.np}.outer({p._print(a)}, {p._print(b)})"

    def _gradgen_text(self, p, **kwargs):
        a, b = self.args
        return p.MATMUL.join([p.postfix(a), p.TOP.format(p.postfix(b))])

    _gradgen_latex = _gradgen_text


class Transpose(Linear, ir.Structural):
    """``a.T`` of a 2-D array."""

    nargs = 1
    precedence = PRECEDENCE["Atom"]

    @classmethod
    def eval(cls, a):
        if isinstance(a, Transpose):
            return a.args[0]
        if a.is_Number:
            return a
        return None

    def out_shape(self, shapes):
        return tuple(reversed(shapes[0]))

    @staticmethod
    def vjp(g, ans, a, *, shape):
        return (Transpose(g),)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.postfix(self.args[0])}.T"

    def _gradgen_text(self, p, **kwargs):
        return p.TOP.format(p.postfix(self.args[0]))

    _gradgen_latex = _gradgen_text


class TraceOp(Linear, ir.Structural):
    """``np.trace(a)`` of a 2-D array."""

    nargs = 1

    def out_shape(self, shapes):
        return ()

    @staticmethod
    def vjp(g, ans, a, *, shape):
        n, m = shape(a)
        return (g * Eye(n, m),)

    def _gradgen_numpy(self, p, **kwargs):
        if p.array_api:  # in the standard's linalg extension
            return f"{p.np}.linalg.trace({p._print(self.args[0])})"
        return f"{p.np}.trace({p._print(self.args[0])})"

    def _gradgen_text(self, p, **kwargs):
        return f"tr({p._print(self.args[0])})"

    def _gradgen_latex(self, p, **kwargs):
        return rf"\operatorname{{tr}}\left({p._print(self.args[0])}\right)"


class Vdot(Bilinear, ir.Structural):
    """``np.vdot(a, b)``: the sum of ``a * b`` over every element, ``a`` and ``b`` of one
    shape. Only the optimiser's full contractions make it, after differentiation, so its
    rules serve the forward sweep over a backward pass (and a model's np.vdot)."""

    nargs = 2
    array_args = 2

    def out_shape(self, shapes):
        return ()

    @staticmethod
    def vjp(g, ans, a, b, *, shape):
        return g * b, g * a

    def _gradgen_numpy(self, p, **kwargs):
        a, b = self.args
        if p.array_api:  # the standard's vecdot sums one axis only: sum of a * b
            factors = (p.parenthesize(x, PRECEDENCE["Mul"]) for x in (a, b))
            return f"{p.np}.sum({' * '.join(factors)})"
        return f"{p.np}.vdot({p._print(a)}, {p._print(b)})"

    def _gradgen_text(self, p, **kwargs):  # the sum of a ⊙ b
        a, b = self.args
        ndim = len(p.shape(a))
        return p.sum(a**2 if a == b else a * b, tuple(range(ndim)), ndim, True)

    _gradgen_latex = _gradgen_text


# --- tracing: the NumPy calls that make these ------------------------------------------


@dispatch.method("dot")
@dispatch.numpy(
    np.dot,
    note="N-D: the last axis of a with the second-to-last of b",
    section="Reductions and products",
)
def dot(a, b):
    t = any_tracer(a, b)
    a, b = as_tracer(a, t), as_tracer(b, t)
    if not a.shape_ or not b.shape_:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return dispatch.METHODS["__matmul__"](a, b)  # traced in einsum.py
    # np.dot of N-D arrays is not @: it pairs every row of a with every matrix of b
    axes = ([a.ndim - 1], [max(b.ndim - 2, 0)])
    return dispatch.FUNCTIONS[np.tensordot](a, b, axes)  # traced in einsum.py


@dispatch.method("trace")
@dispatch.numpy(
    np.trace, note="offset, axis1, axis2", section="Reductions and products"
)
def trace(a, offset=0, axis1=0, axis2=1):
    if len(a.shape_) < 2:
        raise a.session.error(
            f"np.trace needs a 2-D array, got shape {ir.shape_str(a.shape_)}"
        )
    if len(a.shape_) > 2 or offset != 0:  # the sum of np.diagonal (in assembled.py)
        part = dispatch.FUNCTIONS[np.diagonal](a, offset, axis1, axis2)
        return dispatch.METHODS["sum"](part, -1)
    s = a.session
    return s.structural(TraceOp(s.materialise(a)), [a])
