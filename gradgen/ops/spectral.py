"""Eigenvalues and norms: ``EighValues`` and ``EighVectors`` (``np.linalg.eigh`` of a
symmetric matrix, ``np.linalg.eigvalsh``), and ``np.linalg.norm`` of every ``ord``,
traced as compositions (the spectral and nuclear norms from the singular values, ``svd``).
Each operation in one place: shape, VJP and JVP, code, text and LaTeX; the rules are
Giles (2008)'s.

NumPy reads the lower triangle of a symmetric input: the gradient is zero above the
diagonal (``linalg.onto_lower``), and agrees with the symmetric one for every symmetric
perturbation. The eigenvectors' derivative divides
by the differences of the eigenvalues: it needs them distinct.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import sympy as sp

from gradgen import dispatch
from gradgen.ops.arrays import Eye
from gradgen.ops.linalg import (
    SECTION,
    MatrixFunction,
    apply,
    from_lower,
    onto_lower,
    square_shape,
    symmetric,
)
from gradgen.ops.linear import MatMul, Transpose
from gradgen.ops.reductions import ReduceSum, reduce
from gradgen.ops.shapes import Reshape
from gradgen.ops.svd import svd
from gradgen.ops.tracing import axes as axes_of


def _gaps(w, n):
    """F with F[i, j] = 1 / (w[j] - w[i]) off the diagonal and 0 on it."""
    eye = Eye(n, n)
    column = Reshape(w, sp.Tuple(n, 1))
    return (1 - eye) / (w - column + eye)


class EighValues(MatrixFunction):
    """``np.linalg.eigh(a)[0]`` (printed ``np.linalg.eigvalsh(a)``), the eigenvalues w
    of a symmetric A = V diag(w) Vᵀ:
    Ā = V diag(w̄) Vᵀ; dw = diag(Vᵀ dA V)."""

    name, text, latex = "eigvalsh", "eigvalsh({})", r"\lambda\left({}\right)"

    def out_shape(self, shapes):
        return (square_shape(shapes[0], "np.linalg.eigh"),)

    @staticmethod
    def vjp(g, ans, a, *, shape):
        v = EighVectors(a)
        return (onto_lower(MatMul(v * g, Transpose(v)), shape(a)[0]),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        if t[0] is None:
            return None
        v = EighVectors(a)
        return reduce(ReduceSum, v * MatMul(from_lower(t[0], shape(a)[0]), v), [0], 2)


class EighVectors(MatrixFunction):
    """``np.linalg.eigh(a)[1]``, the eigenvectors V (columns) of a symmetric A, with
    distinct eigenvalues w: Ā = sym(V (F ∘ Vᵀ V̄) Vᵀ), dV = V (F ∘ Vᵀ dA V), where
    F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""

    name, item, text, latex = "eigh", 1, "eigvecs({})", r"V\left({}\right)"

    def out_shape(self, shapes):
        n = square_shape(shapes[0], "np.linalg.eigh")
        return (n, n)

    @staticmethod
    def vjp(g, ans, a, *, shape):
        gaps = _gaps(EighValues(a), shape(a)[0])
        inner = gaps * MatMul(Transpose(ans), g)
        sym = symmetric(MatMul(ans, MatMul(inner, Transpose(ans))))
        return (onto_lower(sym, shape(a)[0]),)

    @staticmethod
    def jvp(t, ans, a, *, shape):
        if t[0] is None:
            return None
        gaps = _gaps(EighValues(a), shape(a)[0])
        projected = MatMul(Transpose(ans), MatMul(from_lower(t[0], shape(a)[0]), ans))
        return MatMul(ans, gaps * projected)


# --- tracing: the NumPy calls that make these ------------------------------------------

EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")


@dispatch.numpy(
    np.linalg.eigh,
    note="(w, V) of a symmetric matrix; V's gradient needs distinct eigenvalues",
    section=SECTION,
)
def eigh(a, UPLO="L"):
    if UPLO != "L":
        raise a.session.error("np.linalg.eigh with UPLO='U'", "symmetrise the matrix")
    return EighResult(
        apply(EighValues, a, "np.linalg.eigh"), apply(EighVectors, a, "np.linalg.eigh")
    )


@dispatch.numpy(np.linalg.eigvalsh, note="of a symmetric matrix", section=SECTION)
def eigvalsh(a, UPLO="L"):
    return eigh(a, UPLO)[0]


def _max(x, axis=None, keepdims=False):
    return dispatch.METHODS["max"](x, axis, keepdims)


def _min(x, axis=None, keepdims=False):
    return -_max(-x, axis, keepdims)


def _sum(x, axis=None, keepdims=False):
    return dispatch.METHODS["sum"](x, axis, keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(_sum(x * x, axis, keepdims))
    if ord == np.inf:
        return _max(abs(x), axis, keepdims)
    if ord == -np.inf:
        return _min(abs(x), axis, keepdims)
    if ord == 1:
        return _sum(abs(x), axis, keepdims)
    if isinstance(ord, str) or ord == 0:
        raise x.session.error(
            f"np.linalg.norm of a vector with ord={ord!r}",
            (
                "ord=0 counts nonzeros and has no gradient; use np.sum(x != 0)"
                if ord == 0
                else "a vector's ord is a number"
            ),
        )
    return _sum(abs(x) ** ord, axis, keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord):
    if ord in (None, "fro"):
        return np.sqrt(_sum(x * x))
    if ord in (1, -1, np.inf, -np.inf):
        sums = _sum(abs(x), 0 if abs(ord) == 1 else 1)
        return _max(sums) if ord > 0 else _min(sums)
    if ord in (2, -2):
        values = svd(x, compute_uv=False)
        return _max(values) if ord == 2 else _min(values)
    if ord == "nuc":
        return _sum(svd(x, compute_uv=False))
    raise x.session.error(
        f"np.linalg.norm of a matrix with ord={ord!r}",
        "a matrix's ord is one of None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf",
    )


@dispatch.numpy(
    np.linalg.norm,
    note="every ord of vectors and matrices, axis, keepdims; the 2-norm's gradient is 0 "
    "at 0; the spectral and nuclear norms from the singular values",
    section=SECTION,
)
def norm(x, ord=None, axis=None, keepdims=False):
    """The 2-norm is sqrt(sum(x**2)): the numerics stage makes it a NormRoot (gradient 0
    at 0)."""
    over = axes_of(x, axis)
    if axis is None and ord is None:
        return np.sqrt(_sum(x * x, None, keepdims))
    if len(over) == 1:
        return _vector_norm(x, ord, over[0], keepdims)
    if len(over) != 2:
        raise x.session.error(
            f"np.linalg.norm with ord={ord!r} of an array of {x.ndim} dimensions",
            "give axis: one axis (vectors) or two (matrices)",
        )
    matrix = dispatch.METHODS["transpose"](
        x, [k for k in range(x.ndim) if k not in over] + over
    )
    if matrix.ndim != 2:
        raise x.session.error(
            "np.linalg.norm of a stack of matrices", "loop over the matrices"
        )
    out = _matrix_norm(matrix, ord)
    if keepdims:
        return dispatch.METHODS["reshape"](out, (1,) * x.ndim)
    return out
