"""Selects (np.where, a comparison used as a number) as SymPy expressions.

A select's condition never holds another select: a comparison of a select,
f(where(c, a, b)) < t, is untangled into ITE(c, f(a) < t, f(b) < t) first. Built on such a
condition, SymPy's Piecewise folds and simplifies it, and that simplification can
recurse without end (Abs.eval on the difference of its sides, log(p - 0.69) < h).
"""

from __future__ import annotations

import sympy as sp

from gradgen import ir


def select(condition: sp.Basic, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """np.where(condition, a, b) of elementwise expressions."""
    return sp.Piecewise((a, untangled(condition)), (b, True))


def indicator(condition: sp.Basic) -> sp.Expr:
    """A comparison used as a number, as NumPy does: 1 where it holds, else 0. Flat, so
    its derivative is 0."""
    return select(condition, sp.Integer(1), sp.Integer(0))


def _outside_structural(expr: sp.Basic):
    """The subexpressions of ``expr`` not inside a structural operation, outermost first."""
    yield expr
    if not isinstance(expr, ir.Structural):
        for arg in expr.args:
            yield from _outside_structural(arg)


def untangled(cond: sp.Basic) -> sp.Basic:
    """``cond`` without selects inside it: a comparison of a select, f(where(c, a, b)) < t,
    as ITE(c, f(a) < t, f(b) < t). SymPy would fold and simplify it when it builds the
    select on it, and its simplification can recurse without end (log(p - 0.69) < h);
    written by hand because piecewise_fold always simplifies."""
    if not cond.has(sp.Piecewise):
        return cond
    if isinstance(cond, sp.core.relational.Relational):
        # Not a select inside @ or a sum: its condition may be an array (structural
        # operations are nodes while tracing, so none is here)
        inner = next(
            (e for e in _outside_structural(cond) if isinstance(e, sp.Piecewise)), None
        )
        if inner is None:
            return cond
        (a, c), rest = inner.args[0], inner.args[1:]
        other = rest[0][0] if len(rest) == 1 else sp.Piecewise(*rest)
        return sp.ITE(
            untangled(c),
            untangled(_compared(cond, {inner: a})),
            untangled(_compared(cond, {inner: other})),
        )
    return cond.func(*[untangled(arg) for arg in cond.args])


def _compared(cond: sp.Basic, mapping: dict) -> sp.Basic:
    """The comparison ``cond`` with ``mapping`` put in. A side that is then not real
    (log(-1/2), where a select's branch meets a value its condition rules out) is nan in
    NumPy, and compares as nan does: false, and true for ``!=``. SymPy refuses to build
    a comparison of a non-real."""
    lhs, rhs = cond.lhs.xreplace(mapping), cond.rhs.xreplace(mapping)
    if any(side is sp.nan or side.is_extended_real is False for side in (lhs, rhs)):
        return sp.true if isinstance(cond, sp.Ne) else sp.false
    return cond.func(lhs, rhs)

