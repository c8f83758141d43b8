"""Folding values into their users.

``inline`` takes the statements of one generated function, its results and the symbols to
keep; it returns the statements with every value read once (or cheap enough to repeat)
folded into its users, and those nothing reads dropped.

Each statement's expression is held as its terms (those of a sum, else the expression
itself), each with a summary of what it reads (``_Reads``), made once per term. Deciding a
fold, and making it, costs the size of the terms that read the value, not the size of
their statements: a gradient summed over the T steps of an unrolled loop (T terms) is not
walked again for each value folded into it, and is added up once, at the end. So the
compile time of an unrolled loop grows linearly with its steps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy as sp

from gradgen import ir, ops
from gradgen.ops import Index, statement_level


def trivial(expr: sp.Expr) -> bool:
    """Cheap enough to repeat wherever it is used: a name, a constant such as 1/n, -x,
    1 + x, x.T."""
    if isinstance(expr, (sp.Symbol, sp.Number, sp.NumberSymbol)):
        return True
    if all(ir.is_dim_symbol(s) for s in expr.free_symbols):
        return True
    if isinstance(expr, (sp.Mul, sp.Add)) and len(expr.args) == 2:
        return expr.args[0].is_Number and isinstance(expr.args[1], sp.Symbol)
    return isinstance(expr, ops.Transpose) and isinstance(expr.args[0], sp.Symbol)


def _select_in_structural(expr: sp.Expr) -> bool:
    """Whether a select sits in an argument of a structural operation of ``expr``."""
    return any(
        isinstance(sub, ir.Structural) and sub.has(sp.Piecewise)
        for sub in sp.preorder_traversal(expr)
    )


@dataclass(frozen=True)
class _Reads:
    """What one expression reads: ``counts``, how often each symbol occurs in it (in
    preorder, as ``sympy.preorder_traversal`` meets it); the symbols it ``indexes``
    (``x[k]``), those read inside a structural operation (an argument of @, a sum), those
    read in a Boolean (a condition; a Symbol is a Boolean to SymPy, so every symbol read);
    and whether it holds a select."""

    counts: Counter
    indexes: frozenset
    structural: frozenset
    conditions: frozenset
    select: bool


def _reads(expr: sp.Expr) -> _Reads:
    counts, indexes, structural, conditions = Counter(), set(), set(), set()
    select = False
    stack = [(expr, False, False)]
    while stack:
        sub, in_structural, in_boolean = stack.pop()
        in_boolean = in_boolean or isinstance(sub, sp.logic.boolalg.Boolean)
        if isinstance(sub, sp.Symbol):
            counts[sub] += 1
            if in_structural:
                structural.add(sub)
            if in_boolean:
                conditions.add(sub)
        elif isinstance(sub, Index):
            indexes.add(sub.args[0])
        elif isinstance(sub, sp.Piecewise):
            select = True
        in_structural = in_structural or isinstance(sub, ir.Structural)
        stack.extend((arg, in_structural, in_boolean) for arg in sub.args)
    return _Reads(
        counts, frozenset(indexes), frozenset(structural), frozenset(conditions), select
    )


class _Summed:
    """The terms of one statement's expression, with what each reads and the totals over
    them (a count per symbol; for the sets, how many terms hold each symbol)."""

    def __init__(self, expr: sp.Expr, memo: dict):
        self.memo = memo
        self.changed = False
        self.split(expr)

    def split(self, expr: sp.Expr) -> None:
        self.sum = isinstance(expr, sp.Add)
        self.terms = list(expr.args) if self.sum else [expr]
        self.counts, self.indexes = Counter(), Counter()
        self.structural, self.conditions = Counter(), Counter()
        self.selects = 0
        self.where: dict = {}  # symbol -> the positions of the terms that read it
        self.kinds = Counter(_kind(t) for t in self.terms)  # see ``replace``
        for k, term in enumerate(self.terms):
            self._add(k, self.reads(term), 1)

    def reads(self, term) -> _Reads:
        found = self.memo.get(term)
        if found is None:
            found = self.memo[term] = _reads(term)
        return found

    def _add(self, k: int, reads: _Reads, sign: int) -> None:
        for sym, count in reads.counts.items():
            self.counts[sym] += sign * count
            if sign > 0:
                self.where.setdefault(sym, set()).add(k)
            else:
                self.where[sym].discard(k)
        for total, syms in (
            (self.indexes, reads.indexes),
            (self.structural, reads.structural),
            (self.conditions, reads.conditions),
        ):
            for sym in syms:
                total[sym] += sign
        self.selects += sign * reads.select

    def expr(self) -> sp.Expr:
        return sp.Add(*self.terms) if self.sum else self.terms[0]

    def reading(self, sym) -> list[int]:
        """The positions of the terms that read ``sym``."""
        return sorted(self.where.get(sym, ()))

    def replace(self, changes: dict) -> None:
        """Put new terms (position -> term) in place. Where SymPy, adding them up, would
        change the terms (a new term that is a sum or a number, or that is another one
        times a number: 2*a + a is 3*a), the sum is added up now, so the terms stay those
        of the sum SymPy makes, and a value read in both is counted once."""
        for k, term in changes.items():
            self._add(k, self.reads(self.terms[k]), -1)
            self.kinds[_kind(self.terms[k])] -= 1
            self.terms[k] = term
            self._add(k, self.reads(term), 1)
            self.kinds[_kind(term)] += 1
        self.changed = True
        if self.sum and any(
            isinstance(t, sp.Add) or t.is_Number or self.kinds[_kind(t)] > 1
            for t in changes.values()
        ):
            self.split(sp.Add(*self.terms))


def _kind(term: sp.Expr) -> sp.Expr:
    """A term without its number: terms of one kind are one term of a SymPy sum."""
    return term.as_coeff_Mul()[1] if isinstance(term, sp.Expr) else term


class _Inliner:
    """The state of one ``inline``: the statements' terms, who reads each symbol, the
    results and what they read."""

    def __init__(self, stmts, results, keep, shapes):
        self.stmts, self.keep, self.shapes = stmts, keep, shapes
        memo: dict = {}
        self.held = [_Summed(s.expr, memo) for s in stmts]
        self.readers: dict = {}  # symbol -> indices of the statements that read it
        for j, stmt in enumerate(stmts):
            for sym in stmt.expr.free_symbols:
                self.readers.setdefault(sym, set()).add(j)
        self.alive = [True] * len(stmts)
        # values of the forward pass that CSE found in a delta (collapse_aliases), and
        # deltas of values the code does not name: a named delta equal to one of them
        # takes its place (collapse_aliases) rather than being folded
        self.shared = {
            s.target
            for s in stmts
            if (s.role, s.section) == ("temp", "forward")
            or (s.role == "adjoint" and s.target not in keep)
        }
        self.shape_memo: dict = {}
        self.set_results(results)

    def set_results(self, results) -> None:
        self.results = results
        self.returned = _Summed(sp.Tuple(*results), {})

    def users(self, target) -> list[int]:
        return [
            j
            for j in sorted(self.readers.get(target, ()))
            if self.alive[j] and self.held[j].counts[target]
        ]

    def any_of(self, users, target, what: str) -> bool:
        """Whether a user, or a result, reads ``target`` as ``what`` says."""
        held = [self.held[j] for j in users] + [self.returned]
        return any(getattr(h, what)[target] > 0 for h in held)

    def in_structural(self, users, target) -> bool:
        """Whether ``target`` is read inside a structural operation (an argument of @, a
        sum) of a user holding a select. A select (np.where) is not folded into such an
        argument: SymPy's piecewise_fold, run when a Piecewise's condition contains a
        Piecewise, would move the operation inside the branches, where(c, A, B) @ v ->
        where(c, A @ v, B @ v), which is wrong for an array condition (and changes
        shapes)."""
        held = [self.held[j] for j in users] + [self.returned]
        return any(h.selects and h.structural[target] > 0 for h in held)

    def folds(self, stmt: ir.Stmt, uses: int, users) -> bool:
        """Whether a statement read ``uses`` times is folded into its users: once read,
        or trivial; never a kept value (but a kept adjoint that is a mere alias or
        constant, unless it names a value shared with the forward pass: ``delta_y = t1``
        where ``t1 = y - t`` is computed for the loss), a statement-level one, or a
        trivial array read by several indexings ((2 * v)[1:] and (2 * v)[0] would each
        compute all of 2 * v)."""
        simple = trivial(stmt.expr)
        alias = simple and stmt.expr not in self.shared
        if stmt.target in self.keep and not (stmt.role == "adjoint" and alias):
            return False
        if statement_level(stmt.expr) or (uses > 1 and not simple):
            return False
        if uses > 1 and not isinstance(stmt.expr, (sp.Symbol, sp.Number)):
            if self.any_of(users, stmt.target, "indexes"):
                return False
        # a select is not folded into a structural operation's argument
        return not (
            stmt.expr.has(sp.Piecewise) and self.in_structural(users, stmt.target)
        )

    def blocked(self, stmt: ir.Stmt, users) -> bool:
        """Whether folding ``stmt`` is refused for a select in its users or in it.
        Folding a value with a select inside @ or a sum into a condition is wrong: SymPy's
        piecewise_fold, run on a condition holding a Piecewise, moves the select out of
        the operation, s <= where(c, a, b) @ v -> where(c, s <= a @ v, s <= b @ v),
        which is wrong for an array condition c."""
        target = stmt.target
        if stmt.expr.has(sp.Piecewise) and self.in_structural(users, target):
            return True
        return _select_in_structural(stmt.expr) and self.any_of(
            users, target, "conditions"
        )

    def fold(self, i: int, users) -> bool:
        """Fold statement ``i`` into its users and the results, unless an operation's
        operands would no longer fit."""
        stmt = self.stmts[i]
        mapping = {stmt.target: stmt.expr}
        changes = {
            j: {
                k: self.held[j].terms[k].xreplace(mapping)
                for k in self.held[j].reading(stmt.target)
            }
            for j in users
        }
        results = self.results
        if self.returned.counts[stmt.target]:
            results = [r.xreplace(mapping) for r in results]
        if self.shapes is not None and self.misshapen(changes, results):
            return False
        for j in users:
            self.held[j].replace(changes[j])
            for sym in stmt.expr.free_symbols:
                self.readers.setdefault(sym, set()).add(j)
        if results is not self.results:
            self.set_results(results)
        self.alive[i] = False
        return True

    def misshapen(self, changes: dict, results) -> bool:
        exprs = [t for terms in changes.values() for t in terms.values()]
        if results is not self.results:
            exprs += results
        if any(ir.misshapen(e, self.shapes, self.shape_memo) for e in exprs):
            return True
        for j, terms in changes.items():  # the sum of the terms, when one changed shape
            summed = self.held[j]
            if summed.sum and any(
                self.shape(t) != self.shape(summed.terms[k]) for k, t in terms.items()
            ):
                new = dict(enumerate(summed.terms)) | terms
                if ir.misshapen(sp.Add(*new.values()), self.shapes, self.shape_memo):
                    return True
        return False

    def shape(self, expr):
        try:
            return ir.shape_of(expr, self.shapes, self.shape_memo)
        except (ir.ShapeError, KeyError):
            return None

    def run(self) -> tuple[list[ir.Stmt], list[sp.Expr]]:
        for i in range(len(self.stmts) - 1, -1, -1):
            stmt, target = self.stmts[i], self.stmts[i].target
            users = self.users(target)
            uses = sum(self.held[j].counts[target] for j in users)
            uses += self.returned.counts[target]
            if uses and not self.folds(stmt, uses, users):
                continue
            if self.blocked(stmt, users):
                continue
            self.fold(i, users)
        out = []
        for stmt, held, alive in zip(self.stmts, self.held, self.alive):
            if alive:
                out.append(stmt.with_expr(held.expr()) if held.changed else stmt)
        return out, list(self.results)


def inline(
    stmts: list[ir.Stmt], results: list[sp.Expr], keep: set, shapes: dict | None = None
) -> tuple[list[ir.Stmt], list[sp.Expr]]:
    """Fold values into their users: single-use ones, and trivial ones (a name, -x, x.T)
    wherever used, except statements in ``keep`` (a kept adjoint that is a mere alias or a
    constant is still folded). Drop statements nothing reads. With ``shapes``, a value is
    not folded where its users' operands would no longer fit (``ir.misshapen``).

    One pass from the last statement to the first reaches the fixed point: a statement only
    reads earlier ones, so folding or dropping it changes nothing already decided; and
    nothing is folded into a statement before it is decided, so the expression decided on
    is the statement's own."""
    return _Inliner(list(stmts), list(results), keep, shapes).run()
