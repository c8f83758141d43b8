"""Dense derivatives: ``f_hessian`` (scalar results) and ``f_jacobian`` (array results).

Takes a ``modes.Builder`` (a differentiated program, its namer) and returns the
``emit.Function``. Both loop over basis vectors (``basis_loops.py``); the forward pass, and for
the Hessian the backward pass, run once before the loops.

- Hessian: one Hessian-vector product (the forward sweep over the forward and backward
  statements, seeded with one basis vector) per entry of each parameter. Symmetry: the loop
  over parameter A's entries computes only the blocks H_A_B for B at or after A (the tangent
  code of the other gradients is not generated, and a seed in A reaches only what depends on
  A); the blocks below the diagonal are transposes of those above it.
- Jacobian: forward mode (one JVP per parameter entry) when the parameters have fewer
  entries than the result, else reverse mode (one VJP per result entry), as the notes
  advise. Sizes are symbolic, so the choice is made at compile time when SymPy can compare
  them (integer dimensions, or sizes such as n*k against k), and otherwise at run time: the
  module holds both loops and compares the sizes of its arguments.
"""

from __future__ import annotations

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.forward import primitive, tangents
from gradgen.codegen import type_hints
from gradgen.codegen.basis_loops import Loop, loop_blocks, plan
from gradgen.codegen.builder import Builder
from gradgen.codegen.layout import dims_in, docstring, tuple_text
from gradgen.codegen.template import Block, Function

# Above this many tangent statements in all loops together (before optimisation; an MLP of
# about 8 layers) loops specialised to each parameter array would make a module too long to
# read or format quickly: the Hessian then calls f_hvp per column, the Jacobian uses its
# (single) reverse-mode loop.
BUDGET = 1200


def _assign(pairs) -> list[tuple[str, str, str]]:
    """Printed (target, value) pairs as the statements ``target = value``."""
    return [(target, "=", value) for target, value in pairs]


def _shape_text(param: ir.Param) -> str | None:
    return f"{param.name}.shape" if param.shape else None


def _zeros(text, *shapes: str | None) -> str:
    """Zeros of the shapes joined, of the arguments' float type (``entry.dtype_lines``)."""
    parts = [s for s in shapes if s is not None]
    return text.zeros(" + ".join(parts) if parts else "()")


def _layout(b: Builder, prologue, loops, index, allocate, branches=None):
    """Blocks of the Jacobian: the prologue, the allocations, the loops (inside an if/else
    on ``branches`` = (condition, comment, comment) when given)."""
    mapping = b.namer.mapping(prologue)
    blocks = b.blocks(prologue, mapping)
    blocks.append(Block("The result, filled in by the loops below", _assign(allocate)))
    for k, loop in enumerate(loops):
        depth = 1
        if branches is not None:
            first = k == 0 or loop.branch != loops[k - 1].branch
            if first:
                header = f"if {branches[0]}:" if loop.branch == 0 else "else:"
                blocks.append(Block(branches[1 + loop.branch], [], 1, header))
            depth = 2
        scoped = b.namer.mapping(prologue + loop.body)
        blocks += loop_blocks(loop, scoped, index, depth, b.blocks, b.text)
    return blocks


def _used(prologue, loops, extra=()) -> set:
    exprs = [s.expr for s in prologue] + list(extra)
    for loop in loops:
        exprs += [s.expr for s in loop.body] + [v for _, _, v in loop.stores]
    return dims_in(exprs)


def _transpose(text, name: str, first: ir.Param, second: ir.Param) -> str:
    """H_B_A from H_A_B: swap the axes of A and those of B."""
    ra, rb = len(first.shape), len(second.shape)
    if not ra or not rb:
        return text.copied(name)
    return text.permuted(name, list(range(ra, ra + rb)) + list(range(ra)))


def _part(what: str, index: str, param: ir.Param) -> str:
    return f"{what} {index} of " if param.shape else ""


def _seeded(b: Builder, primal, param, index, stores_of, comment, branch=None):
    """A loop over the entries of ``param``: the forward sweep seeded with its basis
    vectors; ``stores_of(tangent)`` says what to store. Returns the loop and the tangents.
    """
    seed = b.seed(param)
    tans, tangent = tangents(primal, b.graph, {param.sym: seed})
    if not any(t.expr.has(ops.LoopBackDot) for t in tans):  # a loop's tape: not read
        tans = [t.with_expr(ops.untaped(t.expr)) for t in tans]
    what = (
        f"Basis vector {index} of {param.name}"
        if param.shape
        else f"The derivative with respect to {param.name}"
    )
    comment = comment[:1].upper() + comment[1:]
    loop = Loop(
        seed, _shape_text(param), tans, stores_of(tangent), what, comment, branch
    )
    return loop, tangent


def _plan(b: Builder, primal, loops, keep):
    bodies = [s for loop in loops for s in loop.body]
    prologue, loops = plan(primal + bodies, loops, keep, b.graph)
    return prologue, [loop for loop in loops if loop.stores]


def _hessian_names(b: Builder) -> tuple[dict, str]:
    wrt = b.wrt
    pairs = [(i, j) for i in range(len(wrt)) for j in range(len(wrt))]
    return {
        (i, j): b.claim(f"H_{wrt[i].name}_{wrt[j].name}") for i, j in pairs
    }, b.claim("i")


def _hessian_loops(b: Builder, primal, H, index) -> tuple[list[Loop], set]:
    loops, keep, grads = [], b.first_order_keep(), b.program.grads
    for i, p in enumerate(b.wrt):
        loop, tangent = _seeded(
            b,
            primal,
            p,
            index,
            lambda t: [
                (H[i, j], "row", t[g]) for j, g in enumerate(grads) if j >= i and g in t
            ],
            f"{_part('Row', index, p)}the blocks H_{p.name}_*: the tangent of the gradient",
        )
        loops.append(loop)
        keep = b.with_tangents(keep, tangent)
    return loops, keep


def _hessian_function(b: Builder, H, blocks, how: str, used) -> Function:
    """Allocations first, transposes last, around the ``blocks`` that fill them."""
    name, wrt, k = b.program.name, b.wrt, len(b.wrt)
    shape = [_shape_text(p) for p in wrt]
    upper = [(i, j) for i in range(k) for j in range(i, k)]
    allocate = [(H[i, j], _zeros(b.text, shape[i], shape[j])) for i, j in upper]
    below = [
        (H[j, i], _transpose(b.text, H[i, j], wrt[i], wrt[j]))
        for i, j in upper
        if j > i
    ]
    blocks = [
        Block("The result, filled in by the loops below", _assign(allocate))
    ] + blocks
    if below:
        blocks.append(
            Block("The blocks below the diagonal, by symmetry", _assign(below))
        )
    rows = [f"({', '.join(H[i, j] for j in range(k))})" for i in range(k)]
    returns = H[0, 0] if k == 1 else ", ".join(rows)
    summary = f"{name}_hessian({b.args}) -> {returns if k == 1 else f'({returns})'}"
    doc = docstring(
        f"Dense Hessian of ``{name}`` with respect to {b.wrt_text}, as jax.hessian: "
        "block H_A_B[i, j] = d2 f / dA[i] dB[j] has shape A.shape + B.shape.",
        f"{how}; only the blocks on and above the diagonal are computed, the others are "
        "their transposes. Meant for small parameter counts.",
    )
    rows_hint = [type_hints.arrays(k, b.program)] * k
    result = rows_hint[0] if k == 1 else type_hints.tuple_of(rows_hint)
    return b.function(
        f"{name}_hessian", [], doc, summary, blocks, returns, used, result=result
    )


def hessian(b: Builder) -> list[Function]:
    program = b.program
    primal = primitive(program.forward + program.backward, b.graph)
    H, index = _hessian_names(b)
    loops, keep = _hessian_loops(b, primal, H, index)
    if sum(len(loop.body) for loop in loops) > BUDGET:
        return _hessian_by_hvp(Builder(program, b.text))
    prologue, loops = _plan(b, primal, loops, keep)
    mapping = b.namer.mapping(prologue)
    blocks = b.blocks(prologue, mapping)
    for loop in loops:
        scoped = b.namer.mapping(prologue + loop.body)
        blocks += loop_blocks(loop, scoped, index, 1, b.blocks, b.text)
    how = (
        "One Hessian-vector product per parameter entry, after one forward and backward "
        "pass"
    )
    return [_hessian_function(b, H, blocks, how, _used(prologue, loops))]


def _hessian_by_hvp(b: Builder) -> list[Function]:
    """The Hessian column by column through ``f_hvp``: compact code for a model with many
    parameter arrays, for which a loop specialised to each would make a huge module."""
    name, wrt = b.program.name, b.wrt
    hvp = Builder(b.program, b.text).hvp()
    H, index = _hessian_names(b)
    dots = [b.claim(f"{p.name}_dot") for p in wrt]
    outs = [b.claim(f"d{p.name}_dot") for p in wrt]
    zeros = [
        (d, _zeros(b.text, _shape_text(p)) if p.shape else "0.0")
        for d, p in zip(dots, wrt)
    ]
    blocks = [Block("The direction: zero but for one entry at a time", _assign(zeros))]
    call = f"{name}_hvp({b.args}, {tuple_text(dots)})"
    for i, p in enumerate(wrt):
        row = b.text.leading(index if p.shape else "")
        one, zero = [
            b.text.write(dots[i], f"[{index}]", v) if p.shape else (dots[i], "=", v)
            for v in ("1.0", "0.0")
        ]
        stmts = [one, (", ".join(outs), "=", call), zero]
        stmts += [b.text.write(H[i, j], row, outs[j]) for j in range(i, len(wrt))]
        header = (
            f"for {index} in {b.text.indices(f'{p.name}.shape')}:" if p.shape else None
        )
        what = (
            f"Basis vector {index} of {p.name}"
            if p.shape
            else f"The direction {p.name}"
        )
        blocks.append(Block(what, stmts, 1 if p.shape else 0, header))
    how = (
        f"One call of {name}_hvp per parameter entry (this model has too many parameter "
        "arrays for a loop specialised to each: its code would grow with their square)"
    )
    return [hvp, _hessian_function(b, H, blocks, how, set())]


def _choice(b: Builder) -> tuple[str, sp.Expr, sp.Expr]:
    """``forward``, ``reverse`` or ``both`` (decided at run time), and the two sizes."""
    inputs = sp.Add(*[ir.size_of(p.shape) for p in b.wrt])
    outputs = ir.size_of(b.graph.shapes[b.program.output])
    more = outputs - inputs
    if more.is_positive:
        return "forward", inputs, outputs
    if more.is_nonpositive:
        return "reverse", inputs, outputs
    return "both", inputs, outputs


def _out_text(shape) -> str:
    items = [str(d) for d in shape]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


_HOW = {
    "forward": "forward mode (one JVP per parameter entry: there are fewer of them than "
    "result entries)",
    "reverse": "reverse mode (one VJP per result entry: there are no more of them than "
    "parameter entries)",
    "reverse-long": "reverse mode (one VJP per result entry): forward mode would take "
    "fewer passes, but its code, a loop specialised to each parameter array, would be too "
    "long for this many",
    "both": "forward mode (one JVP per parameter entry) when the parameters have fewer "
    "entries than the result, else reverse mode (one VJP per result entry); the sizes "
    "are compared at run time",
}


def _jacobian_loops(b: Builder, primal, J, index, choice) -> tuple[list, set]:
    program, out = b.program, b.program.output
    loops, keep = [], b.first_order_keep()
    if choice in ("forward", "both"):
        for j, p in enumerate(b.wrt):
            loop, tangent = _seeded(
                b,
                primal,
                p,
                index,
                lambda t: [(J[j], "column", t[out])] if out in t else [],
                f"{_part('Column', index, p)}J_{p.name}: the tangent of the result",
                0 if choice == "both" else None,
            )
            loops.append(loop)
            keep = b.with_tangents(keep, tangent)
    if choice in ("reverse", "both"):
        loops.append(
            Loop(
                program.cotangent,
                _out_text(b.graph.shapes[out]),
                list(program.backward),
                [(J[j], "row", g) for j, g in enumerate(program.grads)],
                f"Basis vector {index} of the result",
                f"Row {index} of each Jacobian: the gradient of the result's entry {index}",
                1 if choice == "both" else None,
            )
        )
    return loops, keep


def jacobian(b: Builder) -> Function:
    program, name = b.program, b.program.name
    out_shape = b.graph.shapes[program.output]
    choice, inputs, outputs = _choice(b)
    J = [b.claim(f"J_{p.name}") for p in b.wrt]
    index = b.claim("i")
    primal = primitive(program.forward, b.graph)
    loops, keep = _jacobian_loops(b, primal, J, index, choice)
    if choice != "reverse" and sum(len(loop.body) for loop in loops) > BUDGET:
        choice = "reverse-long"
        loops, keep = _jacobian_loops(b, primal, J, index, "reverse")
    prologue, loops = _plan(b, primal, loops, keep)
    branches, sizes = None, list(out_shape)
    if len({loop.branch for loop in loops}) == 2:  # both modes, chosen at run time
        branches = (
            f"{b.text(inputs)} < {b.text(outputs)}",
            "Forward mode: the parameters have fewer entries than the result",
            "Reverse mode: the result has no more entries than the parameters",
        )
        sizes += [inputs, outputs]
    out_text = _out_text(out_shape)
    allocate = [
        (J[j], _zeros(b.text, out_text, _shape_text(p))) for j, p in enumerate(b.wrt)
    ]
    blocks = _layout(b, prologue, loops, index, allocate, branches=branches)
    returns = ", ".join(J)
    doc = docstring(
        f"Jacobian of ``{name}`` with respect to {b.wrt_text}, as jax.jacobian: J_A has "
        f"shape {name}.shape + A.shape.",
        f"Computed by {_HOW[choice]}.",
    )
    shown = returns if len(J) == 1 else f"({returns})"
    summary = f"{name}_jacobian({b.args}) -> {shown}"
    used = _used(prologue, loops, sizes)
    result = type_hints.arrays(len(J), program)
    return b.function(
        f"{name}_jacobian", [], doc, summary, blocks, returns, used, result=result
    )
