"""Common subexpressions and inlining.

Takes the statements of one generated function (forward and backward together) and returns
them with every repeated subexpression computed once (``sympy.cse``, ``order='none'``: the
canonical order is super-linear on deep graphs and the statement order is already fixed),
each new temporary placed just before its first use, then folds back into its single user
every value nobody named (so the code keeps the user's variables and the deltas, not a soup
of temporaries), and drops statements nothing reads.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from gradgen import ir, ops
from gradgen.codegen.inlining import inline
from gradgen.codegen.statements import fresh
from gradgen.ops import (
    ComplementOf,
    ComplementOfScalar,
    ExpNegAbs,
    Scatter,
    Sigmoid,
    SigmoidAbs,
    SigmoidNegAbs,
    SigmoidOf,
    SigmoidOfScalar,
    Update,
    statement_level,
)


def _restore_dims(temps: list, reduced: list) -> tuple[list, list]:
    """Put back what CSE took out of sizes (n*d): a shape is part of its operation."""
    sizes = {}
    for sym, definition in temps:
        definition = definition.xreplace(sizes)
        if all(ir.is_dim_symbol(s) for s in definition.free_symbols):
            sizes[sym] = definition
    if not sizes:
        return temps, reduced
    kept = [(sym, d.xreplace(sizes)) for sym, d in temps if sym not in sizes]
    return kept, [r.xreplace(sizes) for r in reduced]


def common_subexpressions(stmts: list[ir.Stmt], graph: ir.Graph) -> list[ir.Stmt]:
    """One CSE over all statements; temporaries go just before their first user."""
    symbols = sp.numbered_symbols("_gg_c", real=True, start=1)
    temps, reduced = sp.cse([s.expr for s in stmts], symbols=symbols, order="none")
    temps, reduced = _restore_dims(temps, reduced)
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
    (so the named delta survives CSE, computed where ``t2`` was). Not when ``t2`` is a
    value of the forward pass: there a gradient's name (``dlam = w·w``) would call a
    forward value a gradient; ``dlam = t1`` stays in the backward pass."""
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
            and not (stmts[position[alias]].section, stmt.section)
            == ("forward", "backward")
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


def backward_aliases(stmts: list[ir.Stmt], keep: set) -> list[ir.Stmt]:
    """A kept delta or gradient that is a value of the forward pass (``delta_y = t1``,
    ``t1 = y - t`` computed for the loss, which collapse_aliases leaves so that no forward
    value is named like a gradient): the backward pass reads it by its own name, and it
    comes before the first statement that does (``delta_y = t1``, then
    ``dt = -delta_y``)."""
    forward = {s.target for s in stmts if (s.role, s.section) == ("temp", "forward")}
    out = list(stmts)
    named: set = set()
    for stmt in stmts:
        temp = stmt.expr
        if stmt.section != "backward" or stmt.target not in keep:
            continue
        if temp not in forward or temp in named:
            continue
        named.add(temp)
        k = out.index(stmt)
        readers = [
            j
            for j, s in enumerate(out)
            if s.section == "backward" and j != k and temp in s.expr.free_symbols
        ]
        for j in readers:
            out[j] = out[j].with_expr(out[j].expr.xreplace({temp: stmt.target}))
        first = min(readers, default=k)
        if first < k:
            alias = out.pop(k)
            out.insert(first, dataclasses.replace(alias, block=out[first].block))
    return out


def _written_base(expr: sp.Expr) -> sp.Symbol | None:
    """The array a statement-level expression starts from, when it is a bare name."""
    if isinstance(expr, Update):
        return expr.args[0] if isinstance(expr.args[0], sp.Symbol) else None
    if statement_level(expr):
        rest = [t for t in expr.args if not isinstance(t, Scatter)]
        return rest[0] if len(rest) == 1 and isinstance(rest[0], sp.Symbol) else None
    return None


def write_in_place(
    stmts: list[ir.Stmt], results: list[sp.Expr], shapes: dict | None = None
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """``u = b with u[k] = v`` where ``b`` is a new array of this function that nothing
    reads afterwards, directly or through a view: write into ``b`` itself (no copy), as the
    model did. The two names become one: the user's (or the adjoint's) name wins over a
    temporary's. With ``shapes``, only a ``b`` of ``u``'s shape: a scalar broadcast into the
    slots' array (g + Scatter(...)) is no array to write into.

    What each statement reads is found once and renamed with it, so a chain of T writes
    (the gradient of a sequence read step by step) costs T passes over sets, not T walks
    of every expression."""
    stmts, results = list(stmts), list(results)
    reads = [_Reads(s.expr) for s in stmts]
    later_results = _Reads(sp.Tuple(*results))
    where = {}  # target -> position of the first statement defining it
    for k, s in enumerate(stmts):
        where.setdefault(s.target, k)
    for i in range(len(stmts)):
        stmt = stmts[i]
        base = _written_base(stmt.expr)
        k = where.get(base) if base is not None else None
        if k is None or k >= i or not _writable(stmts[k]):
            continue
        owner = stmts[k]
        if shapes is not None and shapes.get(base) != shapes.get(stmt.target):
            continue
        shared = _views(stmts, reads, base)
        later = reads[i + 1 :] + [later_results]
        if any(r.values & shared for r in later):
            continue
        named = stmt if owner.role == "temp" else owner  # whose name the array takes
        rename = {owner.target: named.target, stmt.target: named.target}
        for j, s in enumerate(stmts):
            if (
                s is not stmt
                and s is not owner
                and not (reads[j].symbols & rename.keys())
            ):
                continue
            stmts[j] = dataclasses.replace(
                s,
                target=rename.get(s.target, s.target),
                expr=s.expr.xreplace(rename),
                in_place=s.in_place or s is stmt,
                **({"role": named.role, "node": named.node} if s is owner else {}),
            )
            reads[j] = reads[j].renamed(rename)
        for old in rename:
            where.pop(old, None)
        where[named.target] = k  # owner and stmt now define it; owner comes first
        results = [r.xreplace(rename) for r in results]
        later_results = later_results.renamed(rename)
    return stmts, results


class _Reads:
    """The symbols an expression holds (``symbols``) and those whose values it reads
    (``values``: a ``Scatter`` reads only the shape of its ``like``, which writing into it
    leaves as it was)."""

    def __init__(self, expr: sp.Expr | None, symbols=None, values=None):
        if expr is not None:
            symbols, values = expr.free_symbols, _value_reads(expr)
        self.symbols, self.values = frozenset(symbols), frozenset(values)

    def renamed(self, rename: dict) -> "_Reads":
        if not self.symbols & rename.keys():
            return self
        return _Reads(
            None,
            {rename.get(s, s) for s in self.symbols},
            {rename.get(s, s) for s in self.values},
        )


def _value_reads(expr: sp.Expr) -> set:
    """The symbols whose values ``expr`` reads (see ``_Reads``)."""
    if isinstance(expr, Scatter):
        value, _, key = expr.args
        return _value_reads(value) | key.free_symbols
    if not expr.args:
        return expr.free_symbols
    return set().union(*[_value_reads(a) for a in expr.args])


def _views(stmts: list[ir.Stmt], reads: list[_Reads], base: sp.Symbol) -> set:
    """``base`` and every value that may share its memory (a slice, transpose, ...)."""
    shared = {base}
    for s, r in zip(stmts, reads):
        if not fresh(s.expr) and not statement_level(s.expr):
            if r.symbols & shared:
                shared.add(s.target)
    return shared


def _writable(stmt: ir.Stmt) -> bool:
    """Whether a statement makes an array of its own (not a view, not a parameter)."""
    return statement_level(stmt.expr) or fresh(stmt.expr)


# --- Full contractions --------------------------------------------------------------


class _Contractions:
    """Rewrites full sums and means of products: ``np.sum(x * y)`` becomes a matrix
    product ``x @ y`` (1-D) or ``np.vdot(x, y)``, one pass with no temporary array;
    ``np.mean(t**2)`` of a named ``t`` becomes ``np.vdot(t, t) / n``;
    ``np.sum(x * y + np.sin(x))`` becomes ``x @ y + np.sum(np.sin(x))``. Only operands
    of the summed shape (no broadcasting) are contracted, and a square only of a name (so
    a forward pass keeps the model's text)."""

    def __init__(self, graph: ir.Graph):
        self.graph = graph

    def shape(self, expr):
        return ir.shape_of(expr, self.graph.shapes)

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        return expr.replace(
            lambda e: isinstance(e, (ops.ReduceSum, ops.ReduceMean))
            and e.full
            and not e.keepdims,
            self.reduction,
        )

    def reduction(self, e):
        try:
            return self.lowered(e)
        except KeyError:  # a symbol with no recorded shape: leave the sum as it is
            return e

    def lowered(self, e):
        arg = e.args[0]
        shape = self.shape(arg)
        terms = sp.Add.make_args(arg)
        if not shape or any(self.shape(t) != shape for t in terms):
            return e
        lowered = [self.contraction(t, shape) for t in terms]
        if all(low is None for low in lowered):
            return e
        total = sp.Add(
            *[
                (
                    ops.reduce(ops.ReduceSum, t, range(len(shape)), len(shape))
                    if low is None
                    else low
                )
                for t, low in zip(terms, lowered)
            ]
        )
        return total / ir.size_of(shape) if isinstance(e, ops.ReduceMean) else total

    def contraction(self, term, shape):
        """``term`` summed over every element as a dot product, or None."""
        scalars, arrays = [], []
        for factor in sp.Mul.make_args(term):
            (arrays if self.shape(factor) else scalars).append(factor)
        if len(arrays) == 1 and arrays[0].is_Pow and arrays[0].exp == 2:
            if isinstance(arrays[0].base, sp.Symbol):
                arrays = [arrays[0].base] * 2
        if len(arrays) < 2 or any(self.shape(a) != shape for a in arrays):
            return None
        a, b = sp.Mul(*arrays[:-1]), arrays[-1]
        dot = ops.MatMul(a, b) if len(shape) == 1 else ops.Vdot(a, b)
        return sp.Mul(*scalars) * dot


def contractions(
    stmts: list[ir.Stmt], results: list[sp.Expr], graph: ir.Graph
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Full sums and means of products as dot products (see ``_Contractions``)."""
    lower = _Contractions(graph)
    return [s.with_expr(lower.rewrite(s.expr)) for s in stmts], [
        lower.rewrite(r) for r in results
    ]


def share_sigmoids(stmts: list[ir.Stmt], graph: ir.Graph) -> list[ir.Stmt]:
    """Where a function computes both sigmoid(u) and its complement sigmoid(-u) (a
    sigmoid's value and derivative), write both over e = exp(-|u|) <= 1, a = sigmoid(|u|)
    = 1/(1 + e) and b = sigmoid(-|u|) = e * a: the value is a where u >= 0, else b, its
    derivative sigmoid(u) sigmoid(-u) = a * b (no select), each accurate (neither
    subtracts from 1) and free of overflow in every float type. A sigmoid alone stays a
    call of the module's sigmoid helper."""
    found = {s for stmt in stmts for s in stmt.expr.atoms(Sigmoid)}
    pairs = {s.args[0] for s in found if Sigmoid(-s.args[0]) in found}
    bases = {u for u in pairs if not u.could_extract_minus_sign()}
    if not bases:
        return stmts
    lowered, slopes = {}, {}
    values = {s.target: s.expr.args[0] for s in stmts if isinstance(s.expr, Sigmoid)}
    for u in bases:
        scalar = ir.shape_of(u, graph.shapes) == ()
        e = ExpNegAbs(u)
        a = SigmoidAbs(u, e)
        b = SigmoidNegAbs(u, e, a)
        lowered[Sigmoid(u)] = (SigmoidOfScalar if scalar else SigmoidOf)(u, a, b)
        lowered[Sigmoid(-u)] = (ComplementOfScalar if scalar else ComplementOf)(u, a, b)
        slopes[u] = a * b

    def slope(expr):
        """sigmoid(u) * sigmoid(-u) in a product (sigmoid(u) by name or written out) as
        a * b."""
        factors = list(expr.args)
        for u in slopes:
            complement = Sigmoid(-u)
            value = next(
                (f for f in factors if f == Sigmoid(u) or values.get(f) == u), None
            )
            if complement in factors and value is not None:
                factors.remove(complement)
                factors.remove(value)
                factors.append(slopes[u])
        return sp.Mul(*factors)

    out = []
    for stmt in stmts:
        expr = stmt.expr.replace(lambda e: isinstance(e, sp.Mul), slope)
        out.append(stmt.with_expr(expr.xreplace(lowered)))
    return out


def optimise(
    stmts: list[ir.Stmt], results: list[sp.Symbol], keep: set, graph: ir.Graph
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Inlining, CSE, renaming aliases, inlining again, restoring shapes that folding
    shrank, full contractions as dot products, writing in place; returns the statements
    and the (possibly inlined) results. The first inlining folds constants such as the
    seed adjoint 1 before CSE sees them, so no alias of a named delta survives."""
    wanted = [ir.shape_of(r, graph.shapes) for r in results]
    stmts, results = inline(stmts, results, keep, graph.shapes)
    stmts, results = collapse_aliases(
        common_subexpressions(share_sigmoids(stmts, graph), graph), results, keep
    )
    stmts = backward_aliases(stmts, keep)
    stmts, results = restore_shapes(
        *inline(stmts, results, keep, graph.shapes), wanted, graph
    )
    stmts, results = contractions(stmts, results, graph)
    return write_in_place(stmts, results, graph.shapes)


def restore_shapes(
    stmts: list[ir.Stmt], results: list[sp.Expr], wanted: list, graph: ir.Graph
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Broadcast back what folding shrank: once values are substituted, SymPy may cancel
    delta_t - delta_t to 0, a scalar, where an array (a delta, a gradient) was meant, and
    (x != x) | c to the scalar condition c (broadcast, still a condition)."""
    conditions: set = set()  # the symbols that name a condition

    def is_condition(expr) -> bool:
        if isinstance(expr, sp.Symbol):
            return expr in conditions
        return isinstance(expr, sp.logic.boolalg.Boolean)

    def fit(expr, shape):
        if statement_level(expr):
            expr = expr.xreplace(
                {w: written(w, shape) for w in expr.atoms(Scatter, Update)}
            )
        if ir.shape_of(expr, graph.shapes) == shape:
            return expr
        return ops.broadcast_to(expr, shape, is_condition(expr))

    def written(expr, shape):
        # the array a write starts from (a Scatter's like, an Update's base) is the
        # statement's array: folded to 0 (x - x), it is broadcast back, not the write
        at = 1 if isinstance(expr, Scatter) else 0
        base = expr.args[at]
        if ir.shape_of(base, graph.shapes) == shape:
            return expr
        args = list(expr.args)
        args[at] = ops.broadcast_to(base, shape)
        return type(expr)(*args)

    fitted = []
    for s in stmts:
        if is_condition(s.expr):
            conditions.add(s.target)
        fitted.append(s.with_expr(fit(s.expr, graph.shapes[s.target])))
    return fitted, [fit(r, shape) for r, shape in zip(results, wanted)]
