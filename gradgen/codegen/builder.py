"""What every mode function of one target is built from (``Builder``), and the two
straight-line ones: ``f_jvp``, the forward sweep (``forward.py``) over the forward
statements, and ``f_hvp``, the same sweep over the backward pass too."""

from __future__ import annotations

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.forward import primitive, tangents
from gradgen.codegen import type_hints
from gradgen.codegen.entry import dtype_lines, entry_lines, float_names
from gradgen.codegen.layout import (
    dims_in,
    dims_lines,
    docstring,
    statement_blocks,
    tuple_text,
)
from gradgen.codegen.naming import Namer
from gradgen.codegen.optimize import optimise
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.statements import returned
from gradgen.codegen.template import Block, Function


def one_run_per_loop(stmts, tans, tangent) -> tuple[list, list, dict]:
    """Statements and their tangents where each loop runs once: its tangent helper
    (``ops.LoopDot``, ``ops.LoopBackDot`` for its backward pass) returns the values too,
    so it takes the place of the plain run, after the tangents of what comes before it.
    """
    kinds = (ops.LoopDot, ops.LoopBackDot)
    renamed = {t.target: t.node for t in tans if isinstance(t.expr, kinds)}
    tans = [t.with_expr(t.expr.xreplace(renamed)) for t in tans]
    dotted = {t.node: t for t in tans if t.target in renamed}
    tans = [t for t in tans if t.target not in renamed]
    tangent = {s: renamed.get(t, t) for s, t in tangent.items()}
    order, pending, seen = [], list(tans), set()
    for stmt in stmts:
        if stmt.target in dotted:  # the tangents it reads come first
            order += [t for t in pending if t.node in seen]
            pending = [t for t in pending if t.node not in seen]
            stmt = stmt.with_expr(dotted[stmt.target].expr)
        order.append(stmt)
        seen.add(stmt.target)
    return order + pending, [], tangent


class Builder:
    """What every mode function of one target needs: its program, a fresh namer (so each
    function names its values as if it were the only one), the differentiated parameters.
    """

    def __init__(self, program: ir.Program, text: ModuleText):
        self.program = program
        self.text = text
        self.graph = program.graph
        self.namer = Namer(program)
        self.wrt = [p for p in program.params if p.name in program.wrt]
        self.named = {n.sym for n in self.graph.nodes if n.names}
        self.args = ", ".join(p.name for p in program.params)
        self.wrt_text = ", ".join(program.wrt)

    def blocks(self, stmts, mapping, depth=0) -> list[Block]:
        return statement_blocks(stmts, mapping, self.text, self.graph.shapes, depth)

    def claim(self, base: str) -> str:
        return self.namer._claim(base, self.namer.taken)

    def seed(self, param: ir.Param) -> sp.Symbol:
        """A tangent for a parameter, named ``W_dot``."""
        sym = self.graph.new_symbol("d")
        self.graph.shapes[sym] = param.shape
        self.namer.names[sym] = self.claim(f"{param.name}_dot")
        return sym

    def first_order_keep(self) -> set:
        """What ``f_value_and_grad`` keeps by name: named values, their deltas, grads."""
        keep = self.named | {self.program.output} | set(self.program.grads)
        return keep | {
            s.target
            for s in self.program.backward
            if s.role == "adjoint" and s.node in self.named
        }

    @staticmethod
    def with_tangents(keep: set, tangent: dict) -> set:
        return keep | {tangent[s] for s in keep if s in tangent}

    def fit_output(self, t) -> sp.Expr:
        """The output's tangent with the output's shape (a float for a scalar)."""
        shape = self.graph.shapes[self.program.output]
        if t is None or t.is_Number:
            value = sp.Integer(0) if t is None else t
            return ops.broadcast_to(value, shape) if shape else sp.Float(value)
        return (
            ops.broadcast_to(t, shape)
            if ir.shape_of(t, self.graph.shapes) != shape
            else t
        )

    def fit_param(self, t, param: ir.Param) -> sp.Expr:
        """A derivative with respect to ``param`` with its shape (a float for a float)."""
        if not param.shape:
            return (
                sp.Float(t if t is not None else 0) if t is None or t.is_Number else t
            )
        if t is None or ir.shape_of(t, self.graph.shapes) != param.shape:
            return ops.FullLike(t if t is not None else sp.Integer(0), param.sym)
        return t

    def function(
        self,
        name,
        extra,
        doc,
        summary,
        blocks,
        returns,
        used,
        pre=(),
        checked=(),
        result="",
    ):
        """``extra``: parameters after the model's, all of them one tangent per
        differentiated parameter; ``pre``: lines that unpack them into ``checked``,
        (name, shape) pairs that the entry check also checks; ``result``: the type hint
        of what it returns."""
        params = [p.name for p in self.program.params] + list(extra)
        entry, after, sizes = entry_lines(self.program, self.text, name, checked)
        dims = dims_lines(self.program, used | sizes) + after
        args = [p.name for p in self.program.params] + [n for n, _ in checked]
        dims += dtype_lines(self.text, float_names(self.program, args), blocks, returns)
        entry = list(pre) + entry
        types = type_hints.params(self.program) + [
            type_hints.wrt(self.program, results=False) for _ in extra
        ]
        return Function(
            name, params, doc, summary, dims, blocks, returns, entry, types, result
        )

    # --- f_jvp and f_hvp: straight-line code -------------------------------------------

    def _straight(
        self, name, stmts, results, keep, extra, seeds, doc, summary, returns, result
    ):
        kinds = (ops.LoopRun, ops.LoopDot, ops.LoopBack, ops.LoopBackDot)
        keep = keep | {s.target for s in stmts if isinstance(s.expr, kinds)}  # a call
        stmts, results = optimise(stmts, results, keep, self.graph)
        mapping = self.namer.mapping(stmts)
        inputs = {p.sym for p in self.program.params} | set(seeds)
        printed = returned(
            self.text.mapped(mapping), results, stmts, inputs, self.graph.shapes
        )
        used = dims_in([s.expr for s in stmts] + results)
        unpack = f"{tuple_text([self.namer.names[s] for s in seeds])} = {extra}"
        checked = [
            (self.namer.names[s], p.shape or None) for s, p in zip(seeds, self.wrt)
        ]
        return self.function(
            name,
            [extra],
            doc,
            summary,
            self.blocks(stmts, mapping),
            returns(printed),
            used,
            [unpack],
            checked,
            result,
        )

    def jvp(self) -> Function:
        program, name = self.program, self.program.name
        direction = self.claim("tangents")
        seeds = [self.seed(p) for p in self.wrt]
        forward = [s.with_expr(ops.untaped(s.expr)) for s in program.forward]
        stmts = primitive(forward, self.graph)
        tans, tangent = tangents(
            stmts, self.graph, dict(zip([p.sym for p in self.wrt], seeds))
        )
        if program.graph.loops:
            stmts, tans, tangent = one_run_per_loop(stmts, tans, tangent)
        out = program.output
        keep = self.with_tangents(self.named | {out}, tangent)
        results = [out, self.fit_output(tangent.get(out))]
        given = tuple_text([self.namer.names[s] for s in seeds])
        value = self.namer.names[out]
        doc = docstring(
            f"Forward mode: the value of ``{name}`` and its derivative along "
            f"``{direction}`` = {given}, one tangent per parameter {self.wrt_text}, each "
            "shaped like it.",
            f"Returns ({value}, {value}_dot), as jax.jvp; {value}_dot has the shape of "
            "the value.",
        )
        summary = f"{name}_jvp({self.args}, {direction}) -> ({value}, {value}_dot)"
        return self._straight(
            f"{name}_jvp",
            stmts + tans,
            results,
            keep,
            direction,
            seeds,
            doc,
            summary,
            lambda r: f"{r[0]}, {r[1]}",
            f"tuple[{type_hints.value(program)}, {type_hints.value(program)}]",
        )

    def hvp(self) -> Function:
        program, name = self.program, self.program.name
        direction = self.claim("v")
        seeds = [self.seed(p) for p in self.wrt]
        stmts = primitive(program.forward + program.backward, self.graph)
        tans, tangent = tangents(
            stmts, self.graph, dict(zip([p.sym for p in self.wrt], seeds))
        )
        if program.graph.loops:
            stmts, tans, tangent = one_run_per_loop(stmts, tans, tangent)
        results = [
            self.fit_param(tangent.get(g), p) for g, p in zip(program.grads, self.wrt)
        ]
        keep = self.with_tangents(self.first_order_keep(), tangent)
        given = tuple_text([self.namer.names[s] for s in seeds])
        grads = tuple_text([f"{self.namer.names[g]}_dot" for g in program.grads])
        doc = docstring(
            f"Hessian-vector product of ``{name}`` with respect to {self.wrt_text}: the "
            f"derivative of the gradient along ``{direction}`` = {given}, one array per "
            "parameter shaped like it (forward mode over the backward pass, reusing its "
            "values).",
            f"Returns {grads}, shaped like the gradient.",
        )
        summary = f"{name}_hvp({self.args}, {direction}) -> {grads}"
        return self._straight(
            f"{name}_hvp",
            stmts + tans,
            results,
            keep,
            direction,
            seeds,
            doc,
            summary,
            ", ".join,
            type_hints.wrt(program),
        )
