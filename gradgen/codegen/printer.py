"""Printing: SymPy expressions of the IR as NumPy source.

Takes an expression over final names and returns a Python expression string using ``np.``.
A visitor in SymPy's own style: ``Printer._print`` dispatches on the class name to
``_print_<Class>``. Built on SymPy's ``PythonCodePrinter`` (division, square roots,
parenthesising by precedence); what is written here is only what NumPy code needs beyond it:
``np.dot`` for matrix products, ``.T``, reductions with ``axis=``, ``np.where`` for selects,
floats printed exactly, sums printed with their positive terms first (``yhat - y``, not
``-y + yhat``), and the numbers of a product first (``(2 / n) * t``).
"""

from __future__ import annotations

import copy

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pycode import PythonCodePrinter

from gradgen import ir, ops
from gradgen.ops import Index, Reshape, Scatter, SigmoidOf, Update


class NumPyPrinter(PythonCodePrinter):
    """Prints IR expressions as NumPy code over the names the naming stage chose."""

    printmethod = "_gradgen_numpy"

    def __init__(
        self, helpers: dict | None = None, np: str = "np", dtype: str = "dtype"
    ):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.np = np  # the name the module imports NumPy as
        # the local holding the arguments' float type: an array made from numbers only has
        # it (np.zeros(shape, dtype)), so float32 arguments give float32 results; the
        # function defines it where its code reads it (entry.dtype_lines)
        self.dtype = dtype
        names = ops.elementwise.code_names()  # asin -> np.arcsin
        self.known_functions = {k: f"{np}.{v}" for k, v in names.items()}
        self.helpers = helpers if helpers is not None else {}
        self.used_helpers: set[str] = set()

    def _print(self, expr, **kwargs):
        text = super()._print(expr, **kwargs)
        if (
            ir.of_sizes(expr)
            and not isinstance(expr, sp.Atom)
            and not expr.atoms(ir.Structural)
            and text.startswith(f"{self.np}.")
            and text.endswith(")")
        ):  # np.log(2), np.sin(n) of a size n: made a Python float, which (unlike a NumPy
            # float64) keeps float32 arrays float32
            return f"{text}.item()"
        return text

    def helper(self, name: str) -> str:
        """The name of a helper function the generated module defines (``helpers.py``)."""
        self.used_helpers.add(name)
        return self.helpers.get(name, name)

    def _module_format(self, fqn, register=True):
        return (
            fqn.replace("math.", f"{self.np}.", 1) if fqn.startswith("math.") else fqn
        )

    # --- numbers ----------------------------------------------------------------
    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pi(self, expr):
        return f"{self.np}.pi"

    def _print_Exp1(self, expr):
        return f"{self.np}.e"

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # --- arithmetic ---------------------------------------------------------------
    def _print_Add(self, expr, order=None):
        terms = self._as_ordered_terms(expr, order=order)
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        out = []
        for term in positive + negative:
            if term.could_extract_minus_sign():
                text = self.parenthesize(-term, PRECEDENCE["Add"])
                out.append(f"- {text}" if out else f"-{text}")
            else:
                text = self.parenthesize(term, PRECEDENCE["Add"], strict=False)
                out.append(("+ " if out else "") + text)
        return " ".join(out)

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1 and isinstance(rest, sp.Add):  # -(h - 1) prints as 1 - h
            return self._print(sp.Add(*[-t for t in rest.args]))
        grouped = self._scalar_first(expr)
        if grouped is not None:
            return grouped
        if coeff.is_Rational and coeff.q != 1 and rest != 1:  # x/2, not (1/2)*x
            numerator = sp.Mul(coeff.p, rest) if coeff.p != 1 else rest
            text = self.parenthesize(numerator, PRECEDENCE["Mul"], strict=False)
            return f"{text}/{coeff.q}"
        return super()._print_Mul(expr)

    @staticmethod
    def _known_scalar(expr) -> bool:
        """A number, a dimension, a full reduction or a dot product: never an array."""
        if all(ir.is_dim_symbol(s) for s in expr.free_symbols) or isinstance(
            expr, ops.Vdot
        ):
            return True
        return isinstance(expr, ops.Reduction) and expr.full and not expr.keepdims

    def _scalar_first(self, expr) -> str | None:
        """``(2 / n) * t``, not ``2 * t / n``: the numbers and dimensions of a product are
        combined first, so the array is multiplied once rather than once per factor.
        None when they would cost at most one pass anyway (``-t``, ``2 * t``, ``t / n``).
        """
        scalars, arrays = [], []
        for factor in expr.args:
            (scalars if self._known_scalar(factor) else arrays).append(factor)
        if not arrays or not scalars:
            return None
        scalar = sp.Mul(*scalars)
        numerator, denominator = sp.fraction(scalar)
        if (numerator != 1) + (denominator != 1) < 2:
            return None
        array = self.parenthesize(sp.Mul(*arrays), PRECEDENCE["Mul"], strict=True)
        if numerator.could_extract_minus_sign():
            return f"-({self._print(-scalar)}) * {array}"
        return f"({self._print(scalar)}) * {array}"

    def _print_Pow(self, expr, rational=False):
        if ir.of_sizes(expr) and not expr.exp.is_Integer:  # k**0.5, a Python float
            base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
            return f"{base}**{float(expr.exp)!r}"
        return self._hprint_Pow(expr, rational=rational, sqrt=f"{self.np}.sqrt")

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"{self.np}.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(at_zero))})"

    def _print_ceiling(self, expr):
        """A dimension such as ceiling(n/2), the length of x[::2]: integer arithmetic."""
        num, den = expr.args[0].as_numer_denom()
        return f"-(-{self.parenthesize(num, PRECEDENCE['Mul'])} // {self._print(den)})"

    def _print_sign(self, expr):
        return f"{self.np}.sign({self._print(expr.args[0])})"

    def _binary_fold(self, name, args):
        text = self._print(args[-1])
        for arg in reversed(args[:-1]):
            text = f"{name}({self._print(arg)}, {text})"
        return text

    @staticmethod
    def _numbers_last(args):
        """``np.maximum(z, 0)``: as people write it, and NumPy's fast path takes the
        constant second (1.4x faster on large arrays than ``np.maximum(0, z)``)."""
        return sorted(args, key=lambda a: (a.is_Number, sp.default_sort_key(a)))

    def _print_Max(self, expr):
        return self._binary_fold(f"{self.np}.maximum", self._numbers_last(expr.args))

    def _print_Min(self, expr):
        return self._binary_fold(f"{self.np}.minimum", self._numbers_last(expr.args))

    # --- selects and conditions ----------------------------------------------------
    def _condition(self, cond):
        text = self._print(cond)
        if isinstance(cond, sp.core.relational.Relational) and text.startswith("("):
            return text[1:-1]
        return text

    def _print_Piecewise(self, expr):
        pairs = list(expr.args)
        if all(p.expr.is_Integer for p in pairs):  # float, or np.where gives integers
            pairs = [(sp.Float(p.expr), p.cond) for p in pairs]
        text = (
            self._print(pairs[-1][0]) if pairs[-1][1] == sp.true else f"{self.np}.nan"
        )
        if all(
            ir.of_sizes(p[0]) for p in pairs
        ):  # numbers only: of the arguments' type
            text = f"{self.dtype}.type({text})"
        for value, cond in reversed(pairs[:-1] if pairs[-1][1] == sp.true else pairs):
            text = f"{self.np}.where({self._condition(cond)}, {self._print(value)}, {text})"
        return text

    def _print_ITE(self, expr):
        # Not through SymPy's rewrite to Piecewise: for an ITE whose condition is an ITE on
        # a symbol, ITE(ITE(c, a, True), x, y), it drops the ~c (SymPy 1.14), a wrong branch
        cond, then, other = (self._condition(arg) for arg in expr.args)
        return f"{self.np}.where({cond}, {then}, {other})"

    def _logic(self, op, args):
        return f" {op} ".join(f"({self._condition(a)})" for a in args)

    def _print_And(self, expr):
        return self._logic("&", expr.args)

    def _print_Or(self, expr):
        return self._logic("|", expr.args)

    def _print_Not(self, expr):
        # not ~: a condition on floats is a Python bool, and ~True is -2 (true)
        return f"{self.np}.logical_not({self._condition(expr.args[0])})"

    # --- what the operations' print methods use (gradgen.ops) ---------------------------
    def postfix(self, expr):
        """``expr`` ready for a postfix (``.T``, ``[k]``): parenthesised unless atomic."""
        if (
            isinstance(expr, (sp.Symbol, ops.MatMul))
            or precedence(expr) >= PRECEDENCE["Func"]
        ):
            return self._print(expr)
        return f"({self._print(expr)})"

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, ops.MatMul):  # printed as a call: an atom, whatever ir says
            return self._print(item)
        if isinstance(item, SigmoidOf) and level >= PRECEDENCE["Mul"]:  # a quotient
            return f"({self._print(item)})"
        return super().parenthesize(item, level, strict)

    def shape_text(self, dims) -> str:
        """A shape as a tuple: ``(n,)``, ``(n, 3)``."""
        items = [self._print(d) for d in dims]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def key(self, key) -> str:
        """An index key as written inside ``[...]``."""
        return ops.key_text(key, self._print)


# Values that may share memory with their operand: written into only after a copy.
_VIEWS = (
    sp.Symbol,
    Index,
    Reshape,
    ops.Transpose,
    ops.Permute,
    ops.ExpandDims,
    ops.BroadcastTo,
)


def fresh(expr: sp.Expr) -> bool:
    """Whether NumPy computes ``expr`` into a new array (np.zeros and np.full are new)."""
    if isinstance(expr, ops.BroadcastTo):
        return ir.of_sizes(expr.args[0])
    return not isinstance(expr, _VIEWS)


def returned(text, results: list, stmts: list, inputs: set, shapes: dict) -> list[str]:
    """The results as a function returns them: each array a new one, never an argument,
    a view of one, or another result, so that ``W -= lr * dW`` changes nothing else
    (a copy where it could be: ``dy = x`` returns ``x.copy()``). ``text`` prints."""
    defined = {s.target: s.expr for s in stmts}
    out, seen = [], set()
    for r in results:
        printed = text.value(r)
        array = ir.shape_of(r, shapes) != ()
        expr = defined.get(r, r) if isinstance(r, sp.Symbol) else r
        shared = r in inputs or r in seen or not fresh(expr)
        if array and shared and not r.is_Number:
            printed = f"{printed}.copy()"
        seen.add(r)
        out.append(printed)
    return out


def _slot_value(value: sp.Expr) -> sp.Expr:
    """What to write into a slot: a constant array is written as its number (NumPy
    broadcasts it)."""
    return value.args[0] if isinstance(value, ops.BroadcastTo) else value


def _scatter_terms(expr: sp.Expr) -> list:
    """The terms of a sum, with numbers multiplying Scatters (or sums holding them) moved
    into the values scattered: SymPy adds equal Scatters into 2 * Scatter(v, like, key)
    (the gradient of a[:-1] * a[:-1]), and keeps -(g - Scatter(...)) undistributed."""
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in _scatter_terms(a)]
    if isinstance(expr, sp.Mul) and expr.has(Scatter):
        numbers = [a for a in expr.args if a.is_Number]
        rest = [a for a in expr.args if not a.is_Number]
        if len(rest) == 1 and isinstance(rest[0], (sp.Add, Scatter)):
            c = sp.Mul(*numbers)
            return [_scaled(c, t) for t in _scatter_terms(rest[0])]
    return [expr]


def _scaled(c: sp.Expr, term: sp.Expr) -> sp.Expr:
    if isinstance(term, Scatter):
        value, like, key = term.args
        return Scatter(c * value, like, key)
    return c * term


def _span(k) -> tuple | None:
    """The positions [start, stop) an integer or a slice of step 1 picks along its axis,
    when they count from the start (no negative bound); stop None is the end."""
    if isinstance(k, sp.Integer) and k >= 0:
        return int(k), int(k) + 1
    if isinstance(k, slice) and k.step in (None, 1):
        start, stop = k.start or 0, k.stop
        if isinstance(start, (int, sp.Integer)) and start >= 0:
            if stop is None or (isinstance(stop, sp.Integer) and stop >= 0):
                return int(start), None if stop is None else int(stop)
    return None


def disjoint(a: sp.Tuple, b: sp.Tuple) -> bool:
    """Whether the index keys ``a`` and ``b`` provably pick no element in common: along
    some axis (before anything but integers and slices) their positions do not meet.
    False when that cannot be told from the keys alone (negative positions, steps,
    names)."""
    for x, y in zip(ops.decode_key(a), ops.decode_key(b)):
        if not all(isinstance(k, (slice, sp.Integer)) for k in (x, y)):
            return False  # a new axis, an ellipsis or an array of indices
        u, v = _span(x), _span(y)
        if u is None or v is None:
            continue
        if (u[1] is not None and u[1] <= v[0]) or (v[1] is not None and v[1] <= u[0]):
            return True
    return False


def assignments(
    target: str, expr: sp.Expr, text, full, in_place: bool = False
) -> list[tuple[str, str, str]]:
    """The statements ``(left, operator, right)`` that compute ``target = expr``. A sum of
    ``Scatter``s becomes zeros with slots filled in (``t[1:] += v``; values for the same
    slot are added first), an ``Update`` a copy with one slot written; ``full(e)`` says
    whether ``e`` has the target's whole shape; ``text`` prints an expression. In place,
    the target already holds the array written into."""
    if isinstance(expr, Update):
        base, value, key = expr.args
        start = text(base) + ("" if fresh(base) else ".copy()")
        slot = (f"{target}[{text.key(key)}]", "=", text(_slot_value(value)))
        return [slot] if in_place else [(target, "=", start), slot]
    terms = _scatter_terms(expr)
    slots: dict = {}  # key -> the values scattered there, in order
    for t in terms:
        if isinstance(t, Scatter):
            slots.setdefault(t.args[2], []).append(t.args[0])
    if not slots:
        return [(target, "=", text.value(expr))]
    rest = sp.Add(*[t for t in terms if not isinstance(t, Scatter)])
    like = text(next(t for t in terms if isinstance(t, Scatter)).args[1])
    if rest == 0:
        start = f"{text.np}.zeros_like({like})"
    elif full(rest):
        start = text(rest) + ("" if fresh(rest) else ".copy()")
    else:
        start = f"{text.np}.zeros_like({like}) + {text(rest)}"
    lines = [] if in_place else [(target, "=", start)]
    written: list = []  # the keys written so far
    for key, values in slots.items():
        zero = rest == 0 and not in_place and all(disjoint(key, w) for w in written)
        op = "=" if zero else "+="  # a slot still zero is assigned
        written.append(key)
        value = _slot_value(sp.Add(*values))
        lines.append((f"{target}[{text.key(key)}]", op, text(value)))
    return lines


# The helper functions a generated module can define (macros in templates/helpers.py.j2),
# in the order it defines them.
HELPERS = (
    "check_inputs",
    "sigmoid",
    "log1p_excess",
    "logsumexp",
    "log_softmax",
    "log_softmax_grad",
    "reciprocal_or_zero",
)
# Helpers that call other helpers.
HELPER_NEEDS = {"logsumexp": "log1p_excess", "log_softmax": "log1p_excess"}


class ModuleText:
    """Prints the expressions of one generated module: with the module's names for its
    helpers (``helpers``: helper -> name) and for NumPy (``np``), recording the helpers the
    code calls, and renaming symbols by ``mapping`` (see ``mapped``) first."""

    def __init__(
        self, helpers: dict | None = None, np: str = "np", dtype: str = "dtype"
    ):
        self.helpers = dict(helpers) if helpers else {h: h for h in HELPERS}
        self.np = np
        self.dtype = dtype
        self.used: set[str] = set()
        self.mapping: dict = {}

    def __call__(self, expr: sp.Expr) -> str:
        printer = NumPyPrinter(self.helpers, self.np, self.dtype)
        text = printer.doprint(expr.xreplace(self.mapping))
        self.used |= printer.used_helpers
        return text

    def value(self, expr: sp.Expr) -> str:
        """``expr`` as a value a function stores or returns: a number of the arguments'
        float type (``dtype.type(1.0)``), so float32 arguments give float32 results."""
        if expr.is_Number:
            return f"{self.dtype}.type({self(sp.Float(expr))})"
        return self(expr)

    def key(self, key: sp.Tuple) -> str:
        """An index key as written inside ``[...]``."""
        return NumPyPrinter(self.helpers, self.np, self.dtype).key(
            key.xreplace(self.mapping)
        )

    def mapped(self, mapping: dict) -> "ModuleText":
        """This printer, renaming symbols by ``mapping``; what it prints is recorded here."""
        other = copy.copy(self)
        other.mapping = mapping
        return other

    def definitions(self) -> list[tuple[str, str]]:
        """(helper, name) for every helper the printed code calls, and those they call."""
        used = self.used | {HELPER_NEEDS[h] for h in self.used if h in HELPER_NEEDS}
        return [(h, self.helpers[h]) for h in HELPERS if h in used]


def to_source(
    expr: sp.Expr, helpers: dict | None = None, used: set | None = None, np: str = "np"
) -> str:
    """``expr`` as NumPy source; ``helpers`` maps a helper to its name in the module, and
    the helpers the text calls are added to ``used``; ``np`` is NumPy's name there."""
    printer = NumPyPrinter(helpers, np)
    text = printer.doprint(expr)
    if used is not None:
        used |= printer.used_helpers
    return text
