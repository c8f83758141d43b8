"""Elementwise functions NumPy has and SymPy lacks, or differentiates otherwise: ``Floor``,
``Ceil`` (steps: derivative 0, as in autograd, where SymPy leaves it unevaluated),
``Remainder`` (NumPy's ``%``, with the sign of the divisor), ``Log2``, ``Log10``, ``Hypot``
(printed as NumPy's own, which are exact for powers of the base and do not overflow) and
``Clip``.

Each is a ``sympy.Function`` holding its derivative (``fdiff``), a numerical value
(``_eval_evalf``, from the SymPy expression it equals, ``value``) and its printing as NumPy
code, text and LaTeX. ``ops/elementwise.py`` binds the ufuncs to them.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class _Named(sp.Function):
    """A NumPy function ``np.<code>`` of real arguments, printed as a call everywhere."""

    code = ""  # the NumPy name
    latex_name = ""  # \operatorname{...} unless given

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def value(self) -> sp.Expr:
        """The same function in SymPy's own terms (for numerical values)."""
        raise NotImplementedError

    def _eval_evalf(self, prec):
        return self.value()._eval_evalf(prec)

    def _arguments(self, p) -> str:
        return ", ".join(p._print(a) for a in self.args)

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.{self.code}({self._arguments(p)})"

    def _gradgen_text(self, p, **kwargs):
        return f"{self.code}({self._arguments(p)})"

    def _gradgen_latex(self, p, **kwargs):
        name = self.latex_name or rf"\operatorname{{{self.code}}}"
        return rf"{name}\left({self._arguments(p)}\right)"


class _Step(_Named):
    """A step (``np.floor``, ``np.ceil``): flat almost everywhere, so its derivative is 0,
    as in autograd; ``exact`` is SymPy's own, ``brackets`` its LaTeX."""

    nargs = 1
    exact = sp.floor
    brackets = ("", "")

    @classmethod
    def eval(cls, x):
        return cls.exact(x) if x.is_Number else None

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    def value(self):
        return self.exact(self.args[0])

    def _gradgen_latex(self, p, **kwargs):
        left, right = self.brackets
        return rf"\left{left} {p._print(self.args[0])} \right{right}"


class Floor(_Step):
    """``np.floor``."""

    code = "floor"
    exact = sp.floor
    brackets = (r"\lfloor", r"\rfloor")


class Ceil(_Step):
    """``np.ceil``."""

    code = "ceil"
    exact = sp.ceiling
    brackets = (r"\lceil", r"\rceil")


class Remainder(_Named):
    """``np.remainder(x, y)``, Python's ``x % y``: x - y floor(x/y), with the sign of y.
    Its derivatives, as autograd's: 1 in x, -floor(x/y) in y (the jumps, where x/y is an
    integer, are left out)."""

    nargs = 2
    code = "remainder"

    def fdiff(self, argindex=1):
        x, y = self.args
        return sp.Integer(1) if argindex == 1 else -Floor(x / y)

    def value(self):
        x, y = self.args
        return x - y * sp.floor(x / y)

    def _gradgen_text(self, p, **kwargs):
        x, y = (p.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)
        return f"{x} mod {y}"

    def _gradgen_latex(self, p, **kwargs):
        x, y = (p.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)
        return rf"{x} \ \mathrm{{mod}}\ {y}"


class _Log(_Named):
    """A logarithm to a fixed ``base`` (``np.log2``, ``np.log10``)."""

    nargs = 1
    base = 2

    def fdiff(self, argindex=1):
        return 1 / (self.args[0] * sp.log(self.base))

    def value(self):
        return sp.log(self.args[0], self.base)


class Log2(_Log):
    """``np.log2``."""

    code, latex_name, base = "log2", r"\log_{2}", 2


class Log10(_Log):
    """``np.log10``."""

    code, latex_name, base = "log10", r"\log_{10}", 10


class Hypot(_Named):
    """``np.hypot(x, y)`` = sqrt(x**2 + y**2) without overflow; its derivative in x is
    x / hypot(x, y) (as autograd's: undefined at the origin)."""

    nargs = 2
    code = "hypot"

    def _eval_is_nonnegative(self):
        return self._eval_is_real()

    def fdiff(self, argindex=1):
        return self.args[argindex - 1] / self

    def value(self):
        x, y = self.args
        return sp.sqrt(x**2 + y**2)


class Clip(_Named):
    """``np.clip(x, lo, hi)``: NumPy's minimum(maximum(x, lo), hi) (a bound of None is an
    infinite one). The gradient convention is autograd's: the derivative in x is 1
    strictly inside the bounds and 0 at and beyond them; a bound that is a traced value
    gets the rest (1 where the result is that bound: hi wherever lo >= hi), so the
    derivatives always sum to 1."""

    nargs = 3
    code = "clip"

    def fdiff(self, argindex=1):
        x, lo, hi = self.args
        if argindex == 1:
            return sp.Piecewise((0, (x <= lo) | (x >= hi)), (1, True))
        if argindex == 2:
            return sp.Piecewise((1, (x <= lo) & (lo < hi)), (0, True))
        return sp.Piecewise((1, (x >= hi) | (lo >= hi)), (0, True))

    def value(self):
        x, lo, hi = self.args
        return sp.Min(sp.Max(x, lo), hi)

    def _arguments(self, p) -> str:
        shown = [
            "None" if a.is_infinite else p._print(a) for a in self.args
        ]  # a bound not given
        return ", ".join(shown)


class ZeroPower(_Named):
    """0**x of a traced x: 0 for x > 0, 1 at 0. Its derivative is 0, as autograd's
    (SymPy's, 0**x log(0), is nan)."""

    nargs = 1
    precedence = PRECEDENCE["Pow"]  # printed 0.0**x

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    def value(self):
        return sp.Pow(0, self.args[0], evaluate=False)

    def _gradgen_numpy(self, p, **kwargs):
        return f"0.0**{p.parenthesize(self.args[0], PRECEDENCE['Pow'], strict=False)}"

    def _gradgen_text(self, p, **kwargs):
        return f"0**{p.parenthesize(self.args[0], PRECEDENCE['Pow'], strict=False)}"

    def _gradgen_latex(self, p, **kwargs):
        return f"0^{{{p._print(self.args[0])}}}"


class TracedPower(_Named):
    """x**y where both x and y are traced: SymPy's power, with autograd's derivative
    where x is 0, which SymPy's gives as nan: y x**(y - 1) in x (0 there for y > 1, not
    y x**y / x), and x**y log(x) in y with log(x) taken as 0 where x is 0 (so 0 there
    for y > 0, not 0 log 0)."""

    nargs = 2
    precedence = PRECEDENCE["Pow"]  # printed x**y: a power's base parenthesises it

    def fdiff(self, argindex=1):
        x, y = self.args
        if argindex == 1:
            return y * TracedPower(x, y - 1)
        return self * sp.Piecewise((0, sp.Eq(x, 0)), (sp.log(x), True))

    def value(self):
        return sp.Pow(*self.args)

    def _power(self, p, **kwargs):
        # ** groups to the right: a power as the base takes parentheses, (2**v)**w; so
        # does a power as the exponent, whose printed form may be a division that binds
        # less than ** (x**(1/np.sqrt(y)) for y**-0.5)
        x = p.parenthesize(self.args[0], PRECEDENCE["Pow"], strict=False)
        y = p.parenthesize(self.args[1], PRECEDENCE["Pow"], strict=False)
        return f"{x}**{y}"

    _gradgen_numpy = _gradgen_text = _power

    def _gradgen_latex(self, p, **kwargs):
        x = p.parenthesize(self.args[0], PRECEDENCE["Pow"], strict=False)
        return f"{x}^{{{p._print(self.args[1])}}}"
