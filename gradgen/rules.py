"""Derivative rules.

``VJP`` is the table of structural reverse-mode rules: ``rule(g, ans, *args, shape)``
returns, for each array argument, its vector-Jacobian product with the incoming adjoint
``g`` (``None`` where there is no gradient). ``ans`` is the node's own value so a rule can
reuse it; ``shape(e)`` gives an expression's shape. Broadcasting and accumulation are not
done here: the reverse sweep un-broadcasts and sums contributions once.

``JVP`` is its forward-mode twin: ``rule(t, ans, *args, shape)`` returns the tangent of a
structural node, given ``t``, the tangents of its array arguments (``None`` for a zero
tangent; the forward sweep broadcasts each to its argument's shape). Every structural
operation needs a line in both tables; a missing one is an error naming the operation. Most
JVP lines are one of three: ``_linear(Op)`` (linear in its first argument: transposes,
reductions, reshapes, indexing), ``_linear_all(Op)`` (linear in every array argument:
concatenation) and ``_bilinear(Op)`` (products).

``elementwise_partial`` gives the partial derivative of an elementwise node's scalar
expression: SymPy's ``diff``, rewritten through the node's own value where that is shorter
(sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2), computed once per expression shape.
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.core.function import AppliedUndef

from . import ir
from .errors import GradgenError
from .numerics import tidy
from .indexing import Concat, Index, Reshape, Scatter, Stack, Update, encode_key


def _expand(g, axes, keepdims, shape):
    """Re-insert reduced axes into ``g`` so it broadcasts against the reduction's input;
    nothing to do for a scalar or leading axes (NumPy aligns shapes from the right)."""
    if keepdims or shape(g) == () or list(axes) == list(range(len(axes))):
        return g
    return ir.expand_dims(g, axes, len(shape(g)))


def _count(a, axes, shape):
    dims = shape(a)
    return sp.Mul(*[dims[i] for i in axes])


def _sum(g, ans, a, axes, keepdims, ndim, *, shape):
    return (_expand(g, axes, keepdims, shape),)


def _mean(g, ans, a, axes, keepdims, ndim, *, shape):
    return (_expand(g, axes, keepdims, shape) / _count(a, axes, shape),)


def _max(g, ans, a, axes, keepdims, ndim, *, shape):
    # Ties share the gradient equally, as in autograd.
    mask = ir.IsEqual(a, _expand(ans, axes, keepdims, shape))
    ties = ir.reduce(ir.ReduceSum, mask, axes, ndim, keepdims=True)
    return (_expand(g, axes, keepdims, shape) * mask / ties,)


def _logsumexp(g, ans, a, axes, keepdims, ndim, *, shape):
    # The softmax of a, from the forward value: exp(a - logsumexp(a)) never overflows.
    expand = _expand(g, axes, keepdims, shape), _expand(ans, axes, keepdims, shape)
    return (expand[0] * sp.exp(a - expand[1]),)


def _log_softmax_grad(h, ans, g, log_p, axes, ndim, *, shape):
    # the map g -> g - p sum(g) is linear in g; its transpose is h -> h - sum(h p)
    def total(x):
        return ir.reduce(ir.ReduceSum, x, axes, int(ndim), keepdims=True)

    p = sp.exp(log_p)
    return (h - total(h * p), -h * p * total(g))


def _matmul(g, ans, a, b, *, shape):
    rank = (len(shape(a)), len(shape(b)))
    if rank == (2, 2):
        return ir.MatMul(g, ir.Transpose(b)), ir.MatMul(ir.Transpose(a), g)
    if rank == (1, 2):
        return ir.MatMul(b, g), ir.Outer(a, g)
    if rank == (2, 1):
        return ir.Outer(g, b), ir.MatMul(ir.Transpose(a), g)
    return g * b, g * a


def _concat(g, ans, *args, shape):
    *arrays, axis = args
    lead, offset, out = (slice(None),) * int(axis), sp.Integer(0), []
    for k, a in enumerate(arrays):
        end = offset + shape(a)[int(axis)]
        part = slice(offset or None, end if k < len(arrays) - 1 else None)
        out.append(Index(g, encode_key(lead + (part,))))
        offset = end
    return out


def _stack(g, ans, *args, shape):
    *arrays, axis = args
    lead = (slice(None),) * int(axis)
    return [Index(g, encode_key(lead + (i,))) for i in range(len(arrays))]


def _trace(g, ans, a, *, shape):
    n, m = shape(a)
    return (g * ir.Eye(n, m),)


VJP = {
    ir.MatMul: _matmul,
    ir.Outer: lambda g, ans, a, b, *, shape: (ir.MatMul(g, b), ir.MatMul(a, g)),
    ir.Transpose: lambda g, ans, a, *, shape: (ir.Transpose(g),),
    ir.ReduceSum: _sum,
    ir.ReduceMean: _mean,
    ir.ReduceMax: _max,
    ir.LogSumExp: _logsumexp,
    ir.LogSoftmax: lambda g, ans, a, axes, ndim, *, shape: (
        ir.LogSoftmaxGrad(g, ans, axes, ndim),
    ),
    ir.LogSoftmaxGrad: _log_softmax_grad,
    ir.TraceOp: _trace,
    Index: lambda g, ans, a, key, *, shape: (Scatter(g, a, key),),
    Scatter: lambda g, ans, value, like, key, *, shape: (Index(g, key), None),
    Update: lambda g, ans, a, value, key, *, shape: (Update(g, 0, key), Index(g, key)),
    Concat: _concat,
    Stack: _stack,
    Reshape: lambda g, ans, a, dims, *, shape: (Reshape(g, sp.Tuple(*shape(a))),),
    ir.ExpandDims: lambda g, ans, a, axes, ndim, *, shape: (
        ir.reduce(ir.ReduceSum, g, axes, len(shape(g))),
    ),
    ir.BroadcastTo: lambda g, ans, a, dims, *, shape: (g,),
    ir.FullLike: lambda g, ans, a, like, *, shape: (g, None),
    ir.IsEqual: lambda g, ans, a, b, *, shape: (None, None),
    ir.Eye: lambda g, ans, n, m, *, shape: (),
}

# Reductions take a scalar adjoint as it is: it broadcasts to their input unchanged.
ACCEPTS_SCALAR_ADJOINT = {ir.ReduceSum, ir.ReduceMean, ir.ReduceMax, ir.LogSumExp}


# --- Forward mode (JVP) -------------------------------------------------------------------


def _linear(op):
    """A linear operation's tangent is the operation applied to its argument's tangent (the
    first argument; the others are static, or, for FullLike, only a shape)."""
    return lambda t, ans, a, *static, shape: None if t[0] is None else op(t[0], *static)


def _zeros(shape) -> sp.Expr:
    return ir.broadcast_to(sp.Integer(0), shape) if shape else sp.Integer(0)


def _linear_all(op):
    """Linear in every array argument (a concatenation, a stack): the operation applied to
    the tangents, with zeros for the arguments that have none."""

    def rule(t, ans, *args, shape):
        zero = [_zeros(shape(a)) for a in args[: len(t)]]
        tangents = [z if x is None else x for x, z in zip(t, zero)]
        return op(*tangents, *args[len(t) :])

    return rule


def _bilinear(op):
    """A product's tangent: d(a . b) = da . b + a . db."""

    def rule(t, ans, a, b, *, shape):
        terms = [
            op(t[0], b) if t[0] is not None else 0,
            op(a, t[1]) if t[1] is not None else 0,
        ]
        return sp.Add(*terms)

    return rule


def _logsumexp_jvp(t, ans, a, axes, keepdims, ndim, *, shape):
    # The softmax-weighted sum of the argument's tangent.
    softmax = sp.exp(a - _expand(ans, axes, keepdims, shape))
    return ir.reduce(ir.ReduceSum, t[0] * softmax, axes, ndim, keepdims)


def _log_softmax_jvp(t, ans, a, axes, ndim, *, shape):
    # log_softmax(a) = a - logsumexp(a): its tangent is t - sum(t * softmax).
    total = ir.reduce(ir.ReduceSum, t[0] * sp.exp(ans), axes, int(ndim), keepdims=True)
    return t[0] - total


def _log_softmax_grad_jvp(t, ans, g, log_p, axes, ndim, *, shape):
    # g - p * sum(g) with p = exp(log_p): linear in g, and d/d log_p = -p * sum(g).
    terms = [0 if t[0] is None else ir.LogSoftmaxGrad(t[0], log_p, axes, ndim)]
    if t[1] is not None:
        total = ir.reduce(ir.ReduceSum, g, axes, int(ndim), keepdims=True)
        terms.append(-sp.exp(log_p) * t[1] * total)
    return sp.Add(*terms)


def _max_jvp(t, ans, a, axes, keepdims, ndim, *, shape):
    # The tangent of the maximum is the mean of the tangents of the tied maxima (as the VJP).
    mask = ir.IsEqual(a, _expand(ans, axes, keepdims, shape))
    ties = ir.reduce(ir.ReduceSum, mask, axes, ndim, keepdims=True)
    return ir.reduce(ir.ReduceSum, t[0] * mask / ties, axes, ndim, keepdims)


JVP = {
    ir.MatMul: _bilinear(ir.MatMul),
    ir.Outer: _bilinear(ir.Outer),
    ir.Transpose: _linear(ir.Transpose),
    ir.ReduceSum: _linear(ir.ReduceSum),
    ir.ReduceMean: _linear(ir.ReduceMean),
    ir.ReduceMax: _max_jvp,
    ir.LogSumExp: _logsumexp_jvp,
    ir.LogSoftmax: _log_softmax_jvp,
    ir.LogSoftmaxGrad: _log_softmax_grad_jvp,
    ir.TraceOp: _linear(ir.TraceOp),
    Index: _linear(Index),
    Scatter: _linear(Scatter),
    Update: _linear_all(Update),
    Concat: _linear_all(Concat),
    Stack: _linear_all(Stack),
    Reshape: _linear(Reshape),
    ir.ExpandDims: _linear(ir.ExpandDims),
    ir.BroadcastTo: _linear(ir.BroadcastTo),
    ir.FullLike: _linear(ir.FullLike),
    ir.IsEqual: lambda t, ans, a, b, *, shape: None,
    ir.Eye: lambda t, ans, n, m, *, shape: None,
}


# --- Elementwise partial derivatives ----------------------------------------------------

_CACHE: dict = {}
_OP_COST = {"ADD": 1, "SUB": 1, "MUL": 1, "DIV": 2, "NEG": 1, "POW": 2}


def _cost(expr: sp.Expr) -> int:
    """Operation count, with function calls (exp, tanh, ...) weighted as expensive."""
    visual = sp.count_ops(expr, visual=True)
    if visual == 0:
        return 0
    return int(visual.subs({s: _OP_COST.get(s.name, 8) for s in visual.free_symbols}))


def _absorb_sign(expr: sp.Expr) -> sp.Expr:
    """-h*(h - 1) -> h*(1 - h): move a leading minus sign into a sum factor."""
    if isinstance(expr, sp.Mul) and expr.could_extract_minus_sign():
        for factor in expr.args:
            if isinstance(factor, sp.Add):
                negated = sp.Add(*[-term for term in factor.args])
                return (-expr / factor) * negated
    return expr


def _agrees(d, candidate, expr, value, wrt, symbols) -> bool:
    """Check a rewritten derivative against the original at random points."""
    rng = random.Random(0)
    dims = sorted(
        (s for s in expr.free_symbols if ir.is_dim_symbol(s)), key=sp.default_sort_key
    )
    for _ in range(3):
        point = {s: sp.Float(rng.uniform(0.15, 0.85)) for s in symbols}
        point.update({s: sp.Integer(rng.randint(2, 5)) for s in dims})  # from x.shape
        try:
            reference = d.evalf(subs=point)
            point[value] = expr.evalf(subs=point)
            got = candidate.evalf(subs=point)
        except (TypeError, ValueError):
            # a select's condition on a value not real at this point: SymPy refuses to
            # order it (TypeError) or to take its Max/Min (ValueError, "not comparable")
            return False
        if not (reference.is_real and got.is_real):
            return False
        if abs(complex(reference) - complex(got)) > 1e-9 * (
            1 + abs(complex(reference))
        ):
            return False
    return True


def _root_of(expr: sp.Expr, value: sp.Symbol) -> bool:
    """Whether ``expr`` takes a fractional power of ``value``: SymPy's subs writes
    Max(0, -u)**2 as value**(2/3) when value = Max(0, -u)**3. Equal, but its derivative
    (a second-order term) is 0 * inf = nan where value is 0."""
    return any(p.base == value and not p.exp.is_integer for p in expr.atoms(sp.Pow))


def _through_value(
    d: sp.Expr, expr: sp.Expr, value: sp.Symbol, wrt: sp.Symbol, symbols
) -> sp.Expr:
    """The shortest of ``d`` and its forms rewritten through the node's value ``value``."""
    candidates = [d]
    direct = d.subs(expr, value)
    candidates.append(direct)
    if not expr.has(sp.Piecewise):
        for kernel in sorted(expr.atoms(sp.exp), key=sp.default_sort_key):
            u = sp.Dummy("u")
            reduced = expr.subs(kernel, u)
            if not kernel.has(wrt) or reduced.has(wrt):
                continue
            if not reduced.is_rational_function(u):  # solve could recurse without end
                continue
            try:
                solutions = sp.solve(sp.Eq(reduced, value), u)
            except NotImplementedError:  # SymPy cannot invert Min, Max, Abs ...
                continue
            if len(solutions) == 1:
                solved = sp.factor(direct.subs(kernel, solutions[0]))
                candidates.append(_absorb_sign(solved))
    best = d
    for candidate in candidates[1:]:
        if (
            candidate != best
            and _cost(candidate) < _cost(best)
            and not _root_of(candidate, value)
            and _agrees(d, candidate, expr, value, wrt, symbols)
        ):
            best = candidate
    return best


class _RealAbs(sp.Abs):
    """|a| of a real a, as every traced value is: d|a| = sign(a) da. SymPy's Abs goes through
    re(a) and im(a) when it cannot tell that a is real (asin(u), sqrt(x), x**p), which gives
    atan2 terms and divisions by a."""

    def _eval_derivative(self, x):
        return sp.sign(self.args[0]) * sp.diff(self.args[0], x)


class _RealSign(sp.sign):
    """sign(a) of a real a (d|a| = sign(a) da, differentiated again): flat almost
    everywhere, so its derivative is 0, also where SymPy cannot tell that a is real (it
    leaves d sign(asin(u)) unevaluated)."""

    def _eval_derivative(self, x):
        return sp.Integer(0)


def elementwise_partial(expr: sp.Expr, wrt: sp.Symbol, value: sp.Symbol) -> sp.Expr:
    """d expr / d wrt for an elementwise node whose value symbol is ``value``."""
    names = sorted(
        (s for s in expr.free_symbols if not ir.is_dim_symbol(s) and s != wrt),
        key=sp.default_sort_key,
    )
    canon = {s: sp.Symbol(f"_gg_p{i}", real=True) for i, s in enumerate(names)}
    cw, cv = sp.Symbol("_gg_wrt", real=True), sp.Symbol("_gg_value", real=True)
    canon[wrt] = cw
    key = expr.xreplace(canon)
    if key not in _CACHE:
        # A step (Heaviside, sign) is flat almost everywhere: its derivative is 0, as in
        # autograd and JAX, not DiracDelta. Only second derivatives meet this.
        real = key.replace(sp.Abs, _RealAbs).replace(sp.sign, _RealSign)
        d = sp.diff(real, cw).replace(_RealAbs, sp.Abs).replace(_RealSign, sp.sign)
        d = tidy(d.replace(sp.DiracDelta, lambda *args: sp.Integer(0)))
        unknown = d.atoms(sp.Derivative) | d.atoms(AppliedUndef)
        if unknown:
            raise GradgenError(f"no derivative rule for {sorted(map(str, unknown))[0]}")
        symbols = [cw] + [canon[s] for s in names]
        _CACHE[key] = _through_value(d, key, cv, cw, symbols)
    back = {c: s for s, c in canon.items()}
    back[cv] = value
    return _CACHE[key].xreplace(back)
