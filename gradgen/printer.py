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

from . import ir
from .indexing import Index, Reshape, Scatter, Update, decode_key

_NUMPY_NAMES = {
    "exp": "exp",
    "log": "log",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
    "sinh": "sinh",
    "cosh": "cosh",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "Abs": "abs",
    "sign": "sign",
    "log1p": "log1p",
    "expm1": "expm1",
}


class NumPyPrinter(PythonCodePrinter):
    """Prints IR expressions as NumPy code over the names the naming stage chose."""

    printmethod = "_gradgen_numpy"
    _kf = {name: "np." + np_name for name, np_name in _NUMPY_NAMES.items()}

    def __init__(self, helpers: dict | None = None):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.known_functions = dict(self._kf)
        self.helpers = helpers if helpers is not None else {}
        self.used_helpers: set[str] = set()

    def _helper(self, name: str) -> str:
        """The name of a helper function the generated module defines (``helpers.py``)."""
        self.used_helpers.add(name)
        return self.helpers.get(name, name)

    def _module_format(self, fqn, register=True):
        return fqn.replace("math.", "np.", 1) if fqn.startswith("math.") else fqn

    # --- numbers ----------------------------------------------------------------
    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pi(self, expr):
        return "np.pi"

    def _print_Exp1(self, expr):
        return "np.e"

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
            expr, ir.Vdot
        ):
            return True
        return isinstance(expr, ir._Reduction) and expr.full and not expr.keepdims

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
        return self._hprint_Pow(expr, rational=rational, sqrt="np.sqrt")

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(at_zero))})"

    def _print_ceiling(self, expr):
        """A dimension such as ceiling(n/2), the length of x[::2]: integer arithmetic."""
        num, den = expr.args[0].as_numer_denom()
        return f"-(-{self.parenthesize(num, PRECEDENCE['Mul'])} // {self._print(den)})"

    def _print_sign(self, expr):
        return f"np.sign({self._print(expr.args[0])})"

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
        return self._binary_fold("np.maximum", self._numbers_last(expr.args))

    def _print_Min(self, expr):
        return self._binary_fold("np.minimum", self._numbers_last(expr.args))

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
        text = self._print(pairs[-1][0]) if pairs[-1][1] == sp.true else "np.nan"
        for value, cond in reversed(pairs[:-1] if pairs[-1][1] == sp.true else pairs):
            text = f"np.where({self._condition(cond)}, {self._print(value)}, {text})"
        return text

    def _print_ITE(self, expr):
        # Not through SymPy's rewrite to Piecewise: for an ITE whose condition is an ITE on
        # a symbol, ITE(ITE(c, a, True), x, y), it drops the ~c (SymPy 1.14), a wrong branch
        cond, then, other = (self._condition(arg) for arg in expr.args)
        return f"np.where({cond}, {then}, {other})"

    def _logic(self, op, args):
        return f" {op} ".join(f"({self._condition(a)})" for a in args)

    def _print_And(self, expr):
        return self._logic("&", expr.args)

    def _print_Or(self, expr):
        return self._logic("|", expr.args)

    def _print_Not(self, expr):
        # not ~: a condition on floats is a Python bool, and ~True is -2 (true)
        return f"np.logical_not({self._condition(expr.args[0])})"

    # --- structural operations -------------------------------------------------------
    def _postfix(self, expr):
        if (
            isinstance(expr, (sp.Symbol, ir.MatMul))
            or precedence(expr) >= PRECEDENCE["Func"]
        ):
            return self._print(expr)
        return f"({self._print(expr)})"

    def _print_MatMul(self, expr):
        """``np.dot(a, b)``, the same as ``a @ b`` for the 1-D and 2-D operands gradgen
        allows, and a third of a microsecond cheaper per call: 13% of a small network's
        value and gradient."""
        a, b = expr.args
        return f"np.dot({self._print(a)}, {self._print(b)})"

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, ir.MatMul):  # printed as a call: an atom, whatever ir says
            return self._print(item)
        return super().parenthesize(item, level, strict)

    def _print_Transpose(self, expr):
        return f"{self._postfix(expr.args[0])}.T"

    def _reduction(self, name, expr):
        """``name`` as printed: ``np.sum``, or the name of a helper in the module."""
        parts = [self._print(expr.args[0])]
        if not expr.full:
            axes = expr.axes
            parts.append(f"axis={axes[0]}" if len(axes) == 1 else f"axis={axes}")
        if expr.keepdims:
            parts.append("keepdims=True")
        return f"{name}({', '.join(parts)})"

    def _print_ReduceSum(self, expr):
        return self._reduction("np.sum", expr)

    def _print_ReduceMean(self, expr):
        return self._reduction("np.mean", expr)

    def _print_ReduceMax(self, expr):
        return self._reduction("np.max", expr)

    def _print_LogSumExp(self, expr):
        return self._reduction(self._helper("logsumexp"), expr)

    def _print_LogSoftmax(self, expr):
        axes = expr.axes
        axis = f"{axes[0]}" if len(axes) == 1 else f"{axes}"
        return (
            f"{self._helper('log_softmax')}({self._print(expr.args[0])}, axis={axis})"
        )

    def _print_LogSoftmaxGrad(self, expr):
        axes = expr.axes
        axis = f"{axes[0]}" if len(axes) == 1 else f"{axes}"
        g, log_p = (self._print(a) for a in expr.args[:2])
        return f"{self._helper('log_softmax_grad')}({g}, {log_p}, axis={axis})"

    # --- stable elementwise functions (special.py) -------------------------------------
    def _print_Sigmoid(self, expr):
        return f"{self._helper('sigmoid')}({self._print(expr.args[0])})"

    def _print_Softplus(self, expr):
        return f"np.logaddexp(0, {self._print(expr.args[0])})"

    def _print_ExpNeg(self, expr):
        return f"np.exp(-np.maximum({self._print(expr.args[0])}, -709.0))"

    def _print_ExpNegOfScalar(self, expr):
        return f"np.exp(-max({self._print(expr.args[0])}, -709.0))"

    def _print_Complement(self, expr):
        e, s = (self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)
        return f"({e} * {s})"

    def _print_NormRoot(self, expr):
        return f"np.sqrt({self._print(expr.args[0])})"

    def _print_ReciprocalOrZero(self, expr):
        return f"{self._helper('reciprocal_or_zero')}({self._print(expr.args[0])})"

    def _print_Vdot(self, expr):
        return f"np.vdot({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_TraceOp(self, expr):
        return f"np.trace({self._print(expr.args[0])})"

    def _print_Outer(self, expr):
        return f"np.outer({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_ExpandDims(self, expr):
        axes = expr.axes
        index = [
            "None" if i in axes else ":" for i in range(int(expr.args[2]) + len(axes))
        ]
        while index and index[-1] == ":":
            index.pop()
        return f"{self._postfix(expr.args[0])}[{', '.join(index)}]"

    def _shape(self, dims):
        items = [self._print(d) for d in dims]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def _print_BroadcastTo(self, expr):
        value, dims = expr.args
        if value == 1:
            return f"np.ones({self._shape(dims)})"
        if value == 0:
            return f"np.zeros({self._shape(dims)})"
        if value.is_Integer:  # a float array, as np.ones and np.zeros: it may be written
            value = sp.Float(value)
        return f"np.broadcast_to({self._print(value)}, {self._shape(dims)})"

    def _print_FullLike(self, expr):
        value, like = expr.args
        if value == 0:
            return f"np.zeros_like({self._print(like)})"
        return f"np.full_like({self._print(like)}, {self._print(value)})"

    def _print_Eye(self, expr):
        n, m = expr.args
        args = self._print(n) if n == m else f"{self._print(n)}, {self._print(m)}"
        return f"np.eye({args})"

    # --- indexing and shapes (indexing.py) --------------------------------------------
    def _key(self, key) -> str:
        parts = []
        for k in decode_key(key):
            if k is None:
                parts.append("None")
            elif isinstance(k, slice):
                bounds = [
                    "" if b is None else self._print(b) for b in (k.start, k.stop)
                ]
                text = ":".join(bounds)
                parts.append(
                    text if k.step is None else f"{text}:{self._print(k.step)}"
                )
            else:
                parts.append(self._print(k))
        return ", ".join(parts) if parts else "()"

    def _print_Index(self, expr):
        return f"{self._postfix(expr.args[0])}[{self._key(expr.args[1])}]"

    def _joined(self, name, expr):
        arrays = ", ".join(self._print(a) for a in expr.args[:-1])
        axis = "" if expr.axis == 0 else f", axis={expr.axis}"
        return f"np.{name}([{arrays}]{axis})"

    def _print_Concat(self, expr):
        return self._joined("concatenate", expr)

    def _print_Stack(self, expr):
        return self._joined("stack", expr)

    def _print_Reshape(self, expr):
        # np.reshape, not .reshape: the operand may be a Python float
        return f"np.reshape({self._print(expr.args[0])}, {self._shape(expr.args[1])})"

    def _print_Scatter(self, expr):  # pragma: no cover - the optimiser never nests one
        raise TypeError("a Scatter is printed as statements (printer.assignments)")

    _print_Update = _print_Scatter

    def _print_IsEqual(self, expr):
        # A float mask: NumPy refuses -mask and mask - mask on booleans.
        a, b = (self._print(arg) for arg in expr.args)
        return f"({a} == {b}).astype(float)"


# Values that may share memory with their operand: written into only after a copy.
_VIEWS = (sp.Symbol, Index, Reshape, ir.Transpose, ir.ExpandDims, ir.BroadcastTo)


def fresh(expr: sp.Expr) -> bool:
    """Whether NumPy computes ``expr`` into a new array (np.zeros and np.ones are new)."""
    if isinstance(expr, ir.BroadcastTo):
        return expr.args[0] in (0, 1)
    return not isinstance(expr, _VIEWS)


def _slot_value(value: sp.Expr) -> sp.Expr:
    """What to write into a slot: a constant array is written as its number (NumPy
    broadcasts it)."""
    return value.args[0] if isinstance(value, ir.BroadcastTo) else value


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
        return [(target, "=", text(expr))]
    rest = sp.Add(*[t for t in terms if not isinstance(t, Scatter)])
    like = text(next(t for t in terms if isinstance(t, Scatter)).args[1])
    if rest == 0:
        start = f"np.zeros_like({like})"
    elif full(rest):
        start = text(rest) + ("" if fresh(rest) else ".copy()")
    else:
        start = f"np.zeros_like({like}) + {text(rest)}"
    lines = [] if in_place else [(target, "=", start)]
    for k, (key, values) in enumerate(slots.items()):
        op = "=" if k == 0 and rest == 0 else "+="
        value = _slot_value(sp.Add(*values))
        lines.append((f"{target}[{text.key(key)}]", op, text(value)))
    return lines


# The helper functions a generated module can define (macros in templates/helpers.py.j2),
# in the order it defines them.
HELPERS = (
    "sigmoid",
    "log1p_excess",
    "logsumexp",
    "log_softmax",
    "log_softmax_grad",
    "reciprocal_or_zero",
)
# Helpers that call other helpers.
HELPER_NEEDS = {"logsumexp": "log1p_excess", "log_softmax": "log1p_excess"}


def helper_name(helper: str, taken: set) -> str:
    """The helper's name in a module whose functions are ``taken``."""
    return helper if helper not in taken else f"{helper}_stable"


class ModuleText:
    """Prints the expressions of one generated module: helper names resolved against the
    module's own functions, the helpers the code calls recorded, and symbols renamed by
    ``mapping`` (see ``mapped``) first."""

    def __init__(self, function_names: set):
        self.helpers = {h: helper_name(h, function_names) for h in HELPERS}
        self.used: set[str] = set()
        self.mapping: dict = {}

    def __call__(self, expr: sp.Expr) -> str:
        return to_source(expr.xreplace(self.mapping), self.helpers, self.used)

    def key(self, key: sp.Tuple) -> str:
        """An index key as written inside ``[...]``."""
        return NumPyPrinter(self.helpers)._key(key.xreplace(self.mapping))

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
    expr: sp.Expr, helpers: dict | None = None, used: set | None = None
) -> str:
    """``expr`` as NumPy source; ``helpers`` maps a helper to its name in the module, and
    the helpers the text calls are added to ``used``."""
    printer = NumPyPrinter(helpers)
    text = printer.doprint(expr)
    if used is not None:
        used |= printer.used_helpers
    return text
