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
    "ExpNeg",
    "ExpNegOfScalar",
    "Complement",
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


class ExpNeg(sp.Function):
    """exp(-x), held at exp(709) below x = -709 so it never overflows: the shared factor of
    a sigmoid and its complement, 1/(1 + exp(-x)) and exp(-x)/(1 + exp(-x)). Made only
    after differentiation (``optimize.share_sigmoids``); below -709 both are below the
    smallest normal float anyway."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -ExpNeg(self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return sp.exp(-self.args[0])._eval_evalf(prec)


class Complement(sp.Function):
    """e * s for e = exp(-u) and s = 1/(1 + e) = sigmoid(u): 1 - sigmoid(u), that is
    sigmoid(-u), computed without subtracting from 1 (and with no division: s is the
    sigmoid's own value). Opaque to CSE, so the product is not regrouped as e * s**2,
    whose square underflows where the sigmoid is below 1e-154."""

    nargs = 2

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        e, s = self.args
        return (e * s)._eval_evalf(prec)


class ExpNegOfScalar(ExpNeg):
    """ExpNeg of a scalar: printed with Python's max, which is cheaper than np.maximum on
    a float."""
