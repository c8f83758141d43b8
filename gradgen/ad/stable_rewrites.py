"""Numerics: naive forms rewritten into numerically stable ones, before differentiation.

Takes a traced ``ir.Graph``; rewrites its nodes in place and returns the keys of the rewrites
it applied (``REWRITES`` describes each; the generated module lists them). Written in one
expression or across the user's named steps, these forms overflow, lose every digit or give
NaN at large arguments, and so do their derivatives:

- 1/(1 + exp(-x)) becomes ``Sigmoid(x)``, and 1 - sigmoid(x) becomes sigmoid(-x);
- log(1 + exp(x)) becomes ``Softplus(x)``; log(sigmoid(x)) becomes -softplus(-x);
- log(1 + x) becomes log1p(x), exp(x) - 1 becomes expm1(x), log(exp(x)) becomes x;
- log(sum(exp(x))) becomes a ``LogSumExp`` node, x - logsumexp(x) a ``LogSoftmax`` node,
  and exp(x) / sum(exp(x)) (softmax) becomes exp(log_softmax(x)).

A sigmoid split by hand into separately named steps (f = -z, g = exp(f), h = 1 + g,
i = 1/h) is left as written: the user asked for those steps. Knows no calculus.
"""

from __future__ import annotations

import sympy as sp

from gradgen import ir, ops
from gradgen.ops import NormRoot, Sigmoid, Softplus, expm1, log1p

REWRITES = {
    "sigmoid": "1/(1 + exp(-x)) -> sigmoid(x), computed without overflow",
    "complement": "1 - sigmoid(x) -> sigmoid(-x)",
    "softplus": "log(1 + exp(x)) -> np.logaddexp(0, x)",
    "log_sigmoid": "log(sigmoid(x)) -> -np.logaddexp(0, -x)",
    "softplus_difference": "softplus(x) - softplus(-x) -> x",
    "log1p": "log(1 + x) -> np.log1p(x)",
    "expm1": "exp(x) - 1 -> np.expm1(x)",
    "log_exp": "log(exp(x)) -> x",
    "logsumexp": "log(sum(exp(x))) -> logsumexp(x), with the maximum factored out",
    "log_softmax": "x - logsumexp(x) -> log_softmax(x), accurate for the largest x too",
    "softmax": "exp(x) / sum(exp(x)) -> exp(log_softmax(x))",
    "norm": "sqrt(sum(x**2)) -> a norm whose gradient at 0 is 0, not nan",
}


def _one_plus(expr: sp.Expr) -> sp.Expr | None:
    """``u`` when ``expr`` is 1 + u."""
    if isinstance(expr, sp.Add) and sp.S.One in expr.args:
        return sp.Add(*[t for t in expr.args if t != sp.S.One])
    return None


def _exp_argument(expr: sp.Expr) -> sp.Expr | None:
    return expr.args[0] if isinstance(expr, sp.exp) else None


class _Rewriter:
    """Bottom-up rewriting of elementwise expressions; ``defs`` looks through the user's
    named steps (a symbol to its node's expression)."""

    def __init__(self, graph: ir.Graph):
        self.graph = graph
        self.applied: set[str] = set()
        self._memo: dict = {}

    def definition(self, expr: sp.Expr) -> sp.Expr:
        """The expression behind a node symbol of an elementwise node, else ``expr``."""
        node = self.graph.by_sym.get(expr)
        if node is not None and node.kind == "elementwise":
            return node.expr
        return expr

    def squares(self, expr: sp.Expr) -> bool:
        """Whether ``expr`` is a sum of squares (so never negative)."""
        node = self.graph.by_sym.get(expr)
        if node is not None and isinstance(node.expr, ops.ReduceSum):
            return self.squares(node.expr.args[0])
        expr = self.definition(expr)
        terms = sp.Add.make_args(expr)
        return all(isinstance(t, sp.Pow) and t.exp == 2 for t in terms)

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom or isinstance(expr, ir.Structural):
            return expr
        if expr not in self._memo:
            args = [self.rewrite(a) for a in expr.args]
            new = expr.func(*args) if args != list(expr.args) else expr
            self._memo[expr] = self._local(new)
        return self._memo[expr]

    def _use(self, key: str, expr: sp.Expr) -> sp.Expr:
        self.applied.add(key)
        return expr

    def _local(self, e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Pow) and e.exp == -1:
            v = _exp_argument(_one_plus(e.base) or sp.S.Zero)
            if v is not None:
                return self._use("sigmoid", Sigmoid(-v))
        if isinstance(e, sp.Pow) and e.exp == sp.S.Half and self.squares(e.base):
            return self._use("norm", NormRoot(e.base))
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Add):
            return self._add(e)
        if isinstance(e, (sp.log, log1p)):
            return self._log(e)
        return e

    def _mul(self, e: sp.Mul) -> sp.Expr:
        """exp(x) * sigmoid(-x), i.e. exp(x) / (1 + exp(x)), is sigmoid(x)."""
        factors = list(e.args)
        for f in factors:
            if isinstance(f, Sigmoid) and sp.exp(-f.args[0]) in factors:
                factors.remove(f)
                factors.remove(sp.exp(-f.args[0]))
                return self._use("sigmoid", sp.Mul(Sigmoid(-f.args[0]), *factors))
        return e

    def _add(self, e: sp.Add) -> sp.Expr:
        terms = list(e.args)
        for t in terms:
            if isinstance(t, Softplus) and -Softplus(-t.args[0]) in terms:
                terms.remove(t)
                terms.remove(-Softplus(-t.args[0]))
                return self._use("softplus_difference", sp.Add(t.args[0], *terms))
            if sp.S.One in terms and isinstance(-t, Sigmoid):
                terms.remove(sp.S.One)
                terms.remove(t)
                return self._use("complement", sp.Add(Sigmoid(-(-t).args[0]), *terms))
            if sp.S.NegativeOne in terms and isinstance(t, sp.exp):
                terms.remove(sp.S.NegativeOne)
                terms.remove(t)
                return self._use("expm1", sp.Add(expm1(t.args[0]), *terms))
        return e

    def _log(self, e: sp.Expr) -> sp.Expr:
        a = e.args[0]
        if isinstance(e, log1p):
            v = _exp_argument(a)
            return e if v is None else self._use("softplus", Softplus(v))
        rest = _one_plus(a)
        if rest is not None:
            v = _exp_argument(rest)
            if v is not None:
                return self._use("softplus", Softplus(v))
            s = self.definition(-rest)  # log(1 - s), s = sigmoid(v)
            if isinstance(s, Sigmoid):
                return self._use("log_sigmoid", -Softplus(s.args[0]))
            return self._use("log1p", log1p(rest))
        d = self.definition(a)
        if isinstance(d, Sigmoid):
            return self._use("log_sigmoid", -Softplus(-d.args[0]))
        if isinstance(d, sp.exp) and d is not a:
            return self._use("log_exp", d.args[0])
        return e


class _Reductions:
    """log(sum(exp(u))), u - logsumexp(u) and exp(u) / sum(exp(u)) over the graph: new
    ``LogSumExp`` and ``LogSoftmax`` nodes."""

    def __init__(self, graph: ir.Graph, rewriter: _Rewriter):
        self.graph = graph
        self.rewriter = rewriter
        self.lse: dict = {}  # ReduceSum symbol -> its LogSumExp symbol
        self.of_lse: dict = {}  # LogSumExp symbol -> (the sum node, u)
        self.log_softmax: dict = {}  # LogSumExp symbol -> its LogSoftmax symbol

    def exp_sum(self, sym) -> tuple[ir.Node, sp.Expr] | None:
        """(the sum node, u) when ``sym`` is sum(exp(u))."""
        node = self.graph.by_sym.get(sym)
        if node is None or not isinstance(node.expr, ops.ReduceSum):
            return None
        inner = self.rewriter.definition(node.expr.args[0])
        u = _exp_argument(inner)
        return None if u is None else (node, u)

    def add_after(self, node: ir.Node, expr: sp.Expr, total: ir.Node) -> sp.Symbol:
        """A new node right after ``node``, traced where the sum ``total`` was."""
        kind = "structural" if isinstance(expr, ir.Structural) else "elementwise"
        shape = ir.shape_of(expr, self.graph.shapes)
        return self.graph.add(kind, expr, shape, total.site, at=node.index + 1).sym

    def logsumexp(self, total: ir.Node, u: sp.Expr) -> sp.Symbol:
        if total.sym not in self.lse:
            if not isinstance(u, sp.Symbol):
                u = self.add_after(total, u, total)
            after = max(total, self.graph.by_sym[u], key=lambda n: n.index)
            lse = self.add_after(after, ops.LogSumExp(u, *total.expr.args[1:]), total)
            self.lse[total.sym] = lse
            self.of_lse[lse] = (total, u)
        return self.lse[total.sym]

    def log_softmax_of(self, lse: sp.Symbol) -> sp.Symbol | None:
        """The LogSoftmax of the u a LogSumExp reduces, when it keeps u's shape."""
        total, u = self.of_lse[lse]
        if not (total.expr.keepdims or total.expr.full):
            return None
        if lse not in self.log_softmax:
            _, axes, _, ndim = total.expr.args
            expr = ops.LogSoftmax(u, axes, ndim)
            self.log_softmax[lse] = self.add_after(self.graph.by_sym[lse], expr, total)
            self.rewriter.applied.add("log_softmax")
        return self.log_softmax[lse]

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom or isinstance(expr, ir.Structural):
            return expr
        expr = expr.func(*[self.rewrite(a) for a in expr.args])
        if isinstance(expr, sp.log):
            found = self.exp_sum(expr.args[0])
            if found:
                self.rewriter.applied.add("logsumexp")
                return self.logsumexp(*found)
        if isinstance(expr, sp.Add):
            return self._log_softmax(expr)
        if isinstance(expr, sp.Mul):
            return self._softmax(expr)
        return expr

    def _log_softmax(self, e: sp.Add) -> sp.Expr:
        terms = list(e.args)
        for lse in [s for s in self.of_lse if -s in terms]:
            u = self.of_lse[lse][1]
            found = self.log_softmax_of(lse) if u in terms else None
            if found is not None:
                terms.remove(u)
                terms.remove(-lse)
                return sp.Add(found, *terms)
        return e

    def _softmax(self, e: sp.Mul) -> sp.Expr:
        factors = list(e.args)
        for f in factors:
            if not (isinstance(f, sp.Pow) and f.exp == -1):
                continue
            found = self.exp_sum(f.base)
            if not found:
                continue
            total, u = found
            numerator = next(
                (g for g in factors if self.rewriter.definition(g) == sp.exp(u)), None
            )
            if numerator is None or not (total.expr.keepdims or total.expr.full):
                continue
            factors.remove(f)
            factors.remove(numerator)
            self.rewriter.applied.add("softmax")
            log_softmax = self.log_softmax_of(self.logsumexp(total, u))
            return sp.Mul(sp.exp(log_softmax), *factors)
        return e


def tidy(expr: sp.Expr) -> sp.Expr:
    """The elementwise rewrites applied to one expression (a derivative, say)."""
    return _Rewriter(ir.Graph()).rewrite(expr)


def stabilise(graph: ir.Graph) -> list[str]:
    """Rewrite every elementwise node of ``graph`` in place; the rewrites applied, in
    ``REWRITES`` order."""
    rewriter = _Rewriter(graph)
    reductions = _Reductions(graph, rewriter)
    for node in list(graph.nodes):
        if node.kind == "elementwise":
            node.expr = reductions.rewrite(rewriter.rewrite(node.expr))
    return [key for key in REWRITES if key in rewriter.applied]
