"""Conditions that rounding decides: a model run with every comparison watched.

gradgen simplifies by real algebra: ``np.log(np.exp(s))`` is ``s``, ``a * b / b`` is ``a``.
Where a model compares two values that are equal in real numbers, NumPy's answer depends on
rounding (``s != np.log(np.exp(s))`` is true for half of all s, and for nearly every small
one), while gradgen's code takes the branch real numbers say; neither is wrong, and no
reference can check the branch taken. ``Probed`` runs the model with each comparison (the
operators, ``np.greater`` and the like, ``np.maximum``/``np.minimum``) watched, and says
whether any compared two values that differ, but by no more than rounding: the checker
then moves to another point. Values exactly equal are not such a tie: there NumPy agrees
with real numbers (``x == x``).

Python has no hook for comparisons, so the model's syntax tree is rewritten (by hand: no
library does this): each operand of a comparison is wrapped in ``_Side``, whose comparison
operators record a tie and return NumPy's answer, and the named NumPy functions are
replaced by watched ones.
"""

from __future__ import annotations

import ast
import functools
import operator
from functools import partialmethod

import numpy as np

TIE = 1e-10  # relative difference below which two compared values count as tied
COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)  # those watched
WATCHED = {
    "greater",
    "less",
    "greater_equal",
    "less_equal",
    "equal",
    "not_equal",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
}
# Functions with a kink or a jump a random point meets only by rounding: where they are
# (np.sign at 0, np.clip at its bounds, np.remainder and % at multiples of the divisor).
KINKED = {"sign", "clip", "remainder"}


@functools.lru_cache(maxsize=8)
def _watched_code(source: str, filename: str):
    """The code of the model file ``source`` with its comparisons watched (kept for the
    texts checked again: one target at a time of a long file)."""
    tree = _Watch().visit(ast.parse(source))
    return compile(ast.fix_missing_locations(tree), filename, "exec")


class Probed:
    """The target ``name`` of a model file's ``source``; calling it runs the target and
    returns whether rounding decided one of its comparisons."""

    def __init__(self, source: str, filename: str, name: str):
        namespace = {
            "__name__": "probed_model",
            "_gg_side": lambda value: _Side(value, self),
            "_gg_watched": self._watched,
            "_gg_kinked": self._kinked,
        }
        exec(_watched_code(source, filename), namespace)
        self.function = namespace[name]
        self.tied = False

    def __call__(self, *args) -> bool:
        self.tied = False
        self.function(*args)
        return self.tied

    def look(self, a, b) -> None:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        gap = np.abs(a - b)
        if np.any((gap > 0) & (gap <= TIE * (1 + np.abs(a) + np.abs(b)))):
            self.tied = True

    def _watched(self, name: str, a, b):
        self.look(a, b)
        return getattr(np, name)(a, b)

    def _kinked(self, name: str, a, *rest):
        if name == "sign":
            self.look(a, 0.0)
        elif name == "clip":
            for bound in rest:
                if bound is not None:
                    self.look(a, bound)
        else:
            ratio = np.asarray(a, dtype=float) / np.asarray(rest[0], dtype=float)
            self.look(ratio, np.round(ratio))
        if name == "clip":
            return np.clip(a, *rest)
        return getattr(np, name)(a, *rest)


class _Side:
    """An operand of a comparison: compares as its value, and tells the probe."""

    __slots__ = ("value", "probe")
    __hash__ = None

    def __init__(self, value, probe: Probed):
        self.value, self.probe = value, probe

    def _compare(self, other, op):
        other = other.value if isinstance(other, _Side) else other
        self.probe.look(self.value, other)
        return op(self.value, other)

    __lt__ = partialmethod(_compare, op=operator.lt)
    __le__ = partialmethod(_compare, op=operator.le)
    __gt__ = partialmethod(_compare, op=operator.gt)
    __ge__ = partialmethod(_compare, op=operator.ge)
    __eq__ = partialmethod(_compare, op=operator.eq)
    __ne__ = partialmethod(_compare, op=operator.ne)


class _Watch(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if not all(isinstance(op, COMPARISONS) for op in node.ops):
            return node
        node.left = _call("_gg_side", [node.left])
        node.comparators = [_call("_gg_side", [c]) for c in node.comparators]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "np"
            and f.attr in WATCHED
            and len(node.args) == 2
            and not node.keywords
        ):
            return _call("_gg_watched", [ast.Constant(f.attr), *node.args])
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "np"
            and f.attr in KINKED
            and not node.keywords
        ):
            return _call("_gg_kinked", [ast.Constant(f.attr), *node.args])
        if isinstance(f, ast.Attribute) and f.attr == "clip" and not node.keywords:
            return _call("_gg_kinked", [ast.Constant("clip"), f.value, *node.args])
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mod):
            return _call(
                "_gg_kinked", [ast.Constant("remainder"), node.left, node.right]
            )
        return node


def _call(name: str, args: list) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
