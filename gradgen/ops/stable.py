"""Numerically stable forms: the elementwise functions ``Sigmoid``, ``Softplus``,
``NormRoot`` (a norm's square root, with gradient 0 at 0), ``ReciprocalOrZero``, the
sigmoid's parts as the code computes them over e = exp(-|u|) (``ExpNegAbs``,
``SigmoidAbs``, ``SigmoidNegAbs``, ``SigmoidOf``, ``ComplementOf``), and the structural
``LogSoftmax`` and ``LogSoftmaxGrad``. Each in one place: its derivative (``fdiff`` for an
elementwise function, which ``sympy.diff`` uses; VJP and JVP rules for a structural one),
a numerical value (``_eval_evalf``, so derivative rewrites can be checked), and how it
prints as NumPy code (often a helper the generated module defines), text and LaTeX.

The numerics stage (``ad/stable_rewrites.py``) makes them from the naive forms 1/(1+exp(-x)),
log(1+exp(x)), sqrt(sum(x**2)), x - logsumexp(x); ``log1p`` and ``expm1`` are SymPy's own
(``sympy.codegen.cfunctions``).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from gradgen import dispatch, ir
from gradgen.ir import static
from gradgen.ops.reductions import ReduceSum, axis_words, reduce
from gradgen.ops.tracing import axes as axes_of

__all__ = [
    "Sigmoid",
    "Softplus",
    "NormRoot",
    "ReciprocalOrZero",
    "ExpNegAbs",
    "SigmoidAbs",
    "SigmoidNegAbs",
    "SigmoidOf",
    "ComplementOf",
    "SigmoidOfScalar",
    "ComplementOfScalar",
    "LogSoftmax",
    "LogSoftmaxGrad",
    "log1p",
    "expm1",
]


def _sign_select(p, u, upper: str, lower: str, scalar: bool) -> str:
    """``upper`` where u >= 0, else ``lower``."""
    if scalar:
        return f"({upper} if {p._print(u)} >= 0 else {lower})"
    return f"{p.np}.where({p._print(u)} >= 0, {upper}, {lower})"


class Sigmoid(sp.Function):
    """sigma(x) = 1 / (1 + exp(-x)); sigma'(x) = sigma(x) sigma(-x), which unlike
    sigma(x)(1 - sigma(x)) keeps its relative accuracy where sigma(x) rounds to 1."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return Sigmoid(x) * Sigmoid(-x)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.helper('sigmoid')}({p._print(self.args[0])})"

    def _gradgen_text(self, p, **kwargs):
        return f"σ({p._print(self.args[0])})"

    def _gradgen_latex(self, p, exp=None, **kwargs):
        return p.function(r"\sigma", self.args[0], exp)


class Softplus(sp.Function):
    """softplus(x) = log(1 + exp(x)), computed as np.logaddexp(0, x); its derivative is
    sigma(x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.log)._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.logaddexp(0, {p._print(self.args[0])})"

    def _gradgen_text(self, p, **kwargs):
        return f"softplus({p._print(self.args[0])})"

    def _gradgen_latex(self, p, exp=None, **kwargs):
        return p.function(r"\operatorname{softplus}", self.args[0], exp)


class ReciprocalOrZero(sp.Function):
    """1/x, and 0 where x is 0: the gradient of a norm where the norm is 0."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -ReciprocalOrZero(self.args[0]) ** 2

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        x = self.args[0]
        return (sp.S.Zero if x == 0 else 1 / x)._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.helper('reciprocal_or_zero')}({p._print(self.args[0])})"

    def _gradgen_text(self, p, **kwargs):  # 1/x, taken as 0 at 0
        return p._print(1 / self.args[0])

    _gradgen_latex = _gradgen_text


class NormRoot(sp.Function):
    """sqrt(u) of a sum of squares u (a norm), whose derivative at u = 0 is taken as 0, the
    norm's subgradient there, instead of 1/0."""

    nargs = 1

    def fdiff(self, argindex=1):
        return ReciprocalOrZero(NormRoot(self.args[0])) / 2

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_rewrite_as_sqrt(self, u, **kwargs):
        return sp.sqrt(u)

    def _eval_evalf(self, prec):
        return sp.sqrt(self.args[0])._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.sqrt({p._print(self.args[0])})"

    def _gradgen_text(self, p, **kwargs):
        return p._print(sp.sqrt(self.args[0]))

    _gradgen_latex = _gradgen_text


class _Lowered(sp.Function):
    """A part of a sigmoid and its derivative as the generated code computes them, over
    e = exp(-|u|), their first argument u: made only after differentiation
    (``optimize.share_sigmoids``), so never differentiated. Each is exact to a rounding in
    every float type and never overflows (e <= 1), at u = -inf and +inf too, where
    1/(1 + exp(-u)) would overflow."""

    def _eval_is_real(self):
        return self.args[0].is_real


class ExpNegAbs(_Lowered):
    """e = exp(-|u|), at most 1."""

    nargs = 1

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return sp.exp(-sp.Abs(self.args[0]))._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.exp(-{p.np}.abs({p._print(self.args[0])}))"

    def _gradgen_text(self, p, **kwargs):
        return p._print(sp.exp(-sp.Abs(self.args[0])))

    _gradgen_latex = _gradgen_text


class SigmoidAbs(_Lowered):
    """sigmoid(|u|) = 1/(1 + e), from (u, e): at least 1/2."""

    nargs = 2

    def _eval_evalf(self, prec):
        return Sigmoid(sp.Abs(self.args[0]))._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return f"1 / ({p._print(self.args[1])} + 1)"

    def _gradgen_text(self, p, **kwargs):
        return p._print(Sigmoid(sp.Abs(self.args[0])))

    _gradgen_latex = _gradgen_text


class SigmoidNegAbs(_Lowered):
    """sigmoid(-|u|) = e/(1 + e), from (u, e, sigmoid(|u|)): at most 1/2, computed as a
    product, so it keeps its digits where it is tiny."""

    nargs = 3

    def _eval_evalf(self, prec):
        return Sigmoid(-sp.Abs(self.args[0]))._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        return p._print(self.args[1] * self.args[2])

    def _gradgen_text(self, p, **kwargs):
        return p._print(Sigmoid(-sp.Abs(self.args[0])))

    _gradgen_latex = _gradgen_text


class SigmoidOf(_Lowered):
    """sigmoid(u) from (u, sigmoid(|u|), sigmoid(-|u|)): the first where u >= 0, else the
    second. Printed as ``np.where(u >= 0, a, b)`` (``a if u >= 0 else b`` for a scalar:
    ``SigmoidOfScalar``, cheaper than np.where on a float)."""

    nargs = 3
    scalar = False
    negated = False  # ComplementOf: sigmoid(-u), the other way round

    def _eval_evalf(self, prec):
        u = -self.args[0] if self.negated else self.args[0]
        return Sigmoid(u)._eval_evalf(prec)

    def _gradgen_numpy(self, p, **kwargs):
        u, upper, lower = self.args
        upper, lower = (lower, upper) if self.negated else (upper, lower)
        upper, lower, u = p._print(upper), p._print(lower), p._print(u)
        if self.scalar:
            return f"({upper} if {u} >= 0 else {lower})"
        return f"{p.np}.where({u} >= 0, {upper}, {lower})"

    def _gradgen_text(self, p, **kwargs):
        return p._print(Sigmoid(-self.args[0] if self.negated else self.args[0]))

    _gradgen_latex = _gradgen_text


class ComplementOf(SigmoidOf):
    """sigmoid(-u) = 1 - sigmoid(u), from the same arguments as ``SigmoidOf``, computed
    without subtracting from 1."""

    negated = True


class SigmoidOfScalar(SigmoidOf):
    """``SigmoidOf`` of a scalar."""

    scalar = True


class ComplementOfScalar(ComplementOf):
    """``ComplementOf`` of a scalar."""

    scalar = True


def _axis_argument(axes) -> str:
    return f"{axes[0]}" if len(axes) == 1 else f"{axes}"


class LogSoftmax(ir.Structural):
    """a - logsumexp(a, axes, keepdims=True), computed so the largest entries keep their
    relative accuracy (the module's ``log_softmax`` helper); arguments (a, axes, ndim).
    """

    nargs = 3

    @property
    def axes(self) -> tuple:
        return tuple(int(a) for a in self.args[1])

    def out_shape(self, shapes):
        return shapes[0]

    @staticmethod
    def vjp(g, ans, a, axes, ndim, *, shape):
        return (LogSoftmaxGrad(g, ans, axes, ndim),)

    @staticmethod
    def jvp(t, ans, a, axes, ndim, *, shape):
        # log_softmax(a) = a - logsumexp(a): its tangent is t - sum(t * softmax)
        total = reduce(ReduceSum, t[0] * sp.exp(ans), axes, int(ndim), keepdims=True)
        return t[0] - total

    def _gradgen_numpy(self, p, **kwargs):
        a = p._print(self.args[0])
        return f"{p.helper('log_softmax')}({a}, axis={_axis_argument(self.axes)})"

    def _gradgen_text(self, p, **kwargs):
        a = p._print(self.args[0])
        return f"{a} - logsumexp({a}{axis_words(self.axes, False)})"

    def _gradgen_latex(self, p, **kwargs):
        a = p._print(self.args[0])
        where = axis_words(self.axes, True)
        return rf"{a} - \log\sum{where} \exp\left({a}\right)"


class LogSoftmaxGrad(ir.Structural):
    """The VJP of LogSoftmax: g - softmax * sum(g, axes), from g and the forward value;
    arguments (g, log_softmax, axes, ndim). A structural op, not an expression: for the
    largest entry, where softmax is near 1, the module's ``log_softmax_grad`` helper
    computes it as -g expm1(log_softmax) - softmax * (sum of the other g), which keeps
    its digits."""

    nargs = 4
    array_args = 2

    @property
    def axes(self) -> tuple:
        return tuple(int(a) for a in self.args[2])

    def out_shape(self, shapes):
        return ir.broadcast_shapes(*shapes)

    @staticmethod
    def vjp(h, ans, g, log_p, axes, ndim, *, shape):
        # the map g -> g - p sum(g) is linear in g; its transpose is h -> h - sum(h p)
        def total(x):
            return reduce(ReduceSum, x, axes, int(ndim), keepdims=True)

        p = sp.exp(log_p)
        return (h - total(h * p), -h * p * total(g))

    @staticmethod
    def jvp(t, ans, g, log_p, axes, ndim, *, shape):
        # g - p * sum(g) with p = exp(log_p): linear in g, and d/d log_p = -p * sum(g)
        terms = [0 if t[0] is None else LogSoftmaxGrad(t[0], log_p, axes, ndim)]
        if t[1] is not None:
            total = reduce(ReduceSum, g, axes, int(ndim), keepdims=True)
            terms.append(-sp.exp(log_p) * t[1] * total)
        return sp.Add(*terms)

    def _gradgen_numpy(self, p, **kwargs):
        g, log_p = (p._print(a) for a in self.args[:2])
        axis = _axis_argument(self.axes)
        return f"{p.helper('log_softmax_grad')}({g}, {log_p}, axis={axis})"

    def _formula(self, p):
        """g - softmax ⊙ sum(g): the plain formula the helper computes accurately."""
        g, log_p, axes, ndim = self.args
        total = reduce(ReduceSum, g, axes, int(ndim), keepdims=True)
        return p._print(g - sp.exp(log_p) * total)

    def _gradgen_text(self, p, **kwargs):
        return self._formula(p)

    _gradgen_latex = _gradgen_text


# --- tracing: gradgen.functions on traced values ---------------------------------------


def log_softmax(a, axis=-1):
    """``gradgen.functions.log_softmax``, traced: the stable form itself."""
    s = a.session
    expr = LogSoftmax(s.materialise(a), static(axes_of(a, axis)), static(len(a.shape_)))
    return s.structural(expr, [a])


dispatch.STABLE.update(
    sigmoid=lambda a: a._elementwise(Sigmoid, a),
    softplus=lambda a: a._elementwise(Softplus, a),
    log_softmax=log_softmax,
)
