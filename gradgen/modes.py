"""Forward mode and second order: ``f_jvp``, ``f_hvp``, ``f_hessian``, ``f_jacobian``.

Takes a differentiated ``ir.Program`` and the requested modes; returns ``emit.Function``
records laid out like the first-order ones. Names and return conventions follow JAX's
``jvp``, ``hessian`` and ``jacobian``.

- ``f_jvp(*args, tangents)`` -> ``(value, value_dot)``: the forward sweep (``forward.py``)
  over the forward statements.
- ``f_hvp(*args, v)`` -> H v, shaped like the gradient. Forward over reverse: the backward
  pass is IR, so the forward sweep differentiates it like any other code; seeded with ``v``,
  the tangents of the forward and backward statements end in the tangent of the gradient,
  which is H v. It reuses the gradient's intermediates (one CSE over both) and costs about
  one more gradient; reverse over reverse would have to sweep back over the backward pass
  and keep all of its values as well.
- ``f_hessian(*args)`` and ``f_jacobian(*args)``: loops over basis vectors (``loops.py``).
"""

from __future__ import annotations

import sympy as sp

from . import hints, ir, ops
from .emit import Block, Function
from .entry import dtype_lines, entry_lines
from .errors import GradgenError
from .forward import primitive, tangents
from .naming import Namer
from .optimize import optimise
from .pipeline import _dims_lines, _doc, _shorten, _tuple
from .printer import ModuleText, assignments, returned
from .options import MODES_HINT as HINT
from .options import parse_modes
from .timing import stage


def applies(mode: str, program: ir.Program) -> bool:
    if mode == "jacobian":
        return program.array_output
    return mode == "jvp" or not program.array_output


def check_modes(programs: list[ir.Program], modes) -> None:
    """A mode named explicitly (not through ``all``) must apply to some target."""
    named = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes)]
    for mode in parse_modes([m for m in named if m != "all"]):
        if not any(applies(mode, p) for p in programs):
            kind = "an array" if mode == "jacobian" else "a scalar"
            p = programs[0]
            raise GradgenError(
                f"--mode {mode} needs a target with {kind} result; "
                f"{', '.join(q.name for q in programs)} has none",
                p.path,
                p.line,
                hint=HINT,
            )


def mode_functions(program: ir.Program, text: ModuleText, modes) -> list[Function]:
    """The functions of the requested modes that apply to this target; ``text`` prints
    the expressions."""
    from .second_order import hessian, jacobian  # needs this module's builder

    build = {
        "jvp": lambda b: [b.jvp()],
        "hvp": lambda b: [b.hvp()],
        "hessian": hessian,  # with f_hvp too when it works through it
        "jacobian": lambda b: [jacobian(b)],
    }
    functions: dict = {}
    with stage("modes"):  # gradgen compile --verbose
        for mode in parse_modes(modes):
            if applies(mode, program):
                for f in build[mode](Builder(program, text)):
                    functions.setdefault(f.name, f)
    return list(functions.values())


# --- Laying out statements ----------------------------------------------------------------

_PREFIX = {
    "backward": "Grad of: ",
    "tangent-forward": "Tangent of: ",
    "tangent-backward": "Tangent of the grad of: ",
}


def _comment(stmt: ir.Stmt) -> tuple:
    if stmt.section == "forward":
        return ("forward",), "Forward pass"
    if stmt.section == "invariant":
        return (
            "invariant",
        ), "Loop invariants: computed once, read by every pass below"
    if stmt.block is None:
        return ("unreached",), "The value does not depend on these parameters"
    text = _shorten(_PREFIX[stmt.section] + stmt.block.stmt_text)
    return (stmt.section, stmt.block.stmt_key), text


def blocks_of(
    stmts: list[ir.Stmt], mapping: dict, text: ModuleText, shapes: dict, depth: int = 0
) -> list[Block]:
    """Statements grouped under the comment of the statement they come from."""
    blocks: list[Block] = []
    last = None
    for stmt in stmts:
        key, comment = _comment(stmt)
        if key != last:
            blocks.append(Block(comment, depth=depth))
            last = key
        blocks[-1].statements += assignments(
            mapping[stmt.target].name,
            stmt.expr,
            text.mapped(mapping),
            lambda e, target=stmt.target: ir.shape_of(e, shapes) == shapes[target],
            stmt.in_place,
        )
    return blocks


def dims_in(exprs) -> set:
    return {s for e in exprs for s in e.free_symbols if ir.is_dim_symbol(s)}


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
        return blocks_of(stmts, mapping, self.text, self.graph.shapes, depth)

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
        dims = _dims_lines(self.program, used | sizes) + after
        args = [p.name for p in self.program.params] + [n for n, _ in checked]
        dims += dtype_lines(self.text, args, blocks, returns)
        entry = list(pre) + entry
        types = hints.params(self.program) + [
            hints.wrt(self.program, results=False) for _ in extra
        ]
        return Function(
            name, params, doc, summary, dims, blocks, returns, entry, types, result
        )

    # --- f_jvp and f_hvp: straight-line code -------------------------------------------

    def _straight(
        self, name, stmts, results, keep, extra, seeds, doc, summary, returns, result
    ):
        stmts, results = optimise(stmts, results, keep, self.graph)
        mapping = self.namer.mapping(stmts)
        inputs = {p.sym for p in self.program.params} | set(seeds)
        printed = returned(
            self.text.mapped(mapping), results, stmts, inputs, self.graph.shapes
        )
        used = dims_in([s.expr for s in stmts] + results)
        unpack = f"{_tuple([self.namer.names[s] for s in seeds])} = {extra}"
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
        stmts = primitive(program.forward, self.graph)
        tans, tangent = tangents(
            stmts, self.graph, dict(zip([p.sym for p in self.wrt], seeds))
        )
        out = program.output
        keep = self.with_tangents(self.named | {out}, tangent)
        results = [out, self.fit_output(tangent.get(out))]
        given = _tuple([self.namer.names[s] for s in seeds])
        value = self.namer.names[out]
        doc = _doc(
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
            f"tuple[{hints.value(program)}, {hints.value(program)}]",
        )

    def hvp(self) -> Function:
        program, name = self.program, self.program.name
        direction = self.claim("v")
        seeds = [self.seed(p) for p in self.wrt]
        stmts = primitive(program.forward + program.backward, self.graph)
        tans, tangent = tangents(
            stmts, self.graph, dict(zip([p.sym for p in self.wrt], seeds))
        )
        results = [
            self.fit_param(tangent.get(g), p) for g, p in zip(program.grads, self.wrt)
        ]
        keep = self.with_tangents(self.first_order_keep(), tangent)
        given = _tuple([self.namer.names[s] for s in seeds])
        grads = _tuple([f"{self.namer.names[g]}_dot" for g in program.grads])
        doc = _doc(
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
            hints.wrt(program),
        )
