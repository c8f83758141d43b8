"""The singular value decomposition: ``SvdPart``, one of U, s and Vᵀ of
``np.linalg.svd(a, full_matrices=False)`` (A = U diag(s) Vᵀ, k = min(n, m) singular
values), in one place: shape, VJP and JVP, code, text and LaTeX, and how it traces
(``np.linalg.svd``, also with ``compute_uv=False``).

The rules (Townsend 2016, "Differentiating the singular value decomposition") need the
singular values distinct and nonzero: with F[i, j] = 1 / (s[j]² - s[i]²) off the diagonal
and 0 on it, and dP = Uᵀ dA V,

    ds = diag(dP)
    dU = U (F ∘ (dP S + S dPᵀ)) + (I - U Uᵀ) dA V S⁻¹
    dV = V (F ∘ (S dP + dPᵀ S)) + (I - V Vᵀ) dAᵀ U S⁻¹

and the adjoint, a sum over the three parts (each part is a node of its own),

    Ā = U (diag(s̄) + (F ∘ (Uᵀ Ū - Ūᵀ U)) S + S (F ∘ (Vᵀ V̄ - V̄ᵀ V))) Vᵀ
        + (I - U Uᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I - V Vᵀ).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str
from gradgen.ops.arrays import Eye
from gradgen.ops.linalg import SECTION
from gradgen.ops.linear import MatMul, Transpose
from gradgen.ops.reductions import ReduceSum, reduce
from gradgen.ops.shapes import Reshape

NAMES = ("U", "s", "Vh")


def svd_shapes(shape) -> tuple:
    """(U's, s's, Vᵀ's) shapes for a matrix of ``shape``."""
    if len(shape) != 2:
        raise ShapeError(f"np.linalg.svd needs a matrix, got shape {shape_str(shape)}")
    n, m = shape
    if n != m and not (n.is_Integer and m.is_Integer):
        raise ShapeError(
            f"np.linalg.svd of shape {shape_str(shape)}: which side is smaller is not "
            "known"
        )
    k = n if n == m else sp.Integer(min(int(n), int(m)))
    return (n, k), (k,), (k, m)


def _parts(a):
    return [SvdPart(a, sp.Integer(i)) for i in range(3)]


def _gaps(s, k):
    """F: 1 / (s[j]² - s[i]²) off the diagonal, 0 on it."""
    eye = Eye(k, k)
    return (1 - eye) / (s**2 - Reshape(s, sp.Tuple(k, 1)) ** 2 + eye)


def _column(s, k):
    return Reshape(s, sp.Tuple(k, 1))


class SvdPart(ir.Structural):
    """Part ``part`` (0: U, 1: s, 2: Vᵀ) of the reduced SVD of ``a``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    @property
    def part(self) -> int:
        return int(self.args[1])

    def out_shape(self, shapes):
        return svd_shapes(shapes[0])[self.part]

    @staticmethod
    def vjp(g, ans, a, part, *, shape):
        (n, k), _, (_, m) = svd_shapes(shape(a))
        u, s, vh = _parts(a)
        v = Transpose(vh)
        if int(part) == 1:
            return (MatMul(u * g, vh),)
        if int(part) == 0:
            skew = MatMul(Transpose(u), g) - MatMul(Transpose(g), u)
            inner = (_gaps(s, k) * skew) * s
            rest = MatMul(Eye(n, n) - MatMul(u, Transpose(u)), g / s)
            return (MatMul(MatMul(u, inner) + rest, vh),)
        gv = Transpose(g)  # the adjoint of V
        skew = MatMul(vh, gv) - MatMul(Transpose(gv), v)
        inner = _column(s, k) * (_gaps(s, k) * skew)
        rest = MatMul(u / s, MatMul(Transpose(gv), Eye(m, m) - MatMul(v, vh)))
        return (MatMul(u, MatMul(inner, vh)) + rest,)

    @staticmethod
    def jvp(t, ans, a, part, *, shape):
        if t[0] is None:
            return None
        (n, k), _, (_, m) = svd_shapes(shape(a))
        u, s, vh = _parts(a)
        v, da = Transpose(vh), t[0]
        if int(part) == 1:
            return reduce(ReduceSum, u * MatMul(da, v), [0], 2)
        dp = MatMul(Transpose(u), MatMul(da, v))
        col = _column(s, k)
        if int(part) == 0:
            mixed = _gaps(s, k) * (dp * s + col * Transpose(dp))
            rest = MatMul(Eye(n, n) - MatMul(u, Transpose(u)), MatMul(da, v) / s)
            return MatMul(u, mixed) + rest
        mixed = _gaps(s, k) * (col * dp + Transpose(dp) * s)
        rest = MatMul(Eye(m, m) - MatMul(v, vh), MatMul(Transpose(da), u) / s)
        return Transpose(MatMul(v, mixed) + rest)

    def _gradgen_numpy(self, p, **kwargs):
        a = p._print(self.args[0])
        if self.part == 1:
            return f"{p.np}.linalg.svd({a}, compute_uv=False)"
        return f"{p.np}.linalg.svd({a}, full_matrices=False)[{self.part}]"

    def _gradgen_text(self, p, **kwargs):
        name = ("U", "svdvals", "Vᵀ")[self.part]
        return f"{name}({p._print(self.args[0])})"

    def _gradgen_latex(self, p, **kwargs):
        name = ("U", r"\sigma", r"V^{\top}")[self.part]
        return rf"{name}\left({p._print(self.args[0])}\right)"


# --- tracing: the NumPy call that makes these -------------------------------------------

SVDResult = namedtuple("SVDResult", "U S Vh")


@dispatch.numpy(
    np.linalg.svd,
    note="full_matrices=False (or a square matrix), compute_uv; distinct nonzero "
    "singular values",
    section=SECTION,
)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    try:
        svd_shapes(a.shape_)
    except ShapeError as exc:
        raise a.session.error(
            str(exc), "give the matrix a square shape or fixed sizes"
        ) from None
    n, m = a.shape_
    if compute_uv and full_matrices and n != m:
        raise a.session.error(
            "np.linalg.svd with full_matrices=True of a rectangular matrix",
            "pass full_matrices=False",
        )
    s = a.session
    parts = [
        s.structural(SvdPart(s.materialise(a), sp.Integer(i)), [a])
        for i in ((0, 1, 2) if compute_uv else (1,))
    ]
    return SVDResult(*parts) if compute_uv else parts[0]
