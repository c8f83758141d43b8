"""Elementwise operations: NumPy's ufuncs as SymPy scalar math, one entry each.

An entry holds what an elementwise operation needs beyond SymPy: the ufunc, how its value
is built from its operands' SymPy expressions (a SymPy function, or a small composition:
``np.square`` is a power), the NumPy name the generated code calls for that SymPy function
(``asin`` prints as ``np.arcsin``), its ``gradgen ops`` note, and the interval of arguments
on which it is defined (``domain``, for the random programs of tests/program_exprs.py). Its
derivative is ``sympy.diff``'s (rewritten through the node's value by ``ad/partials.py``); its
text and LaTeX are SymPy's. Adding one is one line in ``UFUNCS``.

Also ``np.where`` (a select on a comparison) and the comparisons themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.ops.scalar import (
    Ceil,
    Clip,
    Floor,
    Hypot,
    Log2,
    Log10,
    Remainder,
    TracedPower,
    ZeroPower,
)
from gradgen.ops.stable import Softplus, expm1, log1p
from gradgen.ops.tracing import any_tracer, holds_tracer, is_tracer
from gradgen.traced import is_boolean, kept_mask
from gradgen import selects

ANY = (-math.inf, math.inf)


@dispatch.method("__pow__")
def power(a, b):
    """``a**b``. (A power of exp(-x - 1) takes |-x - 1|, Pow._eval_power, which recursed
    without end while compiling before gradgen.sympy_fixes.)"""
    if a == 0 and _traced(b):  # 0**x: SymPy's derivative, 0**x log(0), is nan
        return ZeroPower(b)
    if _traced(a) and _traced(b):  # x**y: SymPy's derivatives are nan at x = 0
        return TracedPower(a, b)
    return a**b


def floor_divide(a, b):
    """``a // b``: floor(a / b), a step, so its derivative is 0."""
    return Floor(a / b)


def _traced(expr) -> bool:
    """Whether an operand depends on traced values (not only on numbers and sizes)."""
    symbols = getattr(expr, "free_symbols", ())
    return any(not ir.is_dim_symbol(s) for s in symbols)


@dataclass(frozen=True)
class Ufunc:
    """One elementwise operation (see the module's docstring)."""

    ufunc: np.ufunc
    build: object  # the SymPy function, or a function of the operands' expressions
    code: str = ""  # np.<code> prints ``build`` when it is a SymPy function
    note: str = ""
    standard: str = ""  # the Array API standard's name, where it is not ``code``
    domain: tuple = ANY  # where the function is defined, for random programs


UFUNCS = [
    Ufunc(np.add, lambda a, b: a + b),
    Ufunc(np.subtract, lambda a, b: a - b),
    Ufunc(np.multiply, lambda a, b: a * b),
    Ufunc(np.divide, lambda a, b: a / b),
    Ufunc(np.power, power),
    Ufunc(np.negative, lambda a: -a),
    Ufunc(np.positive, lambda a: a),
    Ufunc(np.conjugate, lambda a: a, note="of real numbers: the numbers themselves"),
    Ufunc(np.square, lambda a: power(a, 2)),
    Ufunc(np.exp, sp.exp, "exp", domain=(-50, 50)),
    Ufunc(np.log, sp.log, "log", domain=(0, math.inf)),
    Ufunc(np.log1p, log1p, "log1p", domain=(-1, math.inf)),
    Ufunc(np.expm1, expm1, "expm1", domain=(-50, 50)),
    Ufunc(
        np.logaddexp,
        lambda a, b: a + Softplus(b - a),
        note="as log(exp(a) + exp(b)), without overflow",
    ),
    Ufunc(np.sqrt, lambda a: power(a, sp.Rational(1, 2)), domain=(0, math.inf)),
    Ufunc(np.sin, sp.sin, "sin"),
    Ufunc(np.cos, sp.cos, "cos"),
    Ufunc(np.tan, sp.tan, "tan", domain=(-1.5, 1.5)),
    Ufunc(np.tanh, sp.tanh, "tanh"),
    Ufunc(np.sinh, sp.sinh, "sinh", domain=(-50, 50)),
    Ufunc(np.cosh, sp.cosh, "cosh", domain=(-50, 50)),
    Ufunc(np.arcsin, sp.asin, "arcsin", standard="asin", domain=(-1, 1)),
    Ufunc(np.arccos, sp.acos, "arccos", standard="acos", domain=(-1, 1)),
    Ufunc(np.arctan, sp.atan, "arctan", standard="atan"),
    Ufunc(
        np.arctan2,
        sp.atan2,
        "arctan2",
        note="the angle of (x2, x1); y first",
        standard="atan2",
    ),
    Ufunc(np.absolute, sp.Abs, "abs"),
    Ufunc(np.maximum, sp.Max, note="ties send the gradient to both"),
    Ufunc(np.minimum, sp.Min, note="ties send the gradient to both"),
    Ufunc(np.fmax, sp.Max, note="as np.maximum (arguments are never nan)"),
    Ufunc(np.fmin, sp.Min, note="as np.minimum (arguments are never nan)"),
    Ufunc(np.fabs, sp.Abs, "abs", note="as np.abs; derivative sign(x), 0 at 0"),
    Ufunc(np.sign, sp.sign, "sign", note="derivative 0 (flat almost everywhere)"),
    Ufunc(np.floor, Floor, note="derivative 0 (flat almost everywhere)"),
    Ufunc(np.floor_divide, floor_divide, note="also x // y; as np.floor(x / y)"),
    Ufunc(np.ceil, Ceil, note="derivative 0 (flat almost everywhere)"),
    Ufunc(
        np.remainder,
        Remainder,
        note="also x % y; derivative 1 in x, -floor(x/y) in y (as autograd)",
    ),
    Ufunc(np.log2, Log2, domain=(0, math.inf)),
    Ufunc(np.log10, Log10, domain=(0, math.inf)),
    Ufunc(np.exp2, lambda a: power(2, a), note="as 2**x", domain=(-50, 50)),
    Ufunc(
        np.logaddexp2,
        lambda a, b: a + Softplus((b - a) * sp.log(2)) / sp.log(2),
        note="as log2(2**a + 2**b), without overflow",
    ),
    Ufunc(np.hypot, Hypot, note="sqrt(x**2 + y**2) without overflow"),
    Ufunc(np.deg2rad, lambda a: a * sp.pi / 180, note="as x * pi / 180"),
    Ufunc(np.radians, lambda a: a * sp.pi / 180, note="as np.deg2rad"),
    Ufunc(np.rad2deg, lambda a: a * 180 / sp.pi, note="as x * 180 / pi"),
    Ufunc(np.degrees, lambda a: a * 180 / sp.pi, note="as np.rad2deg"),
    Ufunc(np.arcsinh, sp.asinh, "arcsinh", standard="asinh"),
    Ufunc(np.arccosh, sp.acosh, "arccosh", standard="acosh", domain=(1, math.inf)),
    Ufunc(np.arctanh, sp.atanh, "arctanh", standard="atanh", domain=(-1, 1)),
]

COMPARISONS = {
    np.greater: sp.Gt,
    np.greater_equal: sp.Ge,
    np.less: sp.Lt,
    np.less_equal: sp.Le,
    np.equal: sp.Eq,
    np.not_equal: sp.Ne,
}


def code_names(array_api: bool = False) -> dict:
    """SymPy function name -> the function the generated code calls: NumPy's, or the
    Array API standard's (``asin`` is ``np.arcsin`` but ``xp.asin``)."""
    names = {
        u.build.__name__: (u.standard if array_api else "") or u.code
        for u in UFUNCS
        if u.code
    }
    return names | {"sign": "sign"}  # the derivative of |x|


dispatch.ELEMENTWISE.update({u.ufunc: u.build for u in UFUNCS})
dispatch.METHODS["__mod__"] = Remainder  # x % y
dispatch.METHODS["__floordiv__"] = floor_divide  # x // y
dispatch.COMPARISONS.update(COMPARISONS)
dispatch.NOTES.update({u.ufunc: u.note for u in UFUNCS})
dispatch.NOTES.update(dict.fromkeys(COMPARISONS, "a condition"))
# on conditions and masks (NumPy's booleans): & | ^ ~ are the bitwise ufuncs
LOGIC = {
    np.logical_and: sp.And,
    np.bitwise_and: sp.And,
    np.logical_or: sp.Or,
    np.bitwise_or: sp.Or,
    np.logical_xor: sp.Xor,
    np.bitwise_xor: sp.Xor,
    np.logical_not: sp.Not,
    np.invert: sp.Not,
}
dispatch.LOGIC.update(LOGIC)
dispatch.NOTES.update(dict.fromkeys(LOGIC, "of conditions and boolean masks (& | ^ ~)"))


# --- np.where --------------------------------------------------------------------------


@dispatch.numpy(
    np.where,
    note="np.where(condition, a, b); the condition a comparison, a boolean mask or "
    "numbers (true where not 0); the branch not taken adds 0 to gradients; "
    "booleans picked (np.where(c, True, False)) make a mask",
    section="Reductions and products",
)
def where(condition, x, y):
    return _where(condition, x, y, "np.where")


def _where(condition, x, y, name: str):
    """np.where, for ``name`` (np.where or np.select)."""
    if not (is_tracer(condition) and condition.is_condition):
        condition = _condition(condition, any_tracer(condition, x, y), name)
    if is_boolean(x) and is_boolean(y) and not (is_tracer(x) and is_tracer(y)):
        # booleans picked, as np.where(c, True, False): a mask, as NumPy's
        return (condition & x) | (~condition & y)
    # a branch may be infinite where the condition does not pick it: 1 / (x > 0)
    a, sa = condition._operand(x, partial=True)
    b, sb = condition._operand(y, partial=True)
    shape = condition._broadcast(condition.shape_, sa, sb)
    picked = condition._new(selects.select(condition.expr, a, b), shape)
    return kept_mask([x, y], picked)  # a pick between masks is a mask


def _condition(condition, t, name: str):
    """A condition of ``name`` that is not a comparison, as one: true where it is not 0,
    as in NumPy: a constant mask (a boolean array of the model, np.tri(T, dtype=bool)), or
    numbers. np.select, as NumPy's, takes no numbers."""
    select = name == "np.select"
    if is_tracer(condition):
        if select:
            raise t.session.error(
                "np.select needs comparisons or boolean masks as its conditions",
                "compare first, e.g. x != 0",
            )
        return condition != 0
    if isinstance(condition, (list, tuple)) and holds_tracer(condition):
        raise t.session.error(
            f"{name} of a list of conditions", "make it one array with np.stack"
        )
    kinds = (bool, np.bool_, np.ndarray, list)
    if not select:
        kinds += (int, float, np.generic)
    if not isinstance(condition, kinds) or (
        select and np.asarray(condition).dtype.kind != "b"
    ):
        raise t.session.error(
            f"{name} needs a comparison or a mask as its condition, "
            f"not a {type(condition).__name__}",
            "e.g. np.where(x > 0, x, 0.1 * x)",
        )
    made = dispatch.OPERANDS[np.ndarray](t, np.asarray(condition))
    return made if made.is_condition else made != 0


@dispatch.numpy(
    np.select,
    note="condlist, choicelist, default: np.where nested, the first condition that "
    "holds picks",
    section="Reductions and products",
)
def select(condlist, choicelist, default=0):
    t = any_tracer(*condlist, *choicelist, default)
    if len(condlist) != len(choicelist) or not condlist:
        raise t.session.error(
            "np.select needs as many choices as conditions, at least one",
            "e.g. np.select([x < 0, x > 1], [-x, x - 1], default=0)",
        )
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = _where(condition, choice, result, "np.select")
    return result


@dispatch.method("clip")
@dispatch.numpy(
    np.clip,
    note="a_min, a_max (either None); derivative 1 strictly inside the bounds, "
    "0 at and beyond them (as autograd); a traced bound gets the rest",
    section="Elementwise",
)
def clip(a, a_min=None, a_max=None, *, min=None, max=None):
    # min= and max= are NumPy 2.1's names for a_min and a_max
    lo, hi = (min if a_min is None else a_min), (max if a_max is None else a_max)
    t = any_tracer(a, lo, hi)
    if lo is None and hi is None:
        raise t.session.error("np.clip needs a_min or a_max", "e.g. np.clip(x, 0, 1)")
    given = [v for v in (lo, hi) if v is not None]

    def build(x, *bounds):
        rest = iter(bounds)
        low = -sp.oo if lo is None else next(rest)
        high = sp.oo if hi is None else next(rest)
        return Clip(x, low, high)

    return t._elementwise(build, a, *given)
