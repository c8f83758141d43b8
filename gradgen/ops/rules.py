"""What the operations' rules share: common forms of a JVP rule, as mixins.

A structural operation's ``vjp(g, ans, *args, shape)`` returns, for each array argument,
its vector-Jacobian product with the incoming adjoint ``g`` (None where there is none);
``ans`` is the node's own value, so a rule can reuse it, and ``shape(e)`` gives an
expression's shape. Its ``jvp(t, ans, *args, shape)`` returns the node's tangent from
``t``, the tangents of its array arguments (None for a zero tangent). Broadcasting and
accumulation are never done in a rule: the sweeps un-broadcast and sum once.

Most JVPs are one of three: ``Linear`` (in its first argument: transposes, reductions,
reshapes, indexing) and ``Bilinear`` (products), given here, and ``arrays.LinearInAll``
(in every array argument: joins).
"""

from __future__ import annotations

import sympy as sp


class Linear:
    """Linear in its first argument; the others are static (or, for FullLike, a shape):
    the tangent is the operation applied to that argument's tangent."""

    @classmethod
    def jvp(cls, t, ans, a, *static, shape):
        return None if t[0] is None else cls(t[0], *static)


class Bilinear:
    """A product: d(a . b) = da . b + a . db."""

    @classmethod
    def jvp(cls, t, ans, a, b, *, shape):
        terms = [
            cls(t[0], b) if t[0] is not None else 0,
            cls(a, t[1]) if t[1] is not None else 0,
        ]
        return sp.Add(*terms)
