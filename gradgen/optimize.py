"""Common subexpressions and inlining.

Takes the statements of one generated function (forward and backward together) and returns
them with every repeated subexpression computed once (``sympy.cse``, ``order='none'``: the
canonical order is super-linear on deep graphs and the statement order is already fixed),
each new temporary placed just before its first use, then folds back into its single user
every value nobody named (so the code keeps the user's variables and the deltas, not a soup
of temporaries), and drops statements nothing reads.
"""

from __future__ import annotations

from collections import Counter

import sympy as sp

from . import ir


def _occurrences(symbol: sp.Symbol, expr: sp.Expr) -> int:
    return sum(1 for sub in sp.preorder_traversal(expr) if sub == symbol)


def _trivial(expr: sp.Expr) -> bool:
    """Cheap enough to repeat wherever it is used: a name, a constant such as 1/n, -x, x.T."""
    if isinstance(expr, (sp.Symbol, sp.Number, sp.NumberSymbol)):
        return True
    if all(ir.is_dim_symbol(s) for s in expr.free_symbols):
        return True
    if isinstance(expr, sp.Mul) and len(expr.args) == 2:
        return expr.args[0].is_Number and isinstance(expr.args[1], sp.Symbol)
    return isinstance(expr, ir.Transpose) and isinstance(expr.args[0], sp.Symbol)


def _in_structural(symbol: sp.Symbol, exprs: list) -> bool:
    """Whether ``symbol`` is read inside a structural operation (an argument of @, a sum).

    A select (np.where) is not folded into such an argument: SymPy's piecewise_fold, run
    when a Piecewise's condition contains a Piecewise, would move the operation inside
    the branches, where(c, A, B) @ v -> where(c, A @ v, B @ v), which is wrong for an
    array condition (and changes shapes)."""
    return any(
        isinstance(sub, ir.Structural) and symbol in sub.free_symbols
        for expr in exprs
        for sub in sp.preorder_traversal(expr)
    )


def common_subexpressions(stmts: list[ir.Stmt], graph: ir.Graph) -> list[ir.Stmt]:
    """One CSE over all statements; temporaries go just before their first user."""
    symbols = sp.numbered_symbols("_gg_c", real=True, start=1)
    temps, reduced = sp.cse([s.expr for s in stmts], symbols=symbols, order="none")
    definitions = dict(temps)
    order = {sym: i for i, (sym, _) in enumerate(temps)}
    out: list[ir.Stmt] = []
    placed: set = set()

    def place(sym, user: ir.Stmt):
        if sym in placed:
            return
        placed.add(sym)
        for dep in sorted(
            definitions[sym].free_symbols & definitions.keys(), key=order.__getitem__
        ):
            place(dep, user)
        graph.shapes[sym] = ir.shape_of(definitions[sym], graph.shapes)
        out.append(
            ir.Stmt(sym, definitions[sym], "temp", None, user.block, user.section)
        )

    for stmt, expr in zip(stmts, reduced):
        for sym in sorted(
            expr.free_symbols & definitions.keys(), key=order.__getitem__
        ):
            place(sym, stmt)
        out.append(stmt.with_expr(expr))
    return out


def collapse_aliases(
    stmts: list[ir.Stmt], results: list[sp.Expr], keep: set
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """``delta_h = t2`` where ``t2`` is a temporary: ``t2`` takes the name ``delta_h``
    (so the named delta survives CSE, computed where ``t2`` was)."""
    position = {s.target: k for k, s in enumerate(stmts)}
    renamed: dict = {}  # temporary -> the kept statement that takes its place
    for k, stmt in enumerate(stmts):
        alias = stmt.expr
        if (
            stmt.target in keep
            and alias in position
            and position[alias] < k
            and alias not in keep
            and alias not in renamed
        ):
            renamed[alias] = stmt
    if not renamed:
        return stmts, results
    mapping = {alias: kept.target for alias, kept in renamed.items()}
    dropped = {id(kept) for kept in renamed.values()}
    out = []
    for stmt in stmts:
        if id(stmt) in dropped:
            continue
        expr = stmt.expr.xreplace(mapping)
        kept = renamed.get(stmt.target)
        if kept is not None:
            out.append(
                ir.Stmt(
                    kept.target, expr, kept.role, kept.node, stmt.block, stmt.section
                )
            )
        else:
            out.append(stmt.with_expr(expr))
    return out, [r.xreplace(mapping) for r in results]


def inline(
    stmts: list[ir.Stmt], results: list[sp.Expr], keep: set
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Fold values into their users: single-use ones, and trivial ones (a name, -x, x.T)
    wherever used, except statements in ``keep`` (a kept adjoint that is a mere alias or a
    constant is still folded). Drop statements nothing reads.

    One pass from the last statement to the first reaches the fixed point: a statement only
    reads earlier ones, so folding or dropping it changes nothing already decided."""
    stmts, results = list(stmts), list(results)
    readers: dict = {}  # symbol -> indices of the statements that read it
    for j, stmt in enumerate(stmts):
        for sym in stmt.expr.free_symbols:
            readers.setdefault(sym, set()).add(j)
    alive = [True] * len(stmts)
    returned = Counter(
        sub
        for r in results
        for sub in sp.preorder_traversal(r)
        if isinstance(sub, sp.Symbol)
    )
    for i in range(len(stmts) - 1, -1, -1):
        stmt, target = stmts[i], stmts[i].target
        users = [
            j
            for j in sorted(readers.get(target, ()))
            if alive[j] and target in stmts[j].expr.free_symbols
        ]
        uses = sum(_occurrences(target, stmts[j].expr) for j in users)
        uses += returned[target]
        trivial = _trivial(stmt.expr)
        if uses and (stmt.target in keep and not (stmt.role == "adjoint" and trivial)):
            continue
        if uses > 1 and not trivial:
            continue
        if stmt.expr.has(sp.Piecewise) and _in_structural(
            target, [stmts[j].expr for j in users] + results
        ):
            continue
        mapping = {target: stmt.expr}
        for j in users:
            stmts[j] = stmts[j].with_expr(stmts[j].expr.xreplace(mapping))
            for sym in stmt.expr.free_symbols:
                readers.setdefault(sym, set()).add(j)
        if returned[target]:
            results = [r.xreplace(mapping) for r in results]
            returned = Counter(
                sub
                for r in results
                for sub in sp.preorder_traversal(r)
                if isinstance(sub, sp.Symbol)
            )
        alive[i] = False
    return [s for s, a in zip(stmts, alive) if a], results


def optimise(
    stmts: list[ir.Stmt], results: list[sp.Symbol], keep: set, graph: ir.Graph
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Inlining, CSE, renaming aliases, inlining again; returns the statements and the
    (possibly inlined) results. The first inlining folds constants such as the seed
    adjoint 1 before CSE sees them, so no alias of a named delta survives."""
    wanted = [ir.shape_of(r, graph.shapes) for r in results]
    stmts, results = inline(stmts, results, keep)
    stmts, results = collapse_aliases(
        common_subexpressions(stmts, graph), results, keep
    )
    stmts, results = inline(stmts, results, keep)
    return restore_shapes(stmts, results, wanted, graph)


def restore_shapes(
    stmts: list[ir.Stmt], results: list[sp.Expr], wanted: list, graph: ir.Graph
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Broadcast back what folding shrank: once values are substituted, SymPy may cancel
    delta_t - delta_t to 0, a scalar, where an array (a delta, a gradient) was meant."""

    def fit(expr, shape):
        if ir.shape_of(expr, graph.shapes) == shape:
            return expr
        return ir.broadcast_to(expr, shape)

    stmts = [s.with_expr(fit(s.expr, graph.shapes[s.target])) for s in stmts]
    return stmts, [fit(r, shape) for r, shape in zip(results, wanted)]
