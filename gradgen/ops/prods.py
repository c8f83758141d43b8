"""Products along axes: ``ReduceProd`` (``np.prod``) and ``CumProd`` (``np.cumprod``),
whose derivatives are products of the other entries, computed without dividing by an
entry that may be 0. Each operation in one place: shape, VJP and JVP, code, text and
LaTeX, and the NumPy calls that make it.

The trick both use: with z = [a = 0] and safe = a + z (the zeros made 1), a product of
``safe`` has no zero to divide by, and a count of the zeros (a sum or running sum of z)
says where the true product of the others is 0 instead.
"""

from __future__ import annotations

import numpy as np

from gradgen import dispatch, ir
from gradgen.ir import static
from gradgen.ops.reductions import (
    CumSum,
    IsEqual,
    ReduceSum,
    Reduction,
    axis_words,
    expand_reduced,
    reduce,
    running_axis,
    traced_reduce,
)


def _others(a, axes, ndim):
    """For each entry of ``a``, the product of the other entries it is reduced with: the
    product of ``safe`` divided by the entry's own, kept where no other entry of the slice
    is 0. At a zero alone in its slice this is the product of the rest, as it should be.
    """
    zero = IsEqual(a, 0)
    safe = a + zero
    product = reduce(ReduceProd, safe, axes, ndim, keepdims=True)
    alone = IsEqual(reduce(ReduceSum, zero, axes, ndim, keepdims=True), zero)
    return product / safe * alone


class ReduceProd(Reduction):
    """``np.prod(a, axis, keepdims)``. The derivative in an entry is the product of the
    others, exact where the entry is 0 (autograd's, prod/a, is nan there)."""

    numpy_name = "prod"

    @staticmethod
    def vjp(g, ans, a, axes, keepdims, ndim, *, shape):
        others = _others(a, axes, int(ndim))
        return (expand_reduced(g, axes, keepdims, shape) * others,)

    @staticmethod
    def jvp(t, ans, a, axes, keepdims, ndim, *, shape):
        others = _others(a, axes, int(ndim))
        return reduce(ReduceSum, t[0] * others, axes, int(ndim), keepdims)

    def _gradgen_latex(self, p, **kwargs):
        where = "" if self.full else axis_words(self.axes, True)
        return rf"\prod{where} {p.paren(self.args[0])}"


def _running(a, axis):
    """(safe, running product of safe, [no zero so far], [exactly one zero so far],
    z) along ``axis``: the parts of the running product's rules."""
    zero = IsEqual(a, 0)
    safe = a + zero
    zeros = CumSum(zero, axis, static(False))
    return safe, CumProd(safe, axis), IsEqual(zeros, 0), IsEqual(zeros, 1), zero


class CumProd(ir.Structural):
    """``np.cumprod(a, axis)``: y_i = a_0 ... a_i along the axis. The derivative of y_i in
    a_k (k <= i) is the product of the others, prod(safe)_i / safe_k where no zero other
    than a_k comes up to i: for a_k not 0 that is where the running count of zeros is 0,
    for a_k = 0 where it is 1. Sums over i >= k (the VJP) or k <= i (the JVP) are then
    running sums. Autograd has no rule for it. Arguments (a, axis)."""

    nargs = 2

    @property
    def axis(self) -> int:
        return int(self.args[1])

    def out_shape(self, shapes):
        return shapes[0]

    @staticmethod
    def vjp(g, ans, a, axis, *, shape):
        safe, product, none, one, zero = _running(a, axis)
        back = static(True)
        after = [CumSum(g * product * m, axis, back) for m in (none, one)]
        return ((after[0] * (1 - zero) + after[1] * zero) / safe,)

    @staticmethod
    def jvp(t, ans, a, axis, *, shape):
        if t[0] is None:
            return None
        safe, product, none, one, zero = _running(a, axis)
        up_to = [CumSum(t[0] * m / safe, axis, static(False)) for m in (1 - zero, zero)]
        return product * (none * up_to[0] + one * up_to[1])

    def _gradgen_numpy(self, p, **kwargs):
        name = (
            "cumulative_prod" if p.array_api else "cumprod"
        )  # the standard's, 2024.12
        return f"{p.np}.{name}({p._print(self.args[0])}, axis={self.axis})"

    def _gradgen_text(self, p, **kwargs):
        return f"cumprod({p._print(self.args[0])}{axis_words((self.axis,), False)})"

    def _gradgen_latex(self, p, **kwargs):
        where = axis_words((self.axis,), True)
        return rf"\operatorname{{cumprod}}{where}\left({p._print(self.args[0])}\right)"


# --- tracing: the NumPy calls that make these ------------------------------------------


@dispatch.method("prod")
@dispatch.numpy(
    np.prod,
    note="axis, keepdims; the derivative is the product of the others, also at a 0",
    section="Reductions and products",
)
def prod(a, axis=None, keepdims=False):
    return traced_reduce(ReduceProd, a, axis, keepdims)


@dispatch.method("cumprod")
@dispatch.numpy(
    np.cumprod,
    note="axis (None: of the flattened array); the derivative is the product of the "
    "others, also at a 0",
    section="Reductions and products",
)
def cumprod(a, axis=None):
    a, k = running_axis(a, axis)
    s = a.session
    return s.structural(CumProd(s.materialise(a), static(k)), [a])
