"""Reductions and what their rules need: ``ReduceSum``, ``ReduceMean``, ``ReduceMax``,
``ReduceMin``, ``LogSumExp`` (over ``axes``, with ``keepdims``), ``ExpandDims`` (which re-inserts reduced
axes) and ``IsEqual`` (the maximum's mask). Each operation in one place: shape, VJP and
JVP, code, text and LaTeX.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str, static
from gradgen.ops.rules import Linear
from gradgen.ops.tracing import axes as axes_of
from gradgen.ops.tracing import axis as axis_of
from gradgen.traced import kept_mask


def reduce(cls, a, axes, ndim: int, keepdims=False) -> sp.Expr:
    return cls(a, static(sorted(int(x) for x in axes)), static(keepdims), static(ndim))


def expand_reduced(g, axes, keepdims, shape):
    """Re-insert reduced axes into ``g`` so it broadcasts against the reduction's input;
    nothing to do for a scalar or leading axes (NumPy aligns shapes from the right)."""
    if keepdims or shape(g) == () or list(axes) == list(range(len(axes))):
        return g
    return expand_dims(g, axes, len(shape(g)))


def axis_words(axes, latex: bool) -> str:
    joined = ",".join(map(str, axes))
    return rf"_{{\mathrm{{axis}}\,{joined}}}" if latex else f", axis {joined}"


class Reduction(ir.Structural):
    """Reduction of an ``ndim``-dimensional array over ``axes`` (a Tuple); arguments (a,
    axes, keepdims, ndim). ``accepts_scalar_adjoint``: a scalar adjoint broadcasts to the
    input unchanged, so the reverse sweep passes it as it is."""

    nargs = 4
    accepts_scalar_adjoint = True
    numpy_name = ""  # np.sum, or a helper of the module's (``helper``)
    helper = ""

    @property
    def axes(self) -> tuple:
        return tuple(int(a) for a in self.args[1])

    @property
    def keepdims(self) -> bool:
        return bool(self.args[2])

    @property
    def full(self) -> bool:
        """Over every axis (printed without ``axis=``)."""
        return len(self.axes) == int(self.args[3])

    def out_shape(self, shapes):
        shape = shapes[0]
        if len(shape) != int(self.args[3]):  # SymPy folded the operand (a*r - a*r is 0)
            raise ShapeError(
                f"a reduction of a {self.args[3]}-D array got shape {shape_str(shape)}"
            )
        if self.keepdims:
            return tuple(
                sp.Integer(1) if i in self.axes else d for i, d in enumerate(shape)
            )
        return tuple(d for i, d in enumerate(shape) if i not in self.axes)

    def _gradgen_numpy(self, p, **kwargs):
        name = p.helper(self.helper) if self.helper else f"{p.np}.{self.numpy_name}"
        parts = [p._print(self.args[0])]
        if not self.full:
            axes = self.axes
            parts.append(f"axis={axes[0]}" if len(axes) == 1 else f"axis={axes}")
        if self.keepdims:
            parts.append("keepdims=True")
        return f"{name}({', '.join(parts)})"

    def _gradgen_text(self, p, **kwargs):
        """``name(x, axis 1)``."""
        where = "" if self.full else axis_words(self.axes, False)
        return f"{self.numpy_name or self.helper}({p._print(self.args[0])}{where})"


class ReduceSum(Linear, Reduction):
    """``np.sum(a, axis, keepdims)``."""

    numpy_name = "sum"

    @staticmethod
    def vjp(g, ans, a, axes, keepdims, ndim, *, shape):
        return (expand_reduced(g, axes, keepdims, shape),)

    def _gradgen_text(self, p, **kwargs):
        return p.sum(self.args[0], self.axes, int(self.args[3]), self.full)

    _gradgen_latex = _gradgen_text


def _count(a, axes, shape):
    dims = shape(a)
    return sp.Mul(*[dims[i] for i in axes])


class ReduceMean(Linear, Reduction):
    """``np.mean(a, axis, keepdims)``."""

    numpy_name = "mean"

    @staticmethod
    def vjp(g, ans, a, axes, keepdims, ndim, *, shape):
        return (expand_reduced(g, axes, keepdims, shape) / _count(a, axes, shape),)

    def _gradgen_latex(self, p, **kwargs):
        operand, ndim = self.args[0], int(self.args[3])
        count = _count(operand, self.axes, p.shape) if p.shape(operand) else 1
        total = p.sum(operand, self.axes, ndim, self.full)
        return rf"\frac{{1}}{{{p._print(count)}}} {total}"


class ReduceMax(Reduction):
    """``np.max(a, axis, keepdims)``; ties share the gradient equally, as in autograd."""

    numpy_name = "max"

    @staticmethod
    def vjp(g, ans, a, axes, keepdims, ndim, *, shape):
        mask = IsEqual(a, expand_reduced(ans, axes, keepdims, shape))
        ties = reduce(ReduceSum, mask, axes, ndim, keepdims=True)
        return (expand_reduced(g, axes, keepdims, shape) * mask / ties,)

    @staticmethod
    def jvp(t, ans, a, axes, keepdims, ndim, *, shape):
        # the mean of the tangents of the tied maxima (as the VJP)
        mask = IsEqual(a, expand_reduced(ans, axes, keepdims, shape))
        ties = reduce(ReduceSum, mask, axes, ndim, keepdims=True)
        return reduce(ReduceSum, t[0] * mask / ties, axes, ndim, keepdims)

    def _gradgen_latex(self, p, **kwargs):
        where = "" if self.full else axis_words(self.axes, True)
        return rf"\max{where} {p.paren(self.args[0])}"


class ReduceMin(ReduceMax):
    """``np.min(a, axis, keepdims)``; ties share the gradient equally, as for the maximum
    (the rules, which select the entries equal to the result, are the maximum's)."""

    numpy_name = "min"

    def _gradgen_latex(self, p, **kwargs):
        where = "" if self.full else axis_words(self.axes, True)
        return rf"\min{where} {p.paren(self.args[0])}"


class LogSumExp(Reduction):
    """log(sum(exp(a), axis, keepdims)), computed without overflow by the module's helper;
    the numerics stage makes it from the naive form."""

    helper = "logsumexp"

    @staticmethod
    def vjp(g, ans, a, axes, keepdims, ndim, *, shape):
        # the softmax of a, from the forward value: exp(a - logsumexp(a)) never overflows
        expand = expand_reduced(g, axes, keepdims, shape), expand_reduced(
            ans, axes, keepdims, shape
        )
        return (expand[0] * sp.exp(a - expand[1]),)

    @staticmethod
    def jvp(t, ans, a, axes, keepdims, ndim, *, shape):
        # the softmax-weighted sum of the argument's tangent
        softmax = sp.exp(a - expand_reduced(ans, axes, keepdims, shape))
        return reduce(ReduceSum, t[0] * softmax, axes, ndim, keepdims)

    def _gradgen_latex(self, p, **kwargs):
        inner = rf"\exp\left({p._print(self.args[0])}\right)"
        where = "" if self.full else axis_words(self.axes, True)
        return rf"\log\sum{where} {inner}"


class CumSum(Linear, ir.Structural):
    """``np.cumsum(a, axis)`` of an ``ndim``-dimensional array; with ``reverse`` the sums
    run from the end (its VJP: the adjoint of a running sum is the running sum of the
    adjoints taken backwards). Arguments (a, axis, reverse)."""

    nargs = 3

    @property
    def axis(self) -> int:
        return int(self.args[1])

    @property
    def reverse(self) -> bool:
        return bool(self.args[2])

    def out_shape(self, shapes):
        return shapes[0]

    @staticmethod
    def vjp(g, ans, a, axis, reverse, *, shape):
        return (CumSum(g, axis, static(not reverse)),)

    def _gradgen_numpy(self, p, **kwargs):
        a, axis = p._print(self.args[0]), self.axis
        cumsum = f"{p.np}.{'cumulative_sum' if p.array_api else 'cumsum'}"
        if not self.reverse:
            return f"{cumsum}({a}, axis={axis})"
        flipped = f"{p.np}.flip({a}, axis={axis})"
        return f"{p.np}.flip({cumsum}({flipped}, axis={axis}), axis={axis})"

    def _gradgen_text(self, p, **kwargs):
        name = "reversed cumsum" if self.reverse else "cumsum"
        return f"{name}({p._print(self.args[0])}{axis_words((self.axis,), False)})"

    def _gradgen_latex(self, p, **kwargs):
        name = r"\operatorname{cumsum}"
        name = rf"\overleftarrow{{{name}}}" if self.reverse else name
        where = axis_words((self.axis,), True)
        return rf"{name}{where}\left({p._print(self.args[0])}\right)"


class ExpandDims(Linear, ir.Structural):
    """``np.expand_dims(a, axes)`` of an ``ndim``-dimensional ``a``; axes are positions in
    the result."""

    nargs = 3

    @property
    def axes(self) -> tuple:
        return tuple(int(a) for a in self.args[1])

    def out_shape(self, shapes):
        out = list(shapes[0])
        for axis in self.axes:
            out.insert(axis, sp.Integer(1))
        return tuple(out)

    @staticmethod
    def vjp(g, ans, a, axes, ndim, *, shape):
        return (reduce(ReduceSum, g, axes, len(shape(g))),)

    def _gradgen_numpy(self, p, **kwargs):
        axes = self.axes
        index = [
            "None" if i in axes else ":" for i in range(int(self.args[2]) + len(axes))
        ]
        while index and index[-1] == ":":
            index.pop()
        if p.array_api:  # the standard indexes every axis
            index.append("...")
        return f"{p.postfix(self.args[0])}[{', '.join(index)}]"

    def _gradgen_text(self, p, **kwargs):  # broadcasting is implicit in the formulas
        return p._print(self.args[0])

    _gradgen_latex = _gradgen_text


def expand_dims(a, axes, ndim: int) -> sp.Expr:
    return (
        ExpandDims(a, static(sorted(int(x) for x in axes)), static(ndim)) if axes else a
    )


class IsEqual(ir.Structural):
    """Elementwise ``a == b`` as 0/1 of the function's float type; only the maximum's
    rules make it, and it has no gradient."""

    nargs = 2
    array_args = 2
    precedence = PRECEDENCE["Atom"]

    def out_shape(self, shapes):
        return ir.broadcast_shapes(*shapes)

    @staticmethod
    def vjp(g, ans, a, b, *, shape):
        return (None, None)

    @staticmethod
    def jvp(t, ans, a, b, *, shape):
        return None

    def _gradgen_numpy(self, p, **kwargs):
        # a float mask: NumPy refuses -mask and mask - mask on booleans
        a, b = (p._print(arg) for arg in self.args)
        if p.array_api:
            return f"{p.np}.astype({a} == {b}, {p.dtype})"
        return f"({a} == {b}).astype({p.dtype})"

    def _gradgen_text(self, p, **kwargs):
        return f"[{p._print(self.args[0])} = {p._print(self.args[1])}]"

    def _gradgen_latex(self, p, **kwargs):
        a, b = (p._print(x) for x in self.args)
        return rf"\left[{a} = {b}\right]"


# --- tracing: the NumPy calls that make these ------------------------------------------


def traced_reduce(cls, a, axis, keepdims):
    """The reduction ``cls`` of the tracer ``a`` over NumPy's ``axis``, as a node."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise a.session.error("keepdims must be True or False")
    over = axes_of(a, axis)
    if not over:
        return a
    s = a.session
    expr = reduce(cls, s.materialise(a), over, len(a.shape_), bool(keepdims))
    return s.structural(expr, [a])


@dispatch.method("sum")
@dispatch.numpy(
    np.sum,
    note="axis (an int, negative, or a tuple), keepdims; also of a list of arrays",
    section="Reductions and products",
)
def sum_(a, axis=None, keepdims=False):
    return traced_reduce(ReduceSum, a, axis, keepdims)


@dispatch.method("mean")
@dispatch.numpy(np.mean, note="axis, keepdims", section="Reductions and products")
def mean(a, axis=None, keepdims=False):
    return traced_reduce(ReduceMean, a, axis, keepdims)


@dispatch.method("max")
@dispatch.numpy(np.amax, note="as np.max", section="Reductions and products")
@dispatch.numpy(
    np.max,
    note="axis, keepdims; ties share the gradient equally",
    section="Reductions and products",
)
def max_(a, axis=None, keepdims=False):
    return kept_mask([a], traced_reduce(ReduceMax, a, axis, keepdims))


@dispatch.method("min")
@dispatch.numpy(np.amin, note="as np.min", section="Reductions and products")
@dispatch.numpy(
    np.min,
    note="axis, keepdims; ties share the gradient equally",
    section="Reductions and products",
)
def min_(a, axis=None, keepdims=False):
    return kept_mask([a], traced_reduce(ReduceMin, a, axis, keepdims))


def logsumexp(a, axis=None, keepdims=False):
    """``gradgen.functions.logsumexp``, traced: the stable form itself."""
    return traced_reduce(LogSumExp, a, axis, keepdims)


dispatch.STABLE["logsumexp"] = logsumexp


@dispatch.numpy(
    np.expand_dims,
    note="axis (an int or a tuple)",
)
def expand_dims_(a, axis):
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = len(a.shape_) + len(items)
    over = sorted(axis_of(a, k, ndim) for k in items)
    s = a.session
    return s.structural(expand_dims(s.materialise(a), over, len(a.shape_)), [a])


def running_axis(a, axis):
    """The array a running operation (np.cumsum, np.cumprod) goes along, and its axis:
    for axis=None, the flattened array's only one."""
    if axis is None:
        a = dispatch.METHODS["reshape"](a, (-1,))  # a reshape: shapes.py traces it
        axis = 0
    return a, axis_of(a, axis, len(a.shape_))


@dispatch.method("cumsum")
@dispatch.numpy(
    np.cumsum,
    note="axis (None: of the flattened array); the gradient is the reversed cumsum",
    section="Reductions and products",
)
def cumsum(a, axis=None):
    a, k = running_axis(a, axis)
    s = a.session
    return s.structural(CumSum(s.materialise(a), static(k), static(False)), [a])
