"""The forward (tangent) sweep: forward-mode differentiation of straight-line IR code.

Takes statements (a target's forward statements, or its forward and backward statements
together: the backward pass is IR too) and tangent seeds for some symbols; returns one
tangent statement per statement whose value depends on a seed, in the same order, each in
the block of the statement it differentiates, and the map from each symbol to its tangent.

``primitive`` first gives every structural operation nested in a statement its own
statement, so that each statement is either one structural operation over symbols (its
tangent comes from its operation's JVP rule, ``gradgen.ops``) or elementwise SymPy math over symbols (its tangent is
the sum of partial derivative times tangent over its operands, the partials coming from
``elementwise_partial`` one node at a time, never from differentiating a whole expression),
or a sum of ``Scatter``s and one symbol, which is printed as one array filled in slot by
slot and so is kept whole (its tangent is the sum of the terms' tangents).
A tangent may be smaller than its value (broadcasting); it is broadcast where a structural
operation reads it.
"""

from __future__ import annotations

import contextlib

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.partials import elementwise_partial
from gradgen.ad.reverse import fold_selects
from gradgen.errors import GradgenError
from gradgen.ops import Scatter


class _Splitter:
    """Rewrites statements so each holds at most one structural operation."""

    def __init__(self, graph: ir.Graph):
        self.graph = graph
        self.memo: dict = {}
        self.out: list[ir.Stmt] = []

    def emit(self, expr: sp.Expr, like: ir.Stmt) -> sp.Symbol:
        sym = self.graph.new_symbol("s")
        self.graph.shapes[sym] = ir.shape_of(expr, self.graph.shapes)
        self.out.append(ir.Stmt(sym, expr, "temp", None, like.block, like.section))
        return sym

    def operand(self, expr: sp.Expr, like: ir.Stmt) -> sp.Expr:
        """A structural operation's array argument: a symbol or a number (or the sizes
        a loop takes, as they are)."""
        expr = self.split(expr, like)
        if isinstance(expr, (sp.Symbol, sp.Tuple)) or expr.is_Number:
            return expr
        return self.emit(expr, like)

    def structural(self, expr: ir.Structural, like: ir.Stmt) -> sp.Expr:
        k = expr.array_args
        arrays = [self.operand(a, like) for a in expr.args[:k]]
        return expr.func(*arrays, *expr.args[k:])

    def split(self, expr: sp.Expr, like: ir.Stmt) -> sp.Expr:
        if expr in self.memo:
            return self.memo[expr]
        if isinstance(expr, ir.Structural):
            rebuilt = self.structural(expr, like)
            result = (
                self.emit(rebuilt, like)
                if isinstance(rebuilt, ir.Structural)
                else rebuilt
            )
        elif expr.args and not expr.is_Atom:
            args = [self.split(a, like) for a in expr.args]
            result = expr.func(*args) if args != list(expr.args) else expr
        else:
            result = expr
        self.memo[expr] = result
        return result

    def statement(self, stmt: ir.Stmt) -> None:
        if isinstance(stmt.expr, ir.Structural):
            expr = self.structural(stmt.expr, stmt)
        elif _scatters(stmt.expr):  # printed as one array with slots filled in: keep it
            scattered, rest = _scatters(stmt.expr)
            terms = [self.structural(t, stmt) for t in scattered]
            expr = sp.Add(*terms, self.operand(sp.Add(*rest), stmt))
        else:
            expr = self.split(stmt.expr, stmt)
        self.out.append(stmt if expr == stmt.expr else stmt.with_expr(expr))


def _scatters(expr: sp.Expr) -> tuple[list, list] | None:
    """The ``Scatter`` terms of a sum that has some, and its other terms."""
    if not isinstance(expr, sp.Add):
        return None
    scattered = [t for t in expr.args if isinstance(t, Scatter)]
    rest = [t for t in expr.args if not isinstance(t, Scatter)]
    return (scattered, rest) if scattered else None


def _into_selects(partial: sp.Expr, tangent: sp.Expr) -> sp.Expr:
    """partial * tangent, with the tangent moved into the branches of a select: where the
    select takes 0, the branch not taken may have an invalid tangent (np.where(s > 0,
    np.log(s), y) at s < 0), and 0 * nan is nan; np.where(s > 0, t / s, 0) is not."""
    if isinstance(partial, sp.Piecewise):
        return sp.Piecewise(*[(e * tangent, c) for e, c in partial.args])
    return partial * tangent


@contextlib.contextmanager
def _located(stmt: ir.Stmt):
    """An error without a place, from a rule: at the model line of ``stmt``."""
    try:
        yield
    except GradgenError as exc:
        site = stmt.block
        raise exc.located(
            site.path if site else None, site.line if site else None
        ) from None


def primitive(stmts: list[ir.Stmt], graph: ir.Graph) -> list[ir.Stmt]:
    """The same computation with every structural operation in a statement of its own."""
    splitter = _Splitter(graph)
    for stmt in stmts:
        splitter.statement(stmt)
    return splitter.out


class TangentSweep:
    """Tangents of primitive statements, given tangents (seeds) for some symbols."""

    def __init__(self, graph: ir.Graph, seeds: dict):
        self.graph = graph
        self.tangent: dict = dict(seeds)
        self.statements: list[ir.Stmt] = []

    def shape(self, expr):
        return ir.shape_of(expr, self.graph.shapes)

    def _elementwise(self, stmt: ir.Stmt) -> sp.Expr:
        active = sorted(
            (s for s in stmt.expr.free_symbols if s in self.tangent),
            key=sp.default_sort_key,
        )
        return fold_selects(
            sp.Add(
                *[
                    _into_selects(
                        elementwise_partial(stmt.expr, s, stmt.target),
                        self.tangent[s],
                    )
                    for s in active
                ]
            )
        )

    def _structural(self, stmt: ir.Stmt) -> sp.Expr | None:
        expr = stmt.expr
        if not isinstance(expr, ir.Structural):  # a symbol or a number
            return self.tangent.get(expr)
        arrays = expr.args[: expr.array_args]
        t = [self.tangent.get(a) if isinstance(a, sp.Symbol) else None for a in arrays]
        if all(x is None for x in t):
            return None
        with _located(stmt):
            return ops.jvp(expr, t, stmt.target, self.shape)

    def _scattered(self, stmt: ir.Stmt) -> sp.Expr:
        """A sum of ``Scatter`` terms and one symbol (or number): the sum of their
        tangents, itself such a sum."""
        terms = [self._structural(stmt.with_expr(t)) for t in stmt.expr.args]
        return sp.Add(*[t for t in terms if t is not None])

    def statement(self, stmt: ir.Stmt) -> None:
        if isinstance(stmt.expr, ir.Structural):
            t = self._structural(stmt)
        elif _scatters(stmt.expr):
            t = self._scattered(stmt)
        else:
            with _located(stmt):
                t = self._elementwise(stmt)
        if t is None or t == 0:
            return
        sym = self.graph.new_symbol("t")
        self.graph.shapes[sym] = self.shape(t)
        section = f"tangent-{stmt.section}"
        self.statements.append(
            ir.Stmt(sym, t, "tangent", stmt.target, stmt.block, section)
        )
        self.tangent[stmt.target] = sym


def tangents(
    stmts: list[ir.Stmt], graph: ir.Graph, seeds: dict
) -> tuple[list[ir.Stmt], dict]:
    """Tangent statements of primitive ``stmts`` and the map symbol -> tangent symbol.
    ``seeds`` maps some symbols (parameters, a cotangent) to their tangents."""
    sweep = TangentSweep(graph, seeds)
    for stmt in stmts:
        sweep.statement(stmt)
    return sweep.statements, sweep.tangent
