"""Typed expressions for random model programs: source text, shape and a value interval.

Every constructor here returns a ``Val``: the Python source of an expression in a model file,
its shape (a tuple of dimension names and sizes) and an interval [lo, hi] holding every value
it can take while the parameters stay in their domains and every named dimension has a size
between 1 and ``MAX_SIZE``. Intervals are computed by interval arithmetic (so they are sound,
if loose); the generator (``programs.py``) uses them to apply a function only inside its safe
domain (``log``, ``sqrt`` and divisors at least ``POSITIVE[0]`` away from zero, ``arcsin`` well
inside (-1, 1), ``exp`` of bounded values) and to keep every value below ``CAP``. Constructors
assert those domains, so a generator mistake fails loudly instead of producing NaN.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

MAX_SIZE = 4  # the largest size a named dimension takes in the checks
DERIVED = re.compile(r"([a-z]+|[0-9]+)([-+*])([a-z]+|[0-9]+)")
CAP = 100.0  # every value stays in [-CAP, CAP]
POSITIVE = (0.1, CAP)  # domain of log, sqrt, fractional powers and divisors
EXP_ARG = (-3.0, 3.0)  # arguments of exp, sinh, cosh, 2**x
TAN_ARG = (-1.2, 1.2)
ASIN_ARG = (-0.95, 0.95)  # also of arctanh
ACOSH_ARG = (1.1, CAP)

# Python operator precedence, enough to parenthesise correctly.
CMP, ADD, MUL, UNARY, POWER, ATOM = 3, 5, 6, 7, 8, 10


@dataclass(frozen=True)
class Val:
    text: str
    shape: tuple
    lo: float
    hi: float
    prec: int = ATOM

    @property
    def mag(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def within(self, lo: float, hi: float) -> bool:
        return lo <= self.lo and self.hi <= hi


def _wrap(v: Val, prec: int) -> str:
    return f"({v.text})" if v.prec < prec else v.text


def _span(values) -> tuple[float, float]:
    values = list(values)
    return min(values), max(values)


def broadcast(*shapes: tuple) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        dims = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        dims.discard(1)
        assert len(dims) <= 1, f"shapes {shapes} do not broadcast"
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def broadcasts_to(small: tuple, shape: tuple) -> bool:
    """Whether ``small`` broadcasts to exactly ``shape``."""
    offset = len(shape) - len(small)
    return offset >= 0 and all(d in (1, shape[offset + i]) for i, d in enumerate(small))


def dim_range(d) -> tuple[int, int]:
    """The smallest and largest size of a dimension: an integer, a name (1..MAX_SIZE), or
    a dimension derived from names by slicing, joining or flattening: "n-1" (the size of
    x[1:]; n is then at least 2), "n+k", "d+1", "n*d"."""
    if isinstance(d, int):
        return d, d
    match = DERIVED.fullmatch(d)
    if match is None:
        return 1, MAX_SIZE
    a, op, b = match.groups()
    (alo, ahi), (blo, bhi) = dim_range(_part(a)), dim_range(_part(b))
    if op == "-":
        return alo, ahi - blo  # a >= b + 1
    if op == "+":
        return alo + blo, ahi + bhi
    return alo * blo, ahi * bhi


def _part(text: str):
    return int(text) if text.isdigit() else text


def derived_parts(d):
    """(a, op, b) of a derived dimension, or None."""
    match = DERIVED.fullmatch(d) if isinstance(d, str) else None
    return None if match is None else (_part(match[1]), match[2], _part(match[3]))


def count_range(dims) -> tuple[int, int]:
    """The fewest and most elements over these dimensions, at sizes 1..MAX_SIZE."""
    low = high = 1
    for d in dims:
        lo, hi = dim_range(d)
        low, high = low * lo, high * hi
    return low, high


def summed(lo: float, hi: float, dims) -> tuple[float, float]:
    """The interval of a sum of between count_range(dims) terms, each in [lo, hi]."""
    low, high = count_range(dims)
    return _span([low * lo, high * lo, low * hi, high * hi])


# --- leaves ------------------------------------------------------------------------------


def name(text: str, shape: tuple, lo: float, hi: float) -> Val:
    return Val(text, shape, lo, hi)


def constant(value) -> Val:
    if value == math.pi:
        return Val("np.pi", (), math.pi, math.pi)
    text = repr(value)
    return Val(text, (), value, value, UNARY if value < 0 else ATOM)


def dim_read(v: Val, axis: int) -> Val:
    """``v.shape[axis]``: a named size is 1..MAX_SIZE."""
    lo, hi = count_range([v.shape[axis]])
    return Val(f"{_wrap(v, ATOM)}.shape[{axis}]", (), lo, hi)


# --- elementwise ----------------------------------------------------------------------------


def negate(v: Val) -> Val:
    return Val(f"-{_wrap(v, UNARY + 1)}", v.shape, -v.hi, -v.lo, UNARY)


UFUNCS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def binary(op: str, a: Val, b: Val, form: str = "op") -> Val:
    """``a op b``, or as a call: ``np.add(a, b)`` (form "ufunc"), ``np.dot(s, b)`` ("dot",
    for a product with a scalar)."""
    shape = broadcast(a.shape, b.shape)
    if op == "+":
        lo, hi = a.lo + b.lo, a.hi + b.hi
    elif op == "-":
        lo, hi = a.lo - b.hi, a.hi - b.lo
    elif op == "*":
        lo, hi = _span(x * y for x, y in itertools.product((a.lo, a.hi), (b.lo, b.hi)))
    else:
        assert op == "/" and (b.lo >= POSITIVE[0] or b.hi <= -POSITIVE[0]), b
        lo, hi = _span(x / y for x, y in itertools.product((a.lo, a.hi), (b.lo, b.hi)))
    if form != "op":
        assert form == "ufunc" or (op == "*" and () in (a.shape, b.shape)), (form, a, b)
        fn = UFUNCS[op] if form == "ufunc" else "dot"
        return Val(f"np.{fn}({a.text}, {b.text})", shape, lo, hi)
    prec = ADD if op in "+-" else MUL
    return Val(f"{_wrap(a, prec)} {op} {_wrap(b, prec + 1)}", shape, lo, hi, prec)


def power(a: Val, p, ufunc: bool = False) -> Val:
    """``a ** p`` (or ``np.power(a, p)``) for a constant p: an integer, or any p on a
    positive base."""
    if isinstance(p, int) and p > 0:
        corners = [a.lo**p, a.hi**p]
        even_through_zero = p % 2 == 0 and a.lo < 0 < a.hi
        lo, hi = (0.0, max(corners)) if even_through_zero else _span(corners)
    else:
        assert a.lo >= POSITIVE[0], a
        lo, hi = _span([a.lo**p, a.hi**p])
    if ufunc:
        return Val(f"np.power({a.text}, {p!r})", a.shape, lo, hi)
    exponent = repr(p) if p >= 0 else f"({p!r})"
    return Val(f"{_wrap(a, POWER + 1)} ** {exponent}", a.shape, lo, hi, POWER)


def traced_power(a: Val, p: Val) -> Val:
    """``a ** p`` for a traced exponent: a positive base, a bounded exponent."""
    assert a.lo >= POSITIVE[0] and p.within(*EXP_ARG), (a, p)
    logs = (math.log(a.lo), math.log(a.hi))
    lo, hi = _span(math.exp(x * y) for x, y in itertools.product(logs, (p.lo, p.hi)))
    shape = broadcast(a.shape, p.shape)
    return Val(f"{_wrap(a, POWER + 1)} ** {_wrap(p, ATOM)}", shape, lo, hi, POWER)


def exp_base(base: float, a: Val) -> Val:
    """``base ** a``, e.g. ``2.0 ** x``."""
    assert a.within(*EXP_ARG), a
    return Val(f"{base!r} ** {_wrap(a, ATOM)}", a.shape, base**a.lo, base**a.hi, POWER)


def _cos_range(lo: float, hi: float) -> tuple[float, float]:
    if hi - lo >= 2 * math.pi:
        return -1.0, 1.0
    values = [math.cos(lo), math.cos(hi)]
    k = math.ceil(lo / math.pi)
    while k * math.pi <= hi:  # extrema of cos at multiples of pi
        values.append(1.0 if k % 2 == 0 else -1.0)
        k += 1
    return _span(values)


def _monotone(f):
    return lambda lo, hi: (f(lo), f(hi))


# name -> (domain or None, interval map)
FUNCTIONS = {
    "exp": (EXP_ARG, _monotone(math.exp)),
    "log": (POSITIVE, _monotone(math.log)),
    "sqrt": (POSITIVE, _monotone(math.sqrt)),
    "sin": (None, lambda lo, hi: _cos_range(lo - math.pi / 2, hi - math.pi / 2)),
    "cos": (None, _cos_range),
    "tan": (TAN_ARG, _monotone(math.tan)),
    "tanh": (None, _monotone(math.tanh)),
    "sinh": (EXP_ARG, _monotone(math.sinh)),
    "cosh": (
        EXP_ARG,
        lambda lo, hi: (1.0 if lo < 0 < hi else min(math.cosh(lo), math.cosh(hi)),)
        + (max(math.cosh(lo), math.cosh(hi)),),
    ),
    "arcsin": (ASIN_ARG, _monotone(math.asin)),
    "arccos": (ASIN_ARG, lambda lo, hi: (math.acos(hi), math.acos(lo))),
    "arctan": (None, _monotone(math.atan)),
    "abs": (
        None,
        lambda lo, hi: (0.0 if lo < 0 < hi else min(abs(lo), abs(hi)),)
        + (max(abs(lo), abs(hi)),),
    ),
    "square": (
        None,
        lambda lo, hi: (0.0 if lo < 0 < hi else min(lo * lo, hi * hi),)
        + (max(lo * lo, hi * hi),),
    ),
    "log2": (POSITIVE, _monotone(math.log2)),
    "log10": (POSITIVE, _monotone(math.log10)),
    "exp2": (EXP_ARG, _monotone(lambda x: 2.0**x)),
    "arcsinh": (None, _monotone(math.asinh)),
    "arccosh": (ACOSH_ARG, _monotone(math.acosh)),
    "arctanh": (ASIN_ARG, _monotone(math.atanh)),
    "sign": (None, _monotone(lambda x: float((x > 0) - (x < 0)))),
    "deg2rad": (None, _monotone(math.radians)),
    "radians": (None, _monotone(math.radians)),
    "rad2deg": (None, _monotone(math.degrees)),
    "degrees": (None, _monotone(math.degrees)),
}


def call(fn: str, a: Val) -> Val:
    """``np.<fn>(a)``; ``a`` must lie in the function's domain."""
    domain, image = FUNCTIONS[fn]
    assert domain is None or a.within(*domain), (fn, a)
    lo, hi = image(a.lo, a.hi)
    return Val(f"np.{fn}({a.text})", a.shape, lo, hi)


def extremum(fn: str, a: Val, b: Val) -> Val:
    """``np.maximum(a, b)`` or ``np.minimum(a, b)``."""
    pick = max if fn == "maximum" else min
    shape = broadcast(a.shape, b.shape)
    return Val(
        f"np.{fn}({a.text}, {b.text})", shape, pick(a.lo, b.lo), pick(a.hi, b.hi)
    )


# --- conditions and selects -----------------------------------------------------------------


def compare(op: str, a: Val, b: Val, ufunc: str | None = None) -> Val:
    """A comparison; its interval is meaningless (it is only a condition)."""
    shape = broadcast(a.shape, b.shape)
    if ufunc:
        return Val(f"np.{ufunc}({a.text}, {b.text})", shape, 0, 1)
    return Val(f"{_wrap(a, ADD)} {op} {_wrap(b, ADD)}", shape, 0, 1, CMP)


def logic(op: str, *conds: Val) -> Val:
    """``(c1) & (c2)``, ``(c1) | (c2)`` or ``~(c)``."""
    parts = [f"({c.text})" if c.prec < ATOM else c.text for c in conds]
    if op == "~":
        return Val(f"~{parts[0]}", conds[0].shape, 0, 1, UNARY)
    return Val(f" {op} ".join(parts), broadcast(*(c.shape for c in conds)), 0, 1, CMP)


def where(cond: Val, a: Val, b: Val) -> Val:
    shape = broadcast(cond.shape, a.shape, b.shape)
    return Val(
        f"np.where({cond.text}, {a.text}, {b.text})",
        shape,
        min(a.lo, b.lo),
        max(a.hi, b.hi),
    )


# --- structural -------------------------------------------------------------------------------


def matmul(a: Val, b: Val, form: str = "@") -> Val:
    assert a.shape and b.shape and a.shape[-1] == b.shape[0], (a, b)
    shape = a.shape[:-1] + b.shape[1:]
    products = [x * y for x, y in itertools.product((a.lo, a.hi), (b.lo, b.hi))]
    lo, hi = summed(min(products), max(products), [a.shape[-1]])
    if form == "@":
        return Val(f"{_wrap(a, MUL)} @ {_wrap(b, MUL + 1)}", shape, lo, hi, MUL)
    return Val(f"np.{form}({a.text}, {b.text})", shape, lo, hi)


def transpose(a: Val, form: str = ".T") -> Val:
    shape = tuple(reversed(a.shape))
    if form == ".T":
        return Val(f"{_wrap(a, ATOM)}.T", shape, a.lo, a.hi)
    if form == ".transpose()":
        return Val(f"{_wrap(a, ATOM)}.transpose()", shape, a.lo, a.hi)
    return Val(f"np.transpose({a.text})", shape, a.lo, a.hi)


def reduce(fn: str, a: Val, axis, keepdims: bool, method: bool) -> Val:
    """``np.sum/mean/max(a, axis=..., keepdims=...)`` or the method form ``a.sum(...)``.
    ``axis`` is None, an int (maybe negative) or a tuple, as it is printed."""
    ndim = len(a.shape)
    items = (
        range(ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    )
    axes = sorted(i % ndim for i in items)
    shape = tuple(
        1 if i in axes else d
        for i, d in enumerate(a.shape)
        if keepdims or i not in axes
    )
    lo, hi = a.lo, a.hi
    if fn == "sum":
        lo, hi = summed(lo, hi, [a.shape[i] for i in axes])
    options = reduce_options(axis, keepdims)
    if method:
        return Val(f"{_wrap(a, ATOM)}.{fn}({', '.join(options)})", shape, lo, hi)
    return Val(f"np.{fn}({', '.join([a.text] + options)})", shape, lo, hi)


def reduce_options(axis, keepdims: bool) -> list[str]:
    """The keyword arguments of a reduction, as written."""
    return ([] if axis is None else [f"axis={axis!r}"]) + (
        ["keepdims=True"] if keepdims else []
    )


def trace(a: Val) -> Val:
    assert len(a.shape) == 2 and a.shape[0] == a.shape[1], a
    lo, hi = summed(a.lo, a.hi, [a.shape[0]])
    return Val(f"np.trace({a.text})", (), lo, hi)
