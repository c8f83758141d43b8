"""Printing: SymPy expressions of the IR as NumPy source, or as Array API source.

Takes an expression over final names and returns a Python expression string using ``np.``
or, for the Array API target (``array_api``), the namespace ``xp`` the generated function
took from its arguments and only the standard's functions (each operation prints both forms
in its own ``_gradgen_numpy``, reading ``printer.array_api``).
A visitor in SymPy's own style: ``Printer._print`` dispatches on the class name to
``_print_<Class>``. Built on SymPy's ``PythonCodePrinter`` (division, square roots,
parenthesising by precedence); what is written here is only what NumPy code needs beyond it:
``np.dot`` for matrix products, ``.T``, reductions with ``axis=``, ``np.where`` for selects,
floats printed exactly, sums printed with their positive terms first (``yhat - y``, not
``-y + yhat``), and the numbers of a product first (``(2 / n) * t``).
"""

from __future__ import annotations

import copy
import math
import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pycode import PythonCodePrinter

from gradgen import ir, ops
from gradgen.errors import GradgenError
from gradgen.ops import SigmoidOf


def _one_call(text: str) -> bool:
    """Whether ``text`` is one call, ``np.log(2)``: not a sum or product of calls,
    ``np.logaddexp(0, 0).item() / np.log(2).item()``, whose parts are made floats each,
    nor a constant in an operation that ends in parentheses, ``np.pi ** (-2)``.
    """
    if not text.endswith(")") or "(" not in text:
        return False
    if not re.fullmatch(r"[A-Za-z_][\w.]*", text[: text.index("(")]):
        return False
    depth = 0
    for i, char in enumerate(text[text.index("(") :]):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i == len(text) - text.index("(") - 1
    return False


class NumPyPrinter(PythonCodePrinter):
    """Prints IR expressions as NumPy code over the names the naming stage chose."""

    printmethod = "_gradgen_numpy"

    def __init__(
        self,
        helpers: dict | None = None,
        np: str = "np",
        dtype: str = "dtype",
        array_api: bool = False,
    ):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.np = np  # the name the module imports NumPy as, or the Array API namespace
        self.array_api = array_api  # print the Array API standard's functions only
        # the local holding the arguments' float type: an array made from numbers only has
        # it (np.zeros(shape, dtype)), so float32 arguments give float32 results; the
        # function defines it where its code reads it (entry.dtype_lines)
        self.dtype = dtype
        names = ops.elementwise.code_names(array_api)  # asin -> np.arcsin, xp.asin
        self.known_functions = {k: f"{np}.{v}" for k, v in names.items()}
        self.helpers = helpers if helpers is not None else {}
        self.used_helpers: set[str] = set()
        self.used_math = False  # Array API: a size's function is math's (math.log(n))

    def _print(self, expr, **kwargs):
        text = super()._print(expr, **kwargs)
        if (
            ir.of_sizes(expr)
            and not isinstance(expr, sp.Atom)
            and not expr.atoms(ir.Structural)
            and text.startswith(f"{self.np}.")
            and _one_call(text)
        ):  # np.log(2), np.sin(n) of a size n: made a Python float, which (unlike a NumPy
            # float64) keeps float32 arrays float32
            return self._of_sizes(text)
        return text

    def _of_sizes(self, text: str) -> str:
        """A function of sizes as a Python float: ``np.log(n).item()``, ``math.log(n)``
        (the standard's functions take arrays, not Python numbers)."""
        if not self.array_api:
            return f"{text}.item()"
        name = text[len(self.np) + 1 : text.index("(")]
        if not hasattr(math, name):
            self.refuse(f"{name} of array sizes", "compute it from an array")
        self.used_math = True
        return f"math.{text[len(self.np) + 1:]}"

    def typed(self, number: str) -> str:
        """A number of the arguments' float type: ``dtype.type(1.0)``, or in the Array
        API ``xp.asarray(1.0, dtype=dtype)``."""
        if self.array_api:
            return f"{self.np}.asarray({number}, dtype={self.dtype})"
        return f"{self.dtype}.type({number})"

    def refuse(self, what: str, hint: str = "") -> None:
        """An operation without an Array API form yet: an error at the model's line."""
        raise GradgenError(
            f"{what} has no Array API form in gradgen yet",
            hint=f"{hint + ', or ' if hint else ''}compile without --target array-api",
        )

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

    def _print_ComplexInfinity(self, expr):
        # SymPy's folded x/0 (zoo) is no NumPy number: its printer writes nan, where
        # NumPy gives inf or -inf. Graph.add keeps it out of every node (ir.PARTIAL).
        raise AssertionError("a folded division by zero reached the generated code")

    _print_NaN = _print_ComplexInfinity

    # Every traced value is real, but SymPy cannot always tell (arcsin of a value it cannot
    # bound): it writes |exp(z)| as exp(re(z)). The real part of a real value is itself.
    def _print_re(self, expr):
        text = self._print(expr.args[0])
        return text if isinstance(expr.args[0], (sp.Atom, sp.Function)) else f"({text})"

    def _print_im(self, expr):
        return self._print(sp.Float(0.0))

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
        if ir.of_sizes(expr) and expr.exp.is_Number and not expr.exp.is_Integer:
            # k**0.5, a Python float (0.5**np.arange(n) is an array, printed below)
            base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
            return f"{base}**{float(expr.exp)!r}"
        if precedence(expr.base) == PRECEDENCE["Pow"] and expr.exp not in (
            sp.S.Half,
            -sp.S.Half,
            -1,
        ):
            # (x**y)**2 of a traced x**y (ops.TracedPower): ** groups to the right, so
            # the base needs its parentheses (SymPy's printer leaves them out)
            exp = self.parenthesize(expr.exp, PRECEDENCE["Pow"], strict=False)
            return f"({self._print(expr.base)})**{exp}"
        return self._hprint_Pow(expr, rational=rational, sqrt=f"{self.np}.sqrt")

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if self.array_api:  # not in the standard: (sign(x) + 1)/2 is 0, 1/2 or 1
            x = self._print(expr.args[0])
            step = f"(({self.np}.sign({x}) + 1) / 2)"  # an atom, as a call is
            if at_zero == sp.S.Half:
                return step
            return (
                f"{self.np}.where({x} == 0, {self._print(sp.Float(at_zero))}, {step})"
            )
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
            text = self.typed(text)
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
        return ops.key_text(key, self._print, self.array_api)


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
    "scatter_add",
    "put_at",
)
# Helpers that call other helpers.
HELPER_NEEDS = {"logsumexp": "log1p_excess", "log_softmax": "log1p_excess"}


class ModuleText:
    """Prints the expressions of one generated module: with the module's names for its
    helpers (``helpers``: helper -> name) and for NumPy (``np``, or the Array API
    namespace with ``array_api``), recording the helpers the code calls (and ``math``
    when it calls math's functions), and renaming symbols by ``mapping`` (see
    ``mapped``) first."""

    def __init__(
        self,
        helpers: dict | None = None,
        np: str = "np",
        dtype: str = "dtype",
        array_api: bool = False,
        namespace: str = "array_namespace",
        extra: str = "xpx",
    ):
        self.helpers = dict(helpers) if helpers else {h: h for h in HELPERS}
        self.np = np
        self.dtype = dtype
        self.array_api = array_api
        self.namespace = namespace  # array_api_compat's array_namespace, in the module
        self.extra = extra  # array_api_extra, in the module
        self.used: set[str] = set()
        self.mapping: dict = {}

    def printer(self) -> NumPyPrinter:
        return NumPyPrinter(self.helpers, self.np, self.dtype, self.array_api)

    def __call__(self, expr: sp.Expr) -> str:
        printer = self.printer()
        text = printer.doprint(expr.xreplace(self.mapping))
        self.used |= printer.used_helpers | ({"math"} if printer.used_math else set())
        return text

    def copied(self, text: str) -> str:
        """A new array holding the value of ``text``: ``x.copy()``, or in the Array API
        ``xp.asarray(x, copy=True)``."""
        if self.array_api:
            return f"{self.np}.asarray({text}, copy=True)"
        return f"{text}.copy()"

    def write(
        self, target: str, key: str, value: str, op: str = "="
    ) -> tuple[str, str, str]:
        """The statement ``target[key] op value`` (``key`` with its brackets, ``op`` ``=``
        or ``+=``) as ``(left, operator, right)``. In the Array API a functional update,
        ``x = xpx.at(x)[key].set(v)`` (``.add(v)``) of array_api_extra: the standard's
        ``x[key] = v`` where the library allows it, and JAX's ``x.at[key].set(v)`` where
        its arrays are immutable."""
        if not self.array_api:
            return f"{target}{key}", op, value
        self.used.add("xpx")
        method = "add" if op == "+=" else "set"
        return target, "=", f"{self.extra}.at({target}){key}.{method}({value})"

    # --- what the dense modes' loops print (dense.py, basis_loops.py) -------------------
    def zeros(self, shape: str) -> str:
        """New zeros of the arguments' float type: ``np.zeros(shape, dtype)``."""
        dtype = f"dtype={self.dtype}" if self.array_api else self.dtype
        return f"{self.np}.zeros({shape}, {dtype})"

    def indices(self, shape: str) -> str:
        """Every index of ``shape`` in C order: ``np.ndindex(shape)``, or in the Array
        API ``itertools.product(*map(range, shape))``."""
        if self.array_api:
            self.used.add("itertools")
            return f"itertools.product(*map(range, {shape}))"
        return f"{self.np}.ndindex({shape})"

    def leading(self, index: str) -> str:
        """The key of the sub-array at ``index`` (a tuple of the leading axes): ``[i]``,
        or in the Array API, which indexes every axis, ``[(*i, ...)]``; ``index`` empty
        (a float's): the whole array."""
        if not index:
            return "[...]" if self.array_api else "[()]"
        return f"[(*{index}, ...)]" if self.array_api else f"[{index}]"

    def permuted(self, name: str, axes: list[int]) -> str:
        """A new array of ``name`` with its axes in the order ``axes``."""
        if self.array_api:
            return self.copied(f"{self.np}.permute_dims({name}, {tuple(axes)})")
        return f"{name}.transpose({', '.join(map(str, axes))}).copy()"

    def value(self, expr: sp.Expr) -> str:
        """``expr`` as a value a function stores or returns: a number of the arguments'
        float type (``dtype.type(1.0)``), so float32 arguments give float32 results."""
        if expr.is_Number:
            return self.printer().typed(self(sp.Float(expr)))
        return self(expr)

    def key(self, key: sp.Tuple) -> str:
        """An index key as written inside ``[...]``."""
        return self.printer().key(key.xreplace(self.mapping))

    def mapped(self, mapping: dict) -> "ModuleText":
        """This printer, renaming symbols by ``mapping``; what it prints is recorded here."""
        other = copy.copy(self)
        other.mapping = mapping
        return other

    def definitions(self) -> list[tuple[str, str]]:
        """(helper, name) for every helper the printed code calls, and those they call."""
        used = self.used | {HELPER_NEEDS[h] for h in self.used if h in HELPER_NEEDS}
        used -= {"math", "itertools", "xpx"}
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
