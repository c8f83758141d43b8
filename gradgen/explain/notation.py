"""Notation: IR expressions as formulas, in plain text, and what the LaTeX printer shares.

Takes an expression over the generated code's names, a table of their shapes and, for
some, how to write them (a gradient ``dW1`` is written ∂loss/∂W1); returns the formula as
plain text (``TextFormula``, a SymPy ``StrPrinter``; ``latex.LatexFormula`` is its LaTeX
twin, a ``LatexPrinter``, built on the same ``Formula`` structure). Both are visitors
that dispatch on the class name, ``_print_<Class>``; what is written here is only what the
IR needs beyond SymPy's own printing: matrix products as products, transposes as ⊤, a
product of two array-valued factors with ⊙, reductions as sums (or products with a ones
vector), the logistic sigmoid as σ (recognised in its form 1/(1 + e^{-z}), and printed by
class name as ``Sigmoid``, ``Softplus`` and ``LogSumExp`` are), and code names as math names
(W1 → W_{1}, yhat → \\hat{y}, delta_h → δ_h, alpha → α). Powers, quotients and functions of
arrays act elementwise, as in NumPy; broadcasting is left implicit.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import greek_letters_set, translate
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from gradgen import ir
from gradgen.ops import Sigmoid, SigmoidAbs, SigmoidNegAbs, SigmoidOf


def _sigmoid_argument(expr) -> sp.Expr | None:
    """u when ``expr`` is 1/(1 + e^{-u})."""
    if not (isinstance(expr, sp.Pow) and expr.exp == -1):
        return None
    base = expr.base
    if not (isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args):
        return None
    (other,) = [a for a in base.args if a != 1]
    if not isinstance(other, sp.exp):
        return None
    power = other.args[0]
    if isinstance(power, sp.Add):
        return sp.Add(*[-t for t in power.args])
    return -power


def _logistic_product(expr) -> sp.Expr | None:
    """σ(u) · rest when ``expr`` is e^{u}/(1 + e^{u}) · rest."""
    if not isinstance(expr, sp.Mul):
        return None
    args = list(expr.args)
    for e in [a for a in args if isinstance(a, sp.exp)]:
        denominator = sp.Pow(1 + e, -1)
        if denominator in args:
            rest = [a for a in args if a is not e and a != denominator]
            return sp.Mul(Sigmoid(e.args[0]), *rest)
    return None


def _slope_pair(expr) -> tuple | None:
    """The factors sigmoid(|u|) and sigmoid(-|u|) of one u in a product: together the
    generated code's sigmoid(u) * sigmoid(-u)."""
    if not isinstance(expr, sp.Mul):
        return None
    for a in (f for f in expr.args if isinstance(f, SigmoidAbs)):
        for b in (f for f in expr.args if isinstance(f, SigmoidNegAbs)):
            if a.args[0] == b.args[0]:
                return a, b
    return None


def _is_slope(expr) -> bool:
    return _slope_pair(expr) is not None


def _slope(expr):
    a, b = _slope_pair(expr)
    rest = [f for f in expr.args if f is not a and f is not b]
    u = a.args[0]
    return sp.Mul(Sigmoid(u), Sigmoid(-u), *rest)


def recognise(expr: sp.Expr) -> sp.Expr:
    """``expr`` with 1/(1 + e^{-u}) and e^{u}/(1 + e^{u}) written as Sigmoid(u) (and the
    generated code's sigmoid and complement over e = exp(-|u|) as Sigmoid(u) and
    Sigmoid(-u))."""
    expr = expr.replace(_is_slope, _slope)
    expr = expr.replace(
        lambda e: isinstance(e, SigmoidOf),
        lambda e: Sigmoid(-e.args[0] if e.negated else e.args[0]),
    )
    expr = expr.replace(
        lambda e: _logistic_product(e) is not None, lambda e: _logistic_product(e)
    )
    return expr.replace(
        lambda e: _sigmoid_argument(e) is not None,
        lambda e: Sigmoid(_sigmoid_argument(e)),
    )


def textbook(expr: sp.Expr) -> sp.Expr:
    """``expr`` with σ(-u) written 1 - σ(u), as derivations write it (the generated code
    computes it as σ(-u), which keeps its digits where σ(u) rounds to 1)."""
    return expr.replace(
        lambda e: isinstance(e, Sigmoid) and e.args[0].could_extract_minus_sign(),
        lambda e: 1 - Sigmoid(-e.args[0]),
    )


def cancelled(expr: sp.Expr, shapes: dict) -> sp.Expr:
    """``expr`` with ``_cancelled`` applied to it and to each array argument of the
    array operations in it (Xᵀ·(σ(z) - y)/n as well)."""
    if not any(e.args[0].could_extract_minus_sign() for e in expr.atoms(Sigmoid)):
        return expr
    expr = expr.replace(
        lambda e: isinstance(e, ir.Structural),
        lambda e: e.func(
            *[_cancelled(a, shapes) for a in e.args[: e.array_args]],
            *e.args[e.array_args :],
        ),
    )
    return _cancelled(expr, shapes)


def _cancelled(expr: sp.Expr, shapes: dict) -> sp.Expr:
    """``expr`` with σ(-u) written 1 - σ(u) and multiplied out, when that is shorter:
    the logistic loss's -(y ⊙ σ(-z) - σ(z) ⊙ (1 - y))/n is (σ(z) - y)/n. Exact, as
    σ(-u) = 1 - σ(u) is; only products of sums are multiplied out (nothing inside a
    function or an array operation), and only where the shape stays the same. A
    condition (and, or, not, if-then-else of comparisons) has each of its parts done so."""
    if not any(e.args[0].could_extract_minus_sign() for e in expr.atoms(Sigmoid)):
        return expr
    if isinstance(expr, sp.logic.boolalg.BooleanFunction):
        return expr.func(*[_cancelled(a, shapes) for a in expr.args])
    complement = textbook(expr)
    opaque = {f: sp.Dummy() for f in complement.atoms(sp.Function)}
    expanded = sp.expand(complement.xreplace(opaque))
    candidate = sp.factor_terms(expanded).xreplace({d: f for f, d in opaque.items()})
    if sp.count_ops(candidate) >= sp.count_ops(expr):
        return expr
    try:  # y ⊙ σ(z) + y ⊙ σ(-z) is y: no longer the shape of σ(z)
        same = ir.shape_of(candidate, shapes) == ir.shape_of(expr, shapes)
    except (ir.ShapeError, KeyError):
        same = False
    return candidate if same else expr


# --- Names ----------------------------------------------------------------------------


_MODIFIERS = ("ddot", "tilde", "check", "breve", "prime", "hat", "bar", "dot", "vec")


def _letter(word: str) -> bool:
    return len(word) == 1 or word.lower() in greek_letters_set


def _word(word: str) -> str:
    """One word of a name: a letter, a Greek name, a letter with a hat/bar/tilde suffix
    (SymPy's ``translate``: yhat → \\hat{y}), else upright text."""
    if word.isdigit() or len(word) == 1:
        return word
    if _letter(word) or any(
        word.endswith(m) and _letter(word[: -len(m)]) for m in _MODIFIERS
    ):
        return translate(word)
    return r"\mathrm{" + word.replace("_", r"\_") + "}"


def _short(word: str) -> bool:
    """A word written as one symbol (W, alpha, yhat): it takes subscripts."""
    return not _word(word).startswith(r"\mathrm")


def latex_name(name: str) -> str:
    """A code name as a math name: W1 → W_{1}, z_h_1 → z_{h_{1}}, delta_yhat → δ_{ŷ},
    sigmoid_array → \\mathrm{sigmoid\\_array}."""
    if name.startswith("delta_") and len(name) > 6:
        return rf"\delta_{{{latex_name(name[6:])}}}"
    head, _, rest = name.partition("_")
    if head and rest and _short(head):
        return f"{_word(head)}_{{{latex_name(rest)}}}"
    match = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if match:
        return f"{_word(match[1])}_{{{match[2]}}}"
    match = re.fullmatch(r"(.+)_(\d+)", name)
    if match:
        inner = latex_name(match[1])
        inner = f"{{{inner}}}" if "_" in inner.replace(r"\_", "") else inner
        return f"{inner}_{{{match[2]}}}"
    return _word(name)


# --- What both printers share -----------------------------------------------------------


def _ordered(factors: list) -> list:
    """Matrix products and other operations first, then names, then sums and powers:
    (δ W^⊤) ⊙ h ⊙ (1 - h), as in the textbooks."""

    def rank(factor) -> int:
        if isinstance(factor, ir.Structural):
            return 0
        if isinstance(factor, sp.Symbol):
            return 1
        return 2 if isinstance(factor, sp.Function) else 3

    return sorted(factors, key=rank)  # stable: SymPy's order within a rank


def _is_constant(expr) -> bool:
    """A number or an expression of dimension sizes only, such as 2/n (not a constant
    array such as an identity matrix, which is a factor of its own)."""
    return all(ir.is_dim_symbol(s) for s in expr.free_symbols) and not expr.atoms(
        ir.Structural
    )


class Formula:
    """Structure shared by the LaTeX and the plain-text printer; each defines the marks."""

    HADAMARD = MATMUL = SCALE = DOT = ONES = ""
    TOP = "{}"  # a transpose, around the printed operand

    def __init__(self, shapes: dict, names: dict | None = None, **settings):
        super().__init__(settings)
        self.shapes = dict(shapes)
        self.names = dict(names or {})
        self._memo: dict = {}

    def shape(self, expr) -> tuple:
        try:
            return ir.shape_of(expr, self.shapes, self._memo)
        except KeyError:  # a symbol without a recorded shape: a scalar
            return ()

    # --- what the operations' print methods use (gradgen.ops), with SymPy's _print ------
    def paren(self, expr, level=PRECEDENCE["Mul"], strict=False) -> str:
        """``expr`` parenthesised if it binds looser than a product (or ``level``)."""
        return self.parenthesize(expr, level, strict=strict)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_re(self, expr):
        # every traced value is real; SymPy, when it cannot tell (arcsin of a value it
        # cannot bound), writes |exp(z)| as exp(re(z))
        text = self._print(expr.args[0])
        return text if isinstance(expr.args[0], (sp.Atom, sp.Function)) else f"({text})"

    def _print_Mul(self, expr):
        """-(…) for a negative product; a product with numbers or a denominator as the
        printer's ``_product`` writes it; else the SymPy printer's product."""
        if expr.could_extract_minus_sign():
            return "-" + self.paren(-expr, PRECEDENCE["Mul"], strict=True)
        top, bottom, numerator, denominator = self._split_product(expr)
        if not numerator and not denominator:
            return super()._print_Mul(expr)  # the SymPy printer's, next in the MRO
        return self._product(top, bottom, numerator, denominator)

    def _print_Symbol(self, expr, style="plain"):
        return self.names.get(expr) or self._name(expr.name)

    def _print_Add(self, expr, order=None):
        """Positive terms first: ``1 - h``, ``yhat - y``."""
        terms = list(expr.as_ordered_terms())
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        out = ""
        for term in positive + negative:
            if term.could_extract_minus_sign():
                text = self.paren(-term, PRECEDENCE["Add"])
                out += f" - {text}" if out else f"-{text}"
            else:
                text = self.paren(term, PRECEDENCE["Add"])
                out += f" + {text}" if out else text
        return out

    def _constant(self, value, parenthesize=False) -> str:
        """A constant factor such as 2, 1/n or d·n, printed by SymPy's own rules."""
        if isinstance(value, sp.Add):  # a size n - 1: (n - 1) when it multiplies or divides
            return self.wrap(self._print(value)) if parenthesize else self._print(value)
        if not isinstance(value, sp.Mul):
            return self._print(value)
        text = super()._print_Mul(value)
        return self.wrap(text) if parenthesize else text

    def _split_product(self, expr):
        """(constant numerator, constant denominator, numerator factors, denominator
        factors) of a product; constants are numbers and dimension sizes, such as 2/n.
        """
        coeff, rest = expr.as_coeff_Mul()
        constants, numerator, denominator = [coeff], [], []
        for factor in sp.Mul.make_args(rest):
            if _is_constant(factor):
                constants.append(factor)
            elif (
                isinstance(factor, sp.Pow)
                and factor.exp.is_Number
                and factor.exp.is_negative
            ):
                denominator.append(factor.base ** (-factor.exp))
            else:
                numerator.append(factor)
        top, bottom = sp.fraction(sp.Mul(*constants))
        return top, bottom, _ordered(numerator), _ordered(denominator)

    def _factors(self, factors: list) -> str:
        """Scalar factors scale; two or more array factors are joined with ⊙."""
        scalars = [f for f in factors if self.shape(f) == ()]
        arrays = [f for f in factors if self.shape(f) != ()]
        mark = self.HADAMARD if len(arrays) > 1 else self.SCALE
        parts = [self.paren(f) for f in scalars]
        if arrays:
            parts.append(mark.join(self.paren(f) for f in arrays))
        return self.SCALE.join(parts)

    def postfix(self, expr) -> str:
        """``expr`` ready for a postfix (ᵀ, ``[k]``): wrapped unless atomic."""
        if isinstance(expr, sp.Symbol) or precedence(expr) >= PRECEDENCE["Func"]:
            return self._print(expr)
        return self.wrap(self._print(expr))


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class TextFormula(Formula, StrPrinter):
    """IR expressions as plain-text math over the code's own names (for docstrings and
    the terminal): · for products, ⊙ for elementwise products of arrays, ᵀ, σ."""

    printmethod = "_gradgen_text"
    HADAMARD, MATMUL, SCALE, DOT = " ⊙ ", "·", "·", "·"
    ONES, TOP = "1", "{}ᵀ"

    def _name(self, name: str) -> str:
        return name

    def wrap(self, text: str) -> str:
        return f"({text})"

    def _product(self, top, bottom, numerator, denominator) -> str:
        """A product split by ``_split_product``, as ``c·a·b/(d·e)``."""
        parts = [self._constant(top)] if top != 1 or not numerator else []
        if numerator:
            if isinstance(top, sp.Add):  # (n - 1)·x
                parts = [self.wrap(parts[0])]
            parts.append(self._factors(numerator))
        text = self.SCALE.join(parts)
        below = [self._constant(bottom, parenthesize=True)] if bottom != 1 else []
        if denominator:
            below.append(self._factors(denominator))
        if not below:
            return text
        under = self.SCALE.join(below)
        if len(below) > 1 or len(denominator) > 1:
            under = f"({under})"
        return f"{text}/{under}"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Number and exp.is_negative:
            return "1/" + self.paren(base ** (-exp), PRECEDENCE["Mul"])
        if exp.is_Integer and 2 <= exp <= 9:
            return self.paren(base, PRECEDENCE["Pow"]) + str(exp).translate(
                _SUPERSCRIPTS
            )
        if exp == sp.S.Half:
            return "√" + self.paren(base, PRECEDENCE["Pow"])
        return super()._print_Pow(expr, rational)

    def _print_Pi(self, expr):
        return "π"

    def _print_exp(self, expr):
        power = expr.args[0]
        if isinstance(power, sp.Symbol) or (-power).is_Symbol:
            return f"e^{self._print(power)}"
        return f"exp({self._print(power)})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr):
        return f"step({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Piecewise(self, expr):
        pairs = list(expr.args)
        text = self._print(pairs[-1].expr) if pairs[-1].cond == sp.true else "0"
        for pair in reversed(pairs[:-1] if pairs[-1].cond == sp.true else pairs):
            text = f"where({self._print(pair.cond)}, {self._print(pair.expr)}, {text})"
        return text

    def _print_Equality(self, expr):  # x == y, as the other comparisons, not Eq(x, y)
        return f"{self._print(expr.lhs)} == {self._print(expr.rhs)}"

    def _print_Unequality(self, expr):
        return f"{self._print(expr.lhs)} != {self._print(expr.rhs)}"

    # & | ^ bind tighter than comparisons in Python: each part of one is bracketed unless
    # it is a name, as in the generated code ((x > 0) & (m != 0), not x > 0 & m != 0)
    def _logic(self, op: str, args) -> str:
        return f" {op} ".join(
            self._print(a) if a.is_Symbol else f"({self._print(a)})" for a in args
        )

    def _print_And(self, expr):
        return self._logic("&", expr.args)

    def _print_Or(self, expr):
        return self._logic("|", expr.args)

    def _print_Xor(self, expr):
        return self._logic("^", expr.args)

    def sum(self, operand, axes, ndim, full) -> str:
        """The sum over ``axes`` of an ``ndim``-dimensional operand (``full``: all)."""
        where = "" if full else f", axis {','.join(map(str, axes))}"
        return f"sum({self._print(operand)}{where})"


def text(expr: sp.Expr, shapes: dict, names: dict | None = None) -> str:
    return TextFormula(shapes, names).doprint(recognise(expr))


def written_out(expr: sp.Expr, values: dict, shapes: dict, named: set) -> sp.Expr:
    """``expr`` with the values of ``values`` put in for their symbols, but for the selects
    among them where that leaves an operation's operands misshapen: SymPy decides a
    written-out select by an enclosing select's condition, as if the condition were one
    truth value (where(u < v, 1, 0) summed inside where(sum(...) < a, ...) became the
    scalar 1, a sum of a 1-D array of shape ()). Those stay names, added to ``named``."""
    full = expr.xreplace(values)
    if not ir.misshapen(full, shapes):
        return full
    plain = {k: v for k, v in values.items() if not v.has(sp.Piecewise)}
    named |= {k for k in values if k not in plain and expr.has(k)}
    return expr.xreplace(plain)
