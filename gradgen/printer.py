"""Printing: SymPy expressions of the IR as NumPy source.

Takes an expression over final names and returns a Python expression string using ``np.``.
A visitor in SymPy's own style: ``Printer._print`` dispatches on the class name to
``_print_<Class>``. Built on SymPy's ``PythonCodePrinter`` (division, square roots,
parenthesising by precedence); what is written here is only what NumPy code needs beyond it:
``@`` (same precedence as ``*`` in Python, so operands get explicit parentheses), ``.T``,
reductions with ``axis=``, ``np.where`` for selects, floats printed exactly, and sums printed
with their positive terms first (``yhat - y``, not ``-y + yhat``).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pycode import PythonCodePrinter

from . import ir

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
}


class NumPyPrinter(PythonCodePrinter):
    """Prints IR expressions as NumPy code over the names the naming stage chose."""

    printmethod = "_gradgen_numpy"
    _kf = {name: "np." + np_name for name, np_name in _NUMPY_NAMES.items()}

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.known_functions = dict(self._kf)

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
                text = self.parenthesize(-term, PRECEDENCE["Add"], strict=False)
                out.append(f"- {text}" if out else f"-{text}")
            else:
                text = self.parenthesize(term, PRECEDENCE["Add"], strict=False)
                out.append(("+ " if out else "") + text)
        return " ".join(out)

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1 and isinstance(rest, sp.Add):  # -(h - 1) prints as 1 - h
            return self._print(sp.Add(*[-t for t in rest.args]))
        if coeff.is_Rational and coeff.q != 1 and rest != 1:  # x/2, not (1/2)*x
            numerator = sp.Mul(coeff.p, rest) if coeff.p != 1 else rest
            text = self.parenthesize(numerator, PRECEDENCE["Mul"], strict=False)
            return f"{text}/{coeff.q}"
        return super()._print_Mul(expr)

    def _print_Pow(self, expr, rational=False):
        return self._hprint_Pow(expr, rational=rational, sqrt="np.sqrt")

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(at_zero))})"

    def _print_sign(self, expr):
        return f"np.sign({self._print(expr.args[0])})"

    def _binary_fold(self, name, args):
        text = self._print(args[-1])
        for arg in reversed(args[:-1]):
            text = f"{name}({self._print(arg)}, {text})"
        return text

    def _print_Max(self, expr):
        return self._binary_fold(
            "np.maximum", sorted(expr.args, key=sp.default_sort_key)
        )

    def _print_Min(self, expr):
        return self._binary_fold(
            "np.minimum", sorted(expr.args, key=sp.default_sort_key)
        )

    # --- selects and conditions ----------------------------------------------------
    def _condition(self, cond):
        text = self._print(cond)
        if isinstance(cond, sp.core.relational.Relational) and text.startswith("("):
            return text[1:-1]
        return text

    def _print_Piecewise(self, expr):
        pairs = list(expr.args)
        text = self._print(pairs[-1].expr) if pairs[-1].cond == sp.true else "np.nan"
        for pair in reversed(pairs[:-1] if pairs[-1].cond == sp.true else pairs):
            text = f"np.where({self._condition(pair.cond)}, {self._print(pair.expr)}, {text})"
        return text

    def _logic(self, op, args):
        return f" {op} ".join(f"({self._condition(a)})" for a in args)

    def _print_And(self, expr):
        return self._logic("&", expr.args)

    def _print_Or(self, expr):
        return self._logic("|", expr.args)

    def _print_Not(self, expr):
        return f"~({self._condition(expr.args[0])})"

    # --- structural operations -------------------------------------------------------
    def _operand(self, expr):
        """An operand of ``@``: Python gives ``@`` and ``*`` the same precedence."""
        text = self._print(expr)
        division = expr.is_Pow and expr.exp.is_negative  # x**-1 prints as 1/x
        return (
            f"({text})" if division or precedence(expr) <= PRECEDENCE["Mul"] else text
        )

    def _postfix(self, expr):
        if isinstance(expr, sp.Symbol) or precedence(expr) >= PRECEDENCE["Func"]:
            return self._print(expr)
        return f"({self._print(expr)})"

    def _print_MatMul(self, expr):
        a, b = expr.args
        left = self._print(a) if isinstance(a, ir.MatMul) else self._operand(a)
        return f"{left} @ {self._operand(b)}"

    def _print_Transpose(self, expr):
        return f"{self._postfix(expr.args[0])}.T"

    def _reduction(self, name, expr):
        parts = [self._print(expr.args[0])]
        if not expr.full:
            axes = expr.axes
            parts.append(f"axis={axes[0]}" if len(axes) == 1 else f"axis={axes}")
        if expr.keepdims:
            parts.append("keepdims=True")
        return f"np.{name}({', '.join(parts)})"

    def _print_ReduceSum(self, expr):
        return self._reduction("sum", expr)

    def _print_ReduceMean(self, expr):
        return self._reduction("mean", expr)

    def _print_ReduceMax(self, expr):
        return self._reduction("max", expr)

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

    def _print_IsEqual(self, expr):
        # A float mask: NumPy refuses -mask and mask - mask on booleans.
        a, b = (self._print(arg) for arg in expr.args)
        return f"({a} == {b}).astype(float)"


def to_source(expr: sp.Expr) -> str:
    return NumPyPrinter().doprint(expr)
