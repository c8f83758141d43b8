"""Random numerically delicate forms for the random model programs: the part of
``program_exprs.Expressions`` that writes the naive forms gradgen rewrites into stable ones,
the same functions from ``gradgen.functions``, and selects whose branch not taken is
undefined.

Stable forms (``_stable``): 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)),
np.log(1 + np.exp(x)), np.log1p(np.exp(x)), np.log(1 / (1 + np.exp(-x))),
np.log(np.sum(np.exp(x), axis, keepdims)), x - that (log-softmax), softmax written out,
np.sqrt(np.sum(x**2, ...)) and np.linalg.norm of arrays no entry of which is near 0, and
``gradgen.functions.sigmoid, softplus, log_sigmoid, logsumexp, log_softmax, softmax, relu``.
Their arguments may take any value in [-CAP, CAP], not only ``EXP_ARG``: exp(100) is still a
float, and the forms stay bounded. The model imports the functions it uses from
gradgen.functions (``Expressions.imports``).

Undefined branches (``_guarded``): ``np.where(a > t, np.log(a - t + 0.1), b)`` computes a log
of negative numbers where ``a <= t - 0.1``, and discards them; the generated code must give
finite values and gradients there (NaN-safe selects); ``1.0 / (a - t + 0.5)`` is infinite at
a pole there. Only the log and the reciprocal are used: autograd's gradients of them at the discarded entries are 0 (its gradient of sqrt
would be nan there). Such a program sets ``Expressions.branch_nans``.
"""

from __future__ import annotations

import math

import program_values as pv
from program_values import CAP, POSITIVE, Val

HELPERS = ("sigmoid", "softplus", "log_sigmoid", "logsumexp", "log_softmax")
HELPERS += ("softmax", "relu")


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


class NumericExpressions:
    """Stable forms and undefined branches (a mixin of ``Expressions``)."""

    def _stable(self, scope, shape, depth):
        kinds = ["sigmoid", "softplus", "log_sigmoid", "helper"]
        if shape:
            kinds += ["softmax", "log_softmax"]
        if len(shape) < 2 or 1 in shape:  # a reduction can give this shape
            kinds += ["logsumexp", "norm"]
        kind = self.pick(kinds)
        if kind in ("logsumexp", "norm"):
            return self.reduced_form(scope, shape, depth, kind)
        if kind in ("softmax", "log_softmax"):
            return self.softmax_form(scope, shape, depth, kind)
        a = self.expr(scope, shape, depth)
        if kind == "helper":
            return self.function_helper(scope, shape, depth, a)
        x = pv._wrap(a, pv.UNARY + 1)
        lo, hi = _sigmoid(a.lo), _sigmoid(a.hi)
        if kind == "sigmoid":
            forms = [f"1 / (1 + np.exp(-{x}))", f"1.0 / (1.0 + np.exp(-{x}))"]
            forms.append(f"np.exp({a.text}) / (1 + np.exp({a.text}))")
            return Val(self.pick(forms), shape, lo, hi, pv.MUL)
        if kind == "softplus":
            forms = [f"np.log(1 + np.exp({a.text}))", f"np.log1p(np.exp({a.text}))"]
            return Val(self.pick(forms), shape, _softplus(a.lo), _softplus(a.hi))
        text = f"np.log(1 / (1 + np.exp(-{x})))"
        return Val(text, shape, -_softplus(-a.lo), -_softplus(-a.hi))

    def reduced_form(self, scope, shape, depth, kind) -> Val:
        """logsumexp or a 2-norm over some axes, written out."""
        in_shape, axes, keepdims = self.reduction(shape)
        a = self.expr(scope, in_shape, depth)
        axis = self.axis_argument(axes, len(in_shape))
        options = "".join(f", {o}" for o in pv.reduce_options(axis, keepdims))
        count = pv.count_range([in_shape[i] for i in axes])
        if kind == "logsumexp":
            text = f"np.log(np.sum(np.exp({a.text}){options}))"
            lo, hi = a.lo + math.log(count[0]), a.hi + math.log(count[1])
            return Val(text, shape, lo, hi)
        if a.lo < POSITIVE[0] and a.hi > -POSITIVE[0]:
            a = self.fit(a, *POSITIVE)  # no entry near 0: sqrt's derivative is finite
        low = min(abs(a.lo), abs(a.hi)) if a.lo * a.hi > 0 else 0.0
        lo, hi = math.sqrt(count[0]) * low, math.sqrt(count[1]) * a.mag
        squares = pv._wrap(a, pv.POWER + 1)
        forms = [f"np.sqrt(np.sum({squares} ** 2{options}))"]
        if not keepdims:  # an axis as an int: autograd's norm fails on axis=(1,)
            one = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis
            norm_axis = "" if one is None else f", axis={one}"
            forms.append(f"np.linalg.norm({a.text}{norm_axis})")
        return Val(self.pick(forms), shape, lo, hi)

    def softmax_form(self, scope, shape, depth, kind) -> Val:
        a = self.expr(scope, shape, depth)
        axis = self.pick(range(len(shape)))
        axis_text = self.pick([f", axis={axis}", f", axis={axis - len(shape)}"])
        total = f"np.sum(np.exp({a.text}){axis_text}, keepdims=True)"
        if kind == "softmax":
            return Val(f"np.exp({a.text}) / {total}", shape, 0.0, 1.0, pv.MUL)
        count = pv.count_range([shape[axis]])[1]
        lo = a.lo - a.hi - math.log(count)
        return Val(f"{pv._wrap(a, pv.ADD)} - np.log({total})", shape, lo, 0.0, pv.ADD)

    def function_helper(self, scope, shape, depth, a: Val) -> Val:
        """One of gradgen.functions on ``a``."""
        name = self.pick(HELPERS)
        self.imports.add(name)
        lo, hi = _sigmoid(a.lo), _sigmoid(a.hi)
        if name in ("softmax", "log_softmax", "logsumexp") and not shape:
            name = "sigmoid"
            self.imports.add(name)
        if name == "sigmoid":
            return Val(f"sigmoid({a.text})", shape, lo, hi)
        if name in ("softplus", "log_sigmoid"):
            sign = 1 if name == "softplus" else -1
            bounds = sorted(
                [sign * _softplus(sign * a.lo), sign * _softplus(sign * a.hi)]
            )
            return Val(f"{name}({a.text})", shape, *bounds)
        if name == "relu":
            return Val(f"relu({a.text})", shape, max(a.lo, 0.0), max(a.hi, 0.0))
        axis = self.pick(range(len(shape)))
        axis_text = self.pick([f", axis={axis}", f", axis={axis - len(shape)}"])
        if name == "softmax":
            return Val(f"softmax({a.text}{axis_text})", shape, 0.0, 1.0)
        count = pv.count_range([shape[axis]])[1]
        if name == "log_softmax":
            lo = a.lo - a.hi - math.log(count)
            return Val(f"log_softmax({a.text}{axis_text})", shape, lo, 0.0)
        # logsumexp keeping the axis (a size 1 there), broadcast back against its argument
        text = f"{pv._wrap(a, pv.ADD)} - logsumexp({a.text}{axis_text}, keepdims=True)"
        return Val(text, shape, a.lo - a.hi - math.log(count), 0.0, pv.ADD)

    def _guarded(self, scope, shape, depth):
        """``np.where(a > t, f(a - t + 0.1), b)``: f undefined where the select discards it."""
        sc, sb = self.split(shape, 2)
        a = self.expr(scope, sc, depth)
        if a.hi - a.lo < 0.2 or a.mag > 10:
            a = self.squash(a, -1.0, 1.0)
        t = round(a.lo + (a.hi - a.lo) * self.pick([0.5, 0.3, 0.7]), 2)
        log = self.maybe(50)
        # 1 / (a - t + 0.5), not + 0.1: its fourth derivative near a = t would be too large
        # for central differences (a program that writes into arrays) to settle the HVP
        shift = 0.1 if log else 0.5
        shifted = pv.binary("+", pv.binary("-", a, pv.constant(t)), pv.constant(shift))
        lo, hi = POSITIVE[0], max(shifted.hi, POSITIVE[0])  # where a > t
        arg = Val(shifted.text, shifted.shape, lo, hi, shifted.prec)
        if log:
            taken = pv.call("log", arg)
        else:
            taken = pv.binary("/", pv.constant(1.0), arg)
        other = self.expr(scope, sb, depth, const_ok=True)
        cond = pv.compare(self.pick([">", ">="]), a, pv.constant(t))
        self.branch_nans = True
        value = pv.where(cond, taken, other)
        return value if value.mag <= CAP else self.fit(value, -CAP, CAP)
