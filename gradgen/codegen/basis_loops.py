"""Loops over basis vectors, for the dense Hessian and the Jacobian.

Takes the statements of a function that runs some code once per basis vector (a tangent
pass per parameter entry, or a backward pass per result entry) and returns it laid out as
``emit.Block`` records: what no seed reaches is computed once, before the loops (the forward
pass, the gradient's intermediates, and every loop-invariant part of the loop bodies, which
is hoisted out of them); each loop sets its seed to the basis vector and stores its results
into rows or columns of preallocated arrays.

The statements of all loops are optimised together, so a term they share is computed once;
each loop is then named on its own (its temporaries are dead after it, so the next loop may
reuse their names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from gradgen import ir
from gradgen.codegen.inlining import trivial
from gradgen.codegen.optimize import optimise
from gradgen.codegen.template import Block


@dataclass
class Loop:
    """Code run once per basis vector of a shape, with ``seed`` set to that vector.

    ``over`` is the printed shape (``W.shape``, ``(n, k)``), or None for a float parameter
    (no loop: the seed is 1.0). ``stores`` are (array name, "row" or "column", value):
    ``A[i] = value`` or ``A[(...,) + i] = value``. ``branch`` is None, or the index of the
    branch (of a run-time if/else) the loop belongs to."""

    seed: sp.Symbol
    over: str | None
    body: list[ir.Stmt]
    stores: list[tuple[str, str, sp.Expr]]
    seed_comment: str
    store_comment: str
    branch: int | None = None
    variant: set = field(default_factory=set)


def _variant(stmts: list[ir.Stmt], seed: sp.Symbol) -> set:
    """The seed and every statement that reads it, directly or not."""
    variant = {seed}
    for stmt in stmts:
        if stmt.expr.free_symbols & variant:
            variant.add(stmt.target)
    return variant


class _Hoister:
    """Loop-invariant code motion: moves each non-trivial subexpression of a loop body that
    no seed reaches into a statement before the loops."""

    def __init__(self, graph: ir.Graph):
        self.graph = graph
        self.hoisted: dict = {}
        self.statements: list[ir.Stmt] = []

    def hoist(self, expr: sp.Expr) -> sp.Symbol:
        if expr not in self.hoisted:
            sym = self.graph.new_symbol("h")
            self.graph.shapes[sym] = ir.shape_of(expr, self.graph.shapes)
            self.statements.append(ir.Stmt(sym, expr, "temp", section="invariant"))
            self.hoisted[expr] = sym
        return self.hoisted[expr]

    def visit(self, expr, variant: set):
        if not expr.args or isinstance(expr, sp.Tuple):
            return expr
        if not (expr.free_symbols & variant):
            hoistable = isinstance(expr, sp.Expr) and not isinstance(expr, ExprCondPair)
            return self.hoist(expr) if hoistable and not trivial(expr) else expr
        if isinstance(expr, (sp.Add, sp.Mul)):
            fixed = [a for a in expr.args if not (a.free_symbols & variant)]
            moving = [a for a in expr.args if a.free_symbols & variant]
            if len(fixed) > 1:
                fixed = [expr.func(*fixed)]
            fixed = [self.visit(a, variant) for a in fixed]
            args = fixed + [self.visit(a, variant) for a in moving]
        else:
            args = [self.visit(a, variant) for a in expr.args]
        return expr.func(*args) if args != list(expr.args) else expr


def plan(stmts: list[ir.Stmt], loops: list[Loop], keep: set, graph: ir.Graph):
    """Optimise everything together, then split it: returns the statements before the
    loops, and each loop with its body and stores rewritten."""
    results = [value for loop in loops for _, _, value in loop.stores]
    stmts, results = optimise(stmts, results, keep, graph)
    values = iter(results)
    for loop in loops:
        loop.stores = [(a, kind, next(values)) for a, kind, _ in loop.stores]
        loop.variant = _variant(stmts, loop.seed)
    inside = set().union(*[loop.variant for loop in loops])
    prologue = [s for s in stmts if s.target not in inside]
    hoister = _Hoister(graph)
    for loop in loops:
        body = [s for s in stmts if s.target in loop.variant]
        loop.body = [s.with_expr(hoister.visit(s.expr, loop.variant)) for s in body]
        # A result no seed reaches is zero (it is linear in the seed): nothing to store.
        loop.stores = [
            (a, kind, hoister.visit(value, loop.variant))
            for a, kind, value in loop.stores
            if value.free_symbols & loop.variant
        ]
    return prologue + hoister.statements, loops


def _index(kind: str, loop: Loop, index: str, text) -> str:
    if kind == "row":
        return text.leading(index if loop.over is not None else "")
    return "[...]" if loop.over is None else f"[(...,) + {index}]"


def loop_blocks(loop: Loop, mapping: dict, index: str, depth: int, blocks_of, text):
    """One loop: its header and seed, its body (``blocks_of(stmts, mapping, depth)`` lays
    out statements), its stores; ``depth`` is the indentation of the body, ``text`` prints
    expressions."""
    seed = mapping[loop.seed].name
    if loop.over is None:
        head = Block(loop.seed_comment, [(seed, "=", "1.0")], depth - 1)
        body_depth = depth - 1
    else:
        head = Block(
            loop.seed_comment,
            [
                (seed, "=", text.zeros(loop.over)),
                text.write(seed, f"[{index}]", "1.0"),
            ],
            depth,
            f"for {index} in {text.indices(loop.over)}:",
        )
        body_depth = depth
    printed = text.mapped(mapping)
    stores = Block(
        loop.store_comment,
        [
            text.write(a, _index(kind, loop, index, text), printed(v))
            for a, kind, v in loop.stores
        ],
        body_depth,
    )
    return [head] + blocks_of(loop.body, mapping, body_depth) + [stores]
