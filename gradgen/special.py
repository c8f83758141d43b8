"""Numerically stable elementwise functions of the IR, as SymPy functions.

``Sigmoid`` and ``Softplus`` are what the numerics stage (``numerics.py``) turns the naive
forms 1/(1+exp(-x)) and log(1+exp(x)) into, ``NormRoot`` the square root of a sum of
squares (a norm, with gradient 0 at 0); ``log1p`` and ``expm1`` are SymPy's own
(``sympy.codegen.cfunctions``). Each carries its derivative (``fdiff``) in a form that stays
accurate over the whole float range, so ``sympy.diff`` keeps working on elementwise nodes,
and a numerical value (``_eval_evalf``) so derivative rewrites can be checked. The printer
prints them through small helpers defined in the generated module.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

__all__ = [
    "Sigmoid",
    "Softplus",
    "NormRoot",
    "ReciprocalOrZero",
    "ExpNegAbs",
    "SigmoidOf",
    "ComplementOf",
    "SigmoidOfScalar",
    "ComplementOfScalar",
    "log1p",
    "expm1",
]


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


class ExpNegAbs(sp.Function):
    """exp(-|x|), at most 1 so it never overflows in any float type: the shared factor of
    a sigmoid and its complement (``SigmoidOf``, ``ComplementOf``). Made only after
    differentiation (``optimize.share_sigmoids``)."""

    nargs = 1

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return sp.exp(-sp.Abs(self.args[0]))._eval_evalf(prec)


class SigmoidOf(sp.Function):
    """sigmoid(u) from e = exp(-|u|): 1/(1 + e) where u >= 0, e/(1 + e) below. Both are
    exact to a rounding in every float type, at u = -inf (0) and +inf (1) too, where
    1/(1 + exp(-u)) would overflow. Printed as ``np.where(u >= 0, 1, e) / (e + 1)``
    (``a if c else b`` for a scalar: ``SigmoidOfScalar``)."""

    nargs = 2

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return Sigmoid(self.args[0])._eval_evalf(prec)


class ComplementOf(sp.Function):
    """sigmoid(-u) = 1 - sigmoid(u) from e = exp(-|u|) and s = sigmoid(u): e * s where
    u >= 0 (where s rounds to 1 and 1 - s to 0), 1 - s below (where s < 1/2 and the
    difference keeps its digits). Printed as ``np.where(u >= 0, e * s, 1 - s)``."""

    nargs = 3

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return Sigmoid(-self.args[0])._eval_evalf(prec)


class SigmoidOfScalar(SigmoidOf):
    """``SigmoidOf`` of a scalar, printed with Python's conditional expression, which is
    cheaper than np.where on a float."""


class ComplementOfScalar(ComplementOf):
    """``ComplementOf`` of a scalar (see ``SigmoidOfScalar``)."""
