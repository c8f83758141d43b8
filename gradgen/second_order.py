"""Dense derivatives: ``f_hessian`` (scalar results) and ``f_jacobian`` (array results).

Takes a ``modes.Builder`` (a differentiated program, its namer) and returns the
``emit.Function``. Both loop over basis vectors (``loops.py``); the forward pass, and for
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

from . import ir
from .emit import Block, Function
from .forward import primitive, tangents
from .loops import Loop, loop_blocks, plan
from .modes import Builder, blocks_of, dims_in
from .pipeline import _doc
from .printer import to_source


def _shape_text(param: ir.Param) -> str | None:
    return f"{param.name}.shape" if param.shape else None


def _zeros(*shapes: str | None) -> str:
    parts = [s for s in shapes if s is not None]
    return f"np.zeros({' + '.join(parts) if parts else '()'})"


def _layout(b: Builder, prologue, loops, index, allocate, epilogue=(), branches=None):
    """Blocks of a loop function: the prologue, the allocations, the loops (inside an
    if/else on ``branches`` = (condition, comment, comment) when given), the epilogue.
    """
    mapping = b.namer.mapping(prologue)
    blocks = blocks_of(prologue, mapping)
    blocks.append(Block("The result, filled in by the loops below", allocate))
    for k, loop in enumerate(loops):
        depth = 1
        if branches is not None:
            first = k == 0 or loop.branch != loops[k - 1].branch
            if first:
                header = f"if {branches[0]}:" if loop.branch == 0 else "else:"
                blocks.append(Block(branches[1 + loop.branch], [], 1, header))
            depth = 2
        scoped = b.namer.mapping(prologue + loop.body)
        blocks += loop_blocks(loop, scoped, index, depth, blocks_of)
    if epilogue:
        blocks.append(
            Block("The blocks below the diagonal, by symmetry", list(epilogue))
        )
    return blocks


def _used(prologue, loops, extra=()) -> set:
    exprs = [s.expr for s in prologue] + list(extra)
    for loop in loops:
        exprs += [s.expr for s in loop.body] + [v for _, _, v in loop.stores]
    return dims_in(exprs)


def _transpose(name: str, first: ir.Param, second: ir.Param) -> str:
    """H_B_A from H_A_B: swap the axes of A and those of B."""
    ra, rb = len(first.shape), len(second.shape)
    if not ra or not rb:
        return f"{name}.copy()"
    axes = list(range(ra, ra + rb)) + list(range(ra))
    return f"{name}.transpose({', '.join(map(str, axes))}).copy()"


def hessian(b: Builder) -> Function:
    program, name, wrt = b.program, b.program.name, b.wrt
    primal = primitive(program.forward + program.backward, b.graph)
    H = {
        (i, j): b.claim(f"H_{p.name}_{q.name}")
        for i, p in enumerate(wrt)
        for j, q in enumerate(wrt)
    }
    index = b.claim("i")
    loops, bodies, keep = [], [], b.first_order_keep()
    for i, p in enumerate(wrt):
        seed = b.seed(p)
        tans, tangent = tangents(primal, b.graph, {p.sym: seed})
        stores = [
            (H[i, j], "row", tangent[g])
            for j, g in enumerate(program.grads)
            if j >= i and g in tangent
        ]
        keep = b.with_tangents(keep, tangent)
        loops.append(
            Loop(
                seed,
                _shape_text(p),
                tans,
                stores,
                (
                    f"Basis vector {index} of {p.name}"
                    if p.shape
                    else f"The direction {p.name}"
                ),
                f"Row {index} of the blocks H_{p.name}_*: the tangent of the gradient",
            )
        )
        bodies += tans
    prologue, loops = plan(primal + bodies, loops, keep, b.graph)
    loops = [loop for loop in loops if loop.stores]
    allocate = [
        (H[i, j], _zeros(_shape_text(p), _shape_text(q)))
        for i, p in enumerate(wrt)
        for j, q in enumerate(wrt)
        if j >= i
    ]
    below = [
        (H[j, i], _transpose(H[i, j], p, q))
        for i, p in enumerate(wrt)
        for j, q in enumerate(wrt)
        if j > i
    ]
    blocks = _layout(b, prologue, loops, index, allocate, below)
    rows = [[H[i, j] for j in range(len(wrt))] for i in range(len(wrt))]
    returns = (
        rows[0][0] if len(wrt) == 1 else ", ".join(f"({', '.join(r)})" for r in rows)
    )
    shown = returns if len(wrt) == 1 else f"({returns})"
    doc = _doc(
        f"Dense Hessian of ``{name}`` with respect to {b.wrt_text}, as jax.hessian: "
        "block H_A_B[i, j] = d2 f / dA[i] dB[j] has shape A.shape + B.shape.",
        "One Hessian-vector product per parameter entry, after one forward and backward "
        "pass; only the blocks on and above the diagonal are computed, the others are "
        "their transposes. Meant for small parameter counts.",
    )
    summary = f"{name}_hessian({b.args}) -> {shown}"
    used = _used(prologue, loops)
    return b.function(f"{name}_hessian", [], doc, summary, blocks, returns, used)


def _choice(b: Builder) -> tuple[str, sp.Expr, sp.Expr]:
    """ "forward", "reverse" or "both" (decided at run time), and the two sizes."""
    inputs = sp.Add(*[ir.size_of(p.shape) for p in b.wrt])
    outputs = ir.size_of(b.graph.shapes[b.program.output])
    more = outputs - inputs
    if more.is_positive:
        return "forward", inputs, outputs
    if more.is_nonpositive:
        return "reverse", inputs, outputs
    return "both", inputs, outputs


def _out_text(shape) -> str:
    items = [to_source(d) for d in shape]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def jacobian(b: Builder) -> Function:
    program, name, wrt = b.program, b.program.name, b.wrt
    out = program.output
    out_shape = b.graph.shapes[out]
    choice, inputs, outputs = _choice(b)
    J = [b.claim(f"J_{p.name}") for p in wrt]
    index = b.claim("i")
    primal = primitive(program.forward, b.graph)
    loops, bodies = [], []
    keep = b.first_order_keep()
    if choice in ("forward", "both"):
        for j, p in enumerate(wrt):
            seed = b.seed(p)
            tans, tangent = tangents(primal, b.graph, {p.sym: seed})
            keep = b.with_tangents(keep, tangent)
            stores = [(J[j], "column", tangent[out])] if out in tangent else []
            loops.append(
                Loop(
                    seed,
                    _shape_text(p),
                    tans,
                    stores,
                    (
                        f"Basis vector {index} of {p.name}"
                        if p.shape
                        else f"The direction {p.name}"
                    ),
                    f"Column {index} of J_{p.name}: the tangent of the result",
                    0 if choice == "both" else None,
                )
            )
            bodies += tans
    if choice in ("reverse", "both"):
        loops.append(
            Loop(
                program.cotangent,
                _out_text(out_shape),
                list(program.backward),
                [(J[j], "row", g) for j, g in enumerate(program.grads)],
                f"Basis vector {index} of the result",
                f"Row {index} of each Jacobian: the gradient of the result's entry {index}",
                1 if choice == "both" else None,
            )
        )
        bodies += program.backward
    prologue, loops = plan(primal + bodies, loops, keep, b.graph)
    loops = [loop for loop in loops if loop.stores]
    branches = None
    if choice == "both" and len({loop.branch for loop in loops}) == 2:
        branches = (
            f"{to_source(inputs)} < {to_source(outputs)}",
            "Forward mode: the parameters have fewer entries than the result",
            "Reverse mode: the result has no more entries than the parameters",
        )
    allocate = [
        (J[j], _zeros(_out_text(out_shape), _shape_text(p))) for j, p in enumerate(wrt)
    ]
    blocks = _layout(b, prologue, loops, index, allocate, branches=branches)
    returns = ", ".join(J)
    mode = {
        "forward": "forward mode (one JVP per parameter entry: there are fewer of them "
        "than result entries)",
        "reverse": "reverse mode (one VJP per result entry: there are no more of them "
        "than parameter entries)",
        "both": "forward mode (one JVP per parameter entry) when the parameters have "
        "fewer entries than the result, else reverse mode (one VJP per result entry); "
        "the sizes are compared at run time",
    }[choice]
    doc = _doc(
        f"Jacobian of ``{name}`` with respect to {b.wrt_text}, as jax.jacobian: J_A has "
        f"shape {name}.shape + A.shape.",
        f"Computed by {mode}.",
    )
    summary = (
        f"{name}_jacobian({b.args}) -> {returns if len(J) == 1 else f'({returns})'}"
    )
    used = _used(
        prologue, loops, list(out_shape) + list(branches and (inputs, outputs) or ())
    )
    return b.function(f"{name}_jacobian", [], doc, summary, blocks, returns, used)
