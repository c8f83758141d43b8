"""``np.linalg`` of a matrix: ``Solve``, ``Inv``, ``Det``, ``LogAbsDet`` and ``DetSign``
(``slogdet``), ``Cholesky``, ``Pinv``; ``spectral`` holds ``eigh`` and the norms. Each
operation in one place: shape, VJP and JVP, code, text and LaTeX. The rules are the
matrix-calculus ones collected by Giles (2008), "An extended collection of matrix
derivative results for forward and reverse mode algorithmic differentiation", written
with ``np.linalg.solve`` where that is more accurate than an explicit inverse.

A symmetric input (``cholesky``, and ``eigh`` in ``spectral``): NumPy reads the lower
triangle only, and computes with the symmetric matrix it holds, sym_L(A) = tril(A) +
tril(A, -1)ᵀ. The tangent taken is sym_L(dA); the gradient, of a function of A's lower
triangle, is S's lower part with the entries below the diagonal doubled (S the symmetric
gradient): zero above the diagonal, as central differences find for a matrix that is not
symmetric, and the same as the symmetric gradient for every symmetric perturbation.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.arrays import Eye
from gradgen.ops.assembled import Tri
from gradgen.ops.linear import MatMul, Outer, TraceOp, Transpose
from gradgen.ops.tracing import any_tracer, as_tracer


def square_shape(shape, name: str):
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{name} needs a square matrix, got shape {shape_str(shape)}")
    return shape[0]


def symmetric(x):
    return (x + Transpose(x)) / 2


def from_lower(t, n):
    """sym_L(t) = tril(t) + tril(t, -1)ᵀ: the symmetric matrix NumPy reads from t."""
    below = t * Tri(n, n, sp.Integer(-1))
    return t * Eye(n, n) + below + Transpose(below)


def onto_lower(s, n):
    """The gradient with respect to A of a function of sym_L(A), from its symmetric
    gradient ``s``: 2 s below the diagonal, s on it, 0 above."""
    return s * (2 * Tri(n, n, sp.Integer(-1)) + Eye(n, n))


def _call(p, name: str, *args) -> str:
    return f"{p.np}.linalg.{name}({', '.join(p._print(a) for a in args)})"


class MatrixFunction(ir.Structural):
    """A function of one square matrix; ``name`` its np.linalg name, ``item`` the part
    of a tuple result it is (slogdet's, eigh's)."""

    nargs = 1
    name = ""
    item: int | None = None
    text = ""  # the text form; {} is the operand
    latex = ""

    def _gradgen_numpy(self, p, **kwargs):
        call = _call(p, self.name, self.args[0])
        return call if self.item is None else f"{call}[{self.item}]"

    def _gradgen_text(self, p, **kwargs):
        return self.text.format(p._print(self.args[0]))

    def _gradgen_latex(self, p, **kwargs):
        return self.latex.format(p._print(self.args[0]))


class Inv(MatrixFunction):
    """``np.linalg.inv(a)``: d(A⁻¹) = -A⁻¹ dA A⁻¹."""

    name, text, latex = "inv", "inv({})", r"{{\left({}\right)^{{-1}}}}"

    def out_shape(self, shapes):
        n = square_shape(shapes[0], "np.linalg.inv")
        return (n, n)

    @staticmethod
    def vjp(g, ans, a, *, shape):
        return (-MatMul(Transpose(ans), MatMul(g, Transpose(ans))),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        return None if t[0] is None else -MatMul(ans, MatMul(t[0], ans))


class Solve(ir.Structural):
    """``np.linalg.solve(a, b)``, b a vector or a matrix: x = A⁻¹ b, so
    b̄ = A⁻ᵀ x̄ and Ā = -b̄ xᵀ; dx = A⁻¹ (db - dA x)."""

    nargs = 2
    array_args = 2
    precedence = PRECEDENCE["Atom"]

    def out_shape(self, shapes):
        n = square_shape(shapes[0], "np.linalg.solve")
        b = shapes[1]
        if len(b) not in (1, 2) or b[0] != n:
            raise ShapeError(
                f"np.linalg.solve of a {shape_str(shapes[0])} matrix and "
                f"shape {shape_str(b)}"
            )
        return b

    @staticmethod
    def vjp(g, ans, a, b, *, shape):
        gb = Solve(Transpose(a), g)
        ga = Outer(gb, ans) if len(shape(b)) == 1 else MatMul(gb, Transpose(ans))
        return -ga, gb

    @staticmethod
    def jvp(t, ans, a, b, *, shape):
        rhs = [t[1], None if t[0] is None else -MatMul(t[0], ans)]
        rhs = [x for x in rhs if x is not None]
        return Solve(a, sp.Add(*rhs)) if rhs else None

    def _gradgen_numpy(self, p, **kwargs):
        return _call(p, "solve", *self.args)

    def _gradgen_text(self, p, **kwargs):
        return f"solve({p._print(self.args[0])}, {p._print(self.args[1])})"

    def _gradgen_latex(self, p, **kwargs):
        a, b = (p._print(x) for x in self.args)
        return rf"\operatorname{{solve}}\left({a},\ {b}\right)"


def _inv_t(a):
    """A⁻ᵀ."""
    return Transpose(Inv(a))


def _trace_solve(a, da):
    """tr(A⁻¹ dA)."""
    return TraceOp(Solve(a, da))


class Det(MatrixFunction):
    """``np.linalg.det(a)``: Ā = ḡ det(A) A⁻ᵀ; d det = det(A) tr(A⁻¹ dA)."""

    name, text, latex = "det", "det({})", r"\det\left({}\right)"

    def out_shape(self, shapes):
        square_shape(shapes[0], "np.linalg.det")
        return ()

    @staticmethod
    def vjp(g, ans, a, *, shape):
        return (g * ans * _inv_t(a),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        return None if t[0] is None else ans * _trace_solve(a, t[0])


class LogAbsDet(MatrixFunction):
    """``np.linalg.slogdet(a)[1]``, log |det A|: Ā = ḡ A⁻ᵀ; d = tr(A⁻¹ dA)."""

    name, item, text = "slogdet", 1, "log|det({})|"
    latex = r"\log\left|\det\left({}\right)\right|"

    def out_shape(self, shapes):
        square_shape(shapes[0], "np.linalg.slogdet")
        return ()

    @staticmethod
    def vjp(g, ans, a, *, shape):
        return (g * _inv_t(a),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        return None if t[0] is None else _trace_solve(a, t[0])


class DetSign(MatrixFunction):
    """``np.linalg.slogdet(a)[0]``, the sign of det A: constant where it is defined."""

    name, item, text = "slogdet", 0, "sign(det({}))"
    latex = r"\operatorname{{sign}}\det\left({}\right)"

    def out_shape(self, shapes):
        square_shape(shapes[0], "np.linalg.slogdet")
        return ()

    @staticmethod
    def vjp(g, ans, a, *, shape):
        return (None,)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        return None


def _phi(x, n):
    """The lower triangle of ``x`` with its diagonal halved."""
    return (Tri(n, n, 0) - Eye(n, n) / 2) * x


def _conjugate_solve(lower, x):
    """L⁻ᵀ X L⁻¹."""
    return Solve(Transpose(lower), Transpose(Solve(Transpose(lower), Transpose(x))))


class Cholesky(MatrixFunction):
    """``np.linalg.cholesky(a)``, L with A = L Lᵀ (Murray 2016, as autograd):
    Ā = lower(sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)); dL = L Φ(L⁻¹ sym_L(dA) L⁻ᵀ), Φ the lower triangle
    with half its diagonal (``onto_lower``, ``from_lower``: NumPy reads A's lower
    triangle)."""

    name, text, latex = (
        "cholesky",
        "cholesky({})",
        r"\operatorname{{chol}}\left({}\right)",
    )

    def out_shape(self, shapes):
        n = square_shape(shapes[0], "np.linalg.cholesky")
        return (n, n)

    @staticmethod
    def vjp(g, ans, a, *, shape):
        n = shape(a)[0]
        sym = symmetric(_conjugate_solve(ans, _phi(MatMul(Transpose(ans), g), n)))
        return (onto_lower(sym, n),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        if t[0] is None:
            return None
        n = shape(a)[0]
        inner = Solve(ans, Transpose(Solve(ans, Transpose(from_lower(t[0], n)))))
        return MatMul(ans, _phi(inner, n))


class Pinv(MatrixFunction):
    """``np.linalg.pinv(a)``, P = A⁺ of an n×m A of full rank (Golub and Pereyra 1973):
    dP = -P dA P + P Pᵀ dAᵀ (I - A P) + (I - P A) dAᵀ Pᵀ P, so
    Ā = -Pᵀ P̄ Pᵀ + (I - A P) P̄ᵀ P Pᵀ + Pᵀ P P̄ᵀ (I - P A)."""

    name, text, latex = "pinv", "pinv({})", r"{{\left({}\right)^{{+}}}}"

    def out_shape(self, shapes):
        a = shapes[0]
        if len(a) != 2:
            raise ShapeError(f"np.linalg.pinv needs a matrix, got shape {shape_str(a)}")
        return (a[1], a[0])

    @staticmethod
    def vjp(g, ans, a, *, shape):
        n, m = shape(a)
        left = Eye(n, n) - MatMul(a, ans)  # I - A P
        right = Eye(m, m) - MatMul(ans, a)  # I - P A
        p_t, g_t = Transpose(ans), Transpose(g)
        return (
            -MatMul(p_t, MatMul(g, p_t))
            + MatMul(MatMul(left, g_t), MatMul(ans, p_t))
            + MatMul(MatMul(p_t, ans), MatMul(g_t, right)),
        )

    @staticmethod
    def jvp(t, ans, a, *, shape):
        if t[0] is None:
            return None
        n, m = shape(a)
        da, da_t, p_t = t[0], Transpose(t[0]), Transpose(ans)
        return (
            -MatMul(ans, MatMul(da, ans))
            + MatMul(MatMul(ans, p_t), MatMul(da_t, Eye(n, n) - MatMul(a, ans)))
            + MatMul(Eye(m, m) - MatMul(ans, a), MatMul(da_t, MatMul(p_t, ans)))
        )


# --- tracing: the NumPy calls that make these ------------------------------------------

SECTION = "np.linalg"
SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")


def square(a, name: str):
    """``a``, checked to be one square matrix."""
    if a.ndim != 2 or a.shape_[0] != a.shape_[1]:
        raise a.session.error(
            f"{name} needs a square matrix, got shape {shape_str(a.shape_)}",
            "loop over a stack of matrices" if a.ndim > 2 else None,
        )
    return a


def apply(cls, a, name: str):
    s = square(a, name).session
    return s.structural(cls(s.materialise(a)), [a])


@dispatch.numpy(np.linalg.inv, note="a square matrix", section=SECTION)
def inv(a):
    return apply(Inv, a, "np.linalg.inv")


@dispatch.numpy(np.linalg.det, note="a square matrix", section=SECTION)
def det(a):
    return apply(Det, a, "np.linalg.det")


@dispatch.numpy(
    np.linalg.slogdet,
    note="(sign, logabsdet); the sign has no gradient",
    section=SECTION,
)
def slogdet(a):
    return SlogdetResult(
        apply(DetSign, a, "np.linalg.slogdet"), apply(LogAbsDet, a, "np.linalg.slogdet")
    )


@dispatch.numpy(
    np.linalg.cholesky,
    note="a symmetric positive definite matrix (its lower triangle read)",
    section=SECTION,
)
def cholesky(a, upper=False):
    if upper:
        raise a.session.error(
            "np.linalg.cholesky with upper=True", "transpose the lower factor: L.T"
        )
    return apply(Cholesky, a, "np.linalg.cholesky")


@dispatch.numpy(
    np.linalg.solve,
    note="a square matrix and a vector or a matrix",
    section=SECTION,
)
def solve(a, b):
    t = any_tracer(a, b)
    a, b = square(as_tracer(a, t), "np.linalg.solve"), as_tracer(b, t)
    if b.ndim not in (1, 2):
        raise t.session.error(
            f"np.linalg.solve of a right-hand side of shape {shape_str(b.shape_)}",
            "solve for a vector or a matrix",
        )
    s = t.session
    return s.structural(Solve(s.materialise(a), s.materialise(b)), [a, b])


@dispatch.numpy(
    np.linalg.pinv,
    note="a matrix of full rank (the rank may not change)",
    section=SECTION,
)
def pinv(a):
    if a.ndim != 2:
        raise a.session.error(
            f"np.linalg.pinv needs a matrix, got shape {shape_str(a.shape_)}"
        )
    s = a.session
    return s.structural(Pinv(s.materialise(a)), [a])
