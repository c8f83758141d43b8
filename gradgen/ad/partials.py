"""Elementwise derivatives (the structural operations carry their own VJP and JVP rules,
in ``gradgen.ops``).

``elementwise_partial`` gives the partial derivative of an elementwise node's scalar
expression: SymPy's ``diff``, rewritten through the node's own value where that is shorter
(sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2), computed once per expression shape.
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.core.function import AppliedUndef

from gradgen import ir
from gradgen.ad.stable_rewrites import tidy
from gradgen.errors import GradgenError

# --- Elementwise partial derivatives ----------------------------------------------------

_CACHE: dict = {}
_OP_COST = {"ADD": 1, "SUB": 1, "MUL": 1, "DIV": 2, "NEG": 1, "POW": 2}


def _cost(expr: sp.Expr) -> int:
    """Operation count, with function calls (exp, tanh, ...) weighted as expensive."""
    visual = sp.count_ops(expr, visual=True)
    if visual == 0:
        return 0
    return int(visual.subs({s: _OP_COST.get(s.name, 8) for s in visual.free_symbols}))


def _absorb_sign(expr: sp.Expr) -> sp.Expr:
    """-h*(h - 1) -> h*(1 - h): move a leading minus sign into a sum factor."""
    if isinstance(expr, sp.Mul) and expr.could_extract_minus_sign():
        for factor in expr.args:
            if isinstance(factor, sp.Add):
                negated = sp.Add(*[-term for term in factor.args])
                return (-expr / factor) * negated
    return expr


def _agrees(d, candidate, expr, value, wrt, symbols) -> bool:
    """Check a rewritten derivative against the original at random points."""
    rng = random.Random(0)
    dims = sorted(
        (s for s in expr.free_symbols if ir.is_dim_symbol(s)), key=sp.default_sort_key
    )
    for _ in range(3):
        # 30 digits, put in with xreplace: SymPy evaluates numbers as it builds, where
        # evalf(subs=...) walks the tree again at each precision it tries (seconds for
        # one Min of a power)
        point = {s: sp.Float(rng.uniform(0.15, 0.85), 30) for s in symbols}
        point.update({s: sp.Integer(rng.randint(2, 5)) for s in dims})  # from x.shape
        try:
            reference = d.xreplace(point).evalf(30)
            point[value] = expr.xreplace(point).evalf(30)
            got = candidate.xreplace(point).evalf(30)
        except (TypeError, ValueError, RecursionError):
            # a select's condition on a value not real at this point: SymPy refuses to
            # order it (TypeError) or to take its Max/Min (ValueError, "not comparable");
            # and at a point where a log's argument is negative, sin of the complex value
            # can recurse without end in SymPy (sin(-a) -> -sin(a), when a and -a both
            # "could extract a minus sign"): the rewritten form is not used
            return False
        if not (reference.is_real and got.is_real):
            return False
        if abs(complex(reference) - complex(got)) > 1e-9 * (
            1 + abs(complex(reference))
        ):
            return False
    return True


def _root_of(expr: sp.Expr, value: sp.Symbol) -> bool:
    """Whether ``expr`` takes a fractional power of ``value``: SymPy's subs writes
    Max(0, -u)**2 as value**(2/3) when value = Max(0, -u)**3. Equal, but its derivative
    (a second-order term) is 0 * inf = nan where value is 0."""
    return any(p.base == value and not p.exp.is_integer for p in expr.atoms(sp.Pow))


def _through_value(
    d: sp.Expr, expr: sp.Expr, value: sp.Symbol, wrt: sp.Symbol, symbols
) -> sp.Expr:
    """The shortest of ``d`` and its forms rewritten through the node's value ``value``."""
    candidates = [d]
    direct = d.subs(expr, value)
    candidates.append(direct)
    if not expr.has(sp.Piecewise):
        for kernel in sorted(expr.atoms(sp.exp), key=sp.default_sort_key):
            u = sp.Dummy("u")
            reduced = expr.subs(kernel, u)
            if not kernel.has(wrt) or reduced.has(wrt):
                continue
            if not reduced.is_rational_function(u):  # solve could recurse without end
                continue
            try:
                solutions = sp.solve(sp.Eq(reduced, value), u)
            except NotImplementedError:  # SymPy cannot invert Min, Max, Abs ...
                continue
            if len(solutions) == 1:
                solved = sp.factor(direct.subs(kernel, solutions[0]))
                candidates.append(_absorb_sign(solved))
    best = d
    for candidate in candidates[1:]:
        if (
            candidate != best
            and _cost(candidate) < _cost(best)
            and not _root_of(candidate, value)
            and _agrees(d, candidate, expr, value, wrt, symbols)
        ):
            best = candidate
    return best


class _RealAbs(sp.Abs):
    """|a| of a real a, as every traced value is: d|a| = sign(a) da. SymPy's Abs goes through
    re(a) and im(a) when it cannot tell that a is real (asin(u), sqrt(x), x**p), which gives
    atan2 terms and divisions by a."""

    def _eval_derivative(self, x):
        return sp.sign(self.args[0]) * sp.diff(self.args[0], x)


class _RealSign(sp.sign):
    """sign(a) of a real a (d|a| = sign(a) da, differentiated again): flat almost
    everywhere, so its derivative is 0, also where SymPy cannot tell that a is real (it
    leaves d sign(asin(u)) unevaluated)."""

    def _eval_derivative(self, x):
        return sp.Integer(0)


def elementwise_partial(expr: sp.Expr, wrt: sp.Symbol, value: sp.Symbol) -> sp.Expr:
    """d expr / d wrt for an elementwise node whose value symbol is ``value``."""
    names = sorted(
        (s for s in expr.free_symbols if not ir.is_dim_symbol(s) and s != wrt),
        key=sp.default_sort_key,
    )
    canon = {s: sp.Symbol(f"_gg_p{i}", real=True) for i, s in enumerate(names)}
    cw, cv = sp.Symbol("_gg_wrt", real=True), sp.Symbol("_gg_value", real=True)
    canon[wrt] = cw
    key = expr.xreplace(canon)
    if key not in _CACHE:
        # A step (Heaviside, sign) is flat almost everywhere: its derivative is 0, as in
        # autograd and JAX, not DiracDelta. Only second derivatives meet this.
        real = key.replace(sp.Abs, _RealAbs).replace(sp.sign, _RealSign)
        d = sp.diff(real, cw).replace(_RealAbs, sp.Abs).replace(_RealSign, sp.sign)
        d = tidy(d.replace(sp.DiracDelta, lambda *args: sp.Integer(0)))
        unknown = d.atoms(sp.Derivative) | d.atoms(AppliedUndef)
        if unknown:
            raise GradgenError(  # located by the caller; no SymPy text for the user
                "gradgen has no derivative rule for a value computed here",
                hint="please report it with the model; `gradgen ops` lists the "
                "operations with rules",
            )
        symbols = [cw] + [canon[s] for s in names]
        _CACHE[key] = _through_value(d, key, cv, cw, symbols)
    back = {c: s for s, c in canon.items()}
    back[cv] = value
    return _CACHE[key].xreplace(back)
