"""The chain rule over named steps: what ``explain`` and ``graph`` show.

Takes a ``Program`` and the generated code's statements and names (``pipeline.
gradient_statements``); returns a ``Chain``: one step per forward value the generated code
names (values it does not name are folded into the step that reads them), the parameters,
and for each step and operand the local derivative and the local vector-Jacobian product
(the adjoint that one edge of the graph carries backwards). Local derivatives are SymPy's
``diff``, except σ′ = σ(1 − σ) and tanh′ = 1 − tanh², which textbooks write through the
function's own value; structural operations (matrix products, reductions) use the rule
table, and broadcasting is undone as in the reverse sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.reverse import unbroadcast
from gradgen.explain import notation


@dataclass
class Step:
    sym: sp.Symbol  # the graph's symbol
    expr: sp.Expr  # over parameters and earlier steps
    name: str  # the generated code's name


def _structural_parts(expr: sp.Expr, wrt: sp.Symbol) -> list:
    """The outermost structural operations inside an elementwise expression that read
    ``wrt``, in a fixed order."""
    found: list = []

    def visit(e):
        if isinstance(e, ir.Structural):
            if e.has(wrt) and e not in found:
                found.append(e)
            return
        for arg in e.args:
            visit(arg)

    visit(expr)
    return sorted(found, key=sp.default_sort_key)


class Chain:
    """Steps, parameters and their code names; local derivatives of each step."""

    def __init__(self, program: ir.Program, stmts: list, mapping: dict):
        self.program = program
        self.shapes = dict(program.graph.shapes)
        self.params = [p.sym for p in program.params]
        named = {s.target for s in stmts} | {program.output}
        self.steps: list[Step] = []
        folded: dict = {}
        for stmt in program.forward:
            kept: set = set()  # folded selects that stay names (notation.written_out)
            expr = notation.written_out(stmt.expr, folded, self.shapes, kept)
            for t in sorted(kept - named, key=lambda s: s.name):  # steps of their own
                name = mapping[t].name if t in mapping else t.name
                self.steps.append(Step(t, folded[t], name))
                named.add(t)
            if stmt.target in named:
                self.steps.append(Step(stmt.target, expr, mapping[stmt.target].name))
            else:
                folded[stmt.target] = expr
        self.by_sym = {s.sym: s for s in self.steps}
        self.names = {p.sym: p.name for p in program.params}
        self.names.update({s.sym: s.name for s in self.steps})
        self.output = program.output
        self._depends: dict = {}
        self.adjoint_names = {  # the code's delta_h, dW1: node -> name
            s.node: mapping[s.target].name
            for s in stmts
            if s.role in ("adjoint", "grad") and s.node is not None
        }

    def shape(self, expr) -> tuple:
        return ir.shape_of(expr, self.shapes)

    def operands(self, sym) -> list:
        step = self.by_sym.get(sym)
        if step is None:
            return []
        order = {s: k for k, s in enumerate(self.params + [t.sym for t in self.steps])}
        return sorted((s for s in step.expr.free_symbols if s in order), key=order.get)

    def depends(self, sym, wrt) -> bool:
        key = (sym, wrt)
        if key not in self._depends:
            self._depends[key] = sym == wrt or any(
                self.depends(s, wrt) for s in self.operands(sym)
            )
        return self._depends[key]

    def paths(self, wrt, limit: int = 64) -> list[list]:
        """Every path from the output down to ``wrt`` (at most ``limit``)."""
        out: list = []

        def walk(path):
            if len(out) >= limit:
                return
            if path[-1] == wrt:
                out.append(path)
                return
            for s in self.operands(path[-1]):
                if self.depends(s, wrt):
                    walk(path + [s])

        if self.depends(self.output, wrt):
            walk([self.output])
        return out

    def gradient(self, wrt, seed) -> sp.Expr:
        """The adjoint of ``wrt`` by a reverse sweep over the steps: the sum over every
        path, without listing the paths."""
        adjoint = {self.output: seed}
        for step in reversed(self.steps):
            g = adjoint.get(step.sym)
            if g is None:
                continue
            for s in self.operands(step.sym):
                if self.depends(s, wrt):
                    adjoint[s] = adjoint.get(s, 0) + self.vjp(step.sym, s, g)
        return adjoint.get(wrt, sp.Integer(0))

    # --- local derivatives -------------------------------------------------------------
    def is_scalar(self, path: list) -> bool:
        """Every value on the path is a number and no step is a structural operation:
        the chain rule is then a plain product of local derivatives."""
        return all(self.shape(s) == () for s in path) and not any(
            self.by_sym[s].expr.atoms(ir.Structural) for s in path if s in self.by_sym
        )

    def partial(self, sym, wrt) -> sp.Expr:
        """∂sym/∂wrt for a scalar step, written as the textbooks write it."""
        expr = notation.recognise(self.by_sym[sym].expr)
        if isinstance(expr, ops.Sigmoid):
            return sym * (1 - sym) * sp.diff(expr.args[0], wrt)
        if isinstance(expr, sp.tanh):
            return (1 - sym**2) * sp.diff(expr.args[0], wrt)
        return sp.diff(expr, wrt)

    def vjp(self, sym, wrt, g) -> sp.Expr:
        """The adjoint that ``g`` (the adjoint of step ``sym``) sends to ``wrt``."""
        return self._vjp(self.by_sym[sym].expr, wrt, g, sym)

    def _vjp(self, expr, wrt, g, value=None) -> sp.Expr:
        if expr == wrt:
            return g
        if not expr.has(wrt):
            return sp.Integer(0)
        if isinstance(expr, ir.Structural):
            total = sp.Integer(0)
            found = ops.vjp(expr, g, expr, self.shape(expr), self.shape)
            for arg, c in zip(expr.args, found):
                if c is not None and arg.has(wrt):
                    c = unbroadcast(c, self.shape(arg), self.shape)
                    total += self._vjp(arg, wrt, c)
            return total
        parts = _structural_parts(expr, wrt)
        holders = [sp.Dummy(f"s{k}", real=True) for k in range(len(parts))]
        for part, holder in zip(parts, holders):
            self.shapes[holder] = self.shape(part)
        flat = expr.xreplace(dict(zip(parts, holders)))
        back = dict(zip(holders, parts))
        total = sp.Integer(0)
        if flat.has(wrt):
            local = self._local(flat, wrt, value)
            total += unbroadcast(g * local, self.shape(wrt), self.shape).xreplace(back)
        for part, holder in zip(parts, holders):
            c = unbroadcast(g * sp.diff(flat, holder), self.shape(part), self.shape)
            total += self._vjp(part, wrt, c.xreplace(back))
        return total

    def _local(self, flat, wrt, value) -> sp.Expr:
        if value is not None and flat == self.by_sym[value].expr:
            return self.partial(value, wrt)
        return sp.diff(flat, wrt)
