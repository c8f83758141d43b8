"""The helper functions of a loop that stays a loop: the body, traced once
(``ir.Loop``), made a program of its own (``body_program``: its inputs are the carried
values, the rows it reads and the outer values; its outputs the carried values' new
values), differentiated with one seed per carried value, optimised and named like any
generated function, then laid out inside ``for`` loops (``loop_functions``):

- ``_f_loop1(...)``: the loop; returns the carried values' last values;
- ``_f_loop1_forward(...)``: the same, keeping per step what the backward pass reads
  (``hs[t] = h``: the tape, preallocated, O(steps × state));
- ``_f_loop1_backward(run, ..., dh)``: ``for t in reversed(range(T))``, carrying the
  carried values' adjoints, accumulating the gradients of the outer values
  (``dWh += ...``) and writing the rows' (``dX[t] += ...``);
- ``_f_loop1_jvp(..., h_dot, ...)``, for the forward modes: the steps, each carried
  value's tangent carried beside it (the forward sweep over the step).

For Hessian-vector products, ``_f_loop1_forward_jvp`` is the tangent helper keeping each
step's carried values and their tangents, and ``_f_loop1_backward_jvp`` the steps in reverse,
each recomputed from them, with the gradients' tangents. The outer function calls them
through ``ops.LoopRun`` and ``ops.LoopBack``, in forward mode ``ops.LoopDot`` and
``ops.LoopBackDot``.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

import sympy as sp
from sympy.core.parameters import distribute

from gradgen import ir, ops
from gradgen.ad.forward import primitive, tangents
from gradgen.ad.reverse import active_nodes, differentiate_many, needed_nodes
from gradgen.ad.stable_rewrites import stabilise
from gradgen.codegen.entry import dtype_lines
from gradgen.codegen.layout import dims_lines, docstring, statement_blocks
from gradgen.codegen.naming import Namer
from gradgen.codegen.optimize import optimise
from gradgen.codegen.template import Block, Function
from gradgen.errors import GradgenError
from gradgen.explain import latex
from gradgen.timing import stage


def _outer_name(outer: ir.Program, sym, taken: set) -> str:
    param = next((p.name for p in outer.params if p.sym == sym), None)
    node = outer.graph.by_sym.get(sym)
    base = param or (min(node.names)[2] if node is not None and node.names else "inv")
    return _claim(base, taken)


_claim = Namer._claim  # base, else base_1, base_2, ...: a name not yet taken


class Body:
    """A loop's body as a program, with what its helpers need to know."""

    def __init__(self, outer: ir.Program, loop: ir.Loop):
        self.loop = loop
        g = loop.graph
        wrt_syms = {p.sym for p in outer.params if p.name in outer.wrt}
        active = active_nodes(outer.graph, wrt_syms)
        taken = set((outer.module_names.reserved if outer.module_names else ()))
        taken |= {d.name for p in outer.params for d in p.shape if ir.is_dim_symbol(d)}
        params, wrt = [], []
        # the helpers' own parameters: the carried values' first values, the arrays
        # whose rows are read, the outer values
        self.carry_params = []
        for c in loop.carries:
            name = _claim(c.name, taken)
            params.append(ir.Param(name, c.inner, c.shape))
            wrt.append(name)
            self.carry_params.append(name)
        self.array_params = {}
        for s in loop.slices:
            if s.array not in self.array_params:
                name = _outer_name(outer, s.array, taken)
                shape = loop.outer_shapes[s.array]
                integer = s.array in g.integers or s.array in outer.graph.integers
                params.append(ir.Param(name, s.array, shape, integer))
                self.array_params[s.array] = name
        self.invariant_params = {}
        for s in loop.invariants:
            if s in self.array_params:  # read whole too, not only by rows
                if s in active and s not in g.integers:
                    wrt.append(self.array_params[s])
                continue
            name = _outer_name(outer, s, taken)
            integer = s in g.integers
            params.append(ir.Param(name, s, g.shapes[s], integer))
            self.invariant_params[s] = name
            if s in active and not integer:
                wrt.append(name)
        self.signature = [p.name for p in params]
        # the inputs with a tangent in forward mode: the carried values', the active ones
        integers = g.integers | outer.graph.integers
        inits = {c.init for c in loop.carries}
        loop.active = [
            s for s in loop.inputs if s in inits or (s in active and s not in integers)
        ]
        self.slice_names = {}
        for s in loop.slices:
            name = _claim(s.name, taken)
            integer = s.inner in g.integers
            params.append(ir.Param(name, s.inner, g.shapes[s.inner], integer))
            self.slice_names[s.inner] = name
            if s.array in active and not integer:
                wrt.append(name)
        self.index = _claim(loop.index, taken) if loop.index_sym is not None else None
        if loop.index_sym is not None:
            params.append(ir.Param(self.index, loop.index_sym, (), True))
        elif loop.index not in taken:
            self.index = _claim(loop.index, taken)
        else:
            self.index = _claim("t", taken)
        self.seeds = []
        for c in loop.carries:
            seed = g.new_symbol("seed")
            g.add("input", None, c.shape, None, sym=seed)
            params.append(ir.Param(_claim("d" + c.name, taken), seed, c.shape))
            self.seeds.append(seed)
        outputs = [c.out for c in loop.carries]
        for c in loop.carries:  # a carried value's new value: h_next
            node = g.by_sym[c.out]
            if node.kind != "input":
                node.names.insert(0, (-1, -1, f"{c.name}_next"))
        self.rewrites = stabilise(g)
        order = {p.name: k for k, p in enumerate(params)}
        wrt = sorted(wrt, key=order.__getitem__)
        wrt_inner = [p.sym for p in params if p.name in wrt]
        needed = set().union(*(needed_nodes(g, o) for o in outputs))
        forward = [
            ir.Stmt(n.sym, n.expr, "forward", n.sym, n.site)
            for n in g.nodes
            if n.sym in needed and n.kind != "input"
        ]
        site = ir.Site(outer.path, loop.line, loop.line, -1, loop.header)
        with stage("reverse sweep"):
            backward, grads = differentiate_many(
                g, dict(zip(outputs, self.seeds)), wrt_inner, site
            )
        self.program = ir.Program(
            f"{outer.name}_loop",
            outer.path,
            loop.line,
            params,
            wrt,
            g,
            outputs[0],
            True,
            forward,
            backward,
            grads,
            module_names=outer.module_names,
            checks=False,
            outputs=outputs,
        )
        self.grad_of = dict(zip(wrt_inner, grads))
        # a seed is the adjoint of a carried value's new value (its deltas are named so)
        self.program.seed_of = {seed: c.out for seed, c in zip(self.seeds, loop.carries)}


def bodies(program: ir.Program) -> list[Body]:
    """The bodies of a program's loops, each made once (and named ``_f_loopK``)."""
    found = getattr(program, "_bodies", None)
    if found is None:
        found = []
        for k, loop in enumerate(program.graph.loops, 1):
            loop.name = f"_{program.name}_loop{k}"
            with distribute(False):
                body = Body(program, loop)
            found.append(body)
        program._bodies = found
    return found


def _range(body: Body, text, reverse: bool = False) -> str:
    loop = body.loop
    start, stop = text(loop.start), text(loop.stop)
    span = stop if loop.start == 0 else f"{start}, {stop}"
    steps = f"range({span})"
    return f"for {body.index} in {'reversed(' + steps + ')' if reverse else steps}:"


def _row(text, array: str, key: str) -> str:
    """``array[key]``: one row (the Array API indexes every axis: ``array[key, ...]``)."""
    return f"{array}[{key}, ...]" if text.array_api else f"{array}[{key}]"


def _write(text, array: str, key: str, value: str, op: str = "=") -> tuple[str, str, str]:
    """``array[key] op value``, one row (``text.write``: in the Array API a functional
    update, ``hs = xpx.at(hs)[t + 1, ...].set(h_next)``, which JAX's arrays allow)."""
    return text.write(array, f"[{key}, ...]" if text.array_api else f"[{key}]", value, op)


def _assign(text, left, op: str, value: str) -> tuple[str, str, str]:
    """``left op value``: ``left`` a name, or (array, key) for a row (``_write``)."""
    if isinstance(left, tuple):
        return _write(text, *left, value, op)
    return left, op, value


def _empty(text, shape: str, dtype: str) -> str:
    """A new array to fill: ``np.empty(shape, dtype)`` (the Array API's takes dtype=)."""
    return f"{text.np}.empty({shape}, {'dtype=' if text.array_api else ''}{dtype})"


def _grouped(text: str) -> str:
    return f"({text})" if " " in text else text


def _shifted(index: str, offset: int) -> str:
    """``t``, ``t + 1``, ``t - 1``."""
    if offset == 0:
        return index
    return f"{index} {'+' if offset > 0 else '-'} {abs(offset)}"


def _step(body: Body, text) -> str:
    """The position of this step in the tape: t, or t - start."""
    return body.index if body.loop.start == 0 else f"{body.index} - {text(body.loop.start)}"


def _row_reads(body: Body, stmts, mapping, text) -> list[tuple[str, str, str]]:
    """``x_t = X[t]`` for the rows these statements read."""
    read = set().union(*(s.expr.free_symbols for s in stmts)) if stmts else set()
    lines = []
    for s in body.loop.slices:
        if s.inner in read:
            array = body.array_params[s.array]
            key = _shifted(body.index, s.offset)
            lines.append((mapping[s.inner].name, "=", _row(text, array, key)))
    return lines


def _blocks(body: Body, stmts, mapping, text, depth: int) -> list[Block]:
    blocks = statement_blocks(
        stmts, mapping, text, body.program.graph.shapes, depth=depth, forward_header=False
    )
    for b in blocks:
        b.depth = depth
    return blocks


def _carry_update(body: Body, results, mapping, text) -> tuple[str, str, str] | None:
    names, values = [], []
    for name, out in zip(body.carry_params, results):
        value = text.mapped(mapping)(out) if not isinstance(out, sp.Symbol) else mapping.get(out, out).name
        if value != name:
            names.append(name)
            values.append(value)
    if not names:
        return None
    return (", ".join(names), "=", ", ".join(values))


def _doc(body: Body, what: str) -> str:
    loop = body.loop
    return docstring(f"{what} of the loop at {body.program.path}:{loop.line} ({loop.header}).")


def _signature_hints(body: Body, names, tape: bool = False) -> list[str]:
    own = body.program.module_names
    hints = []
    by_name = {p.name: p for p in body.program.params}
    for n in names:
        p = by_name.get(n)
        if p is None:
            hints.append("int")
        elif p.integer:
            hints.append(own.int_array_type if p.shape else "int")
        else:
            hints.append(own.array_type if p.shape else "float")
    return hints


def _fold(blocks, backward, targets, inner_grad, mapping, printer, body) -> list:
    """Where each step's gradient goes: the statement computing it writes there itself
    (``dWh += h.T @ delta``; ``dh = delta @ Wh.T`` once nothing after it reads ``dh``),
    else a line after the step's statements; returns those lines. A target is a name,
    or (array, key) for a row (``dX[t] += ...``, written by ``printer.write``)."""
    lines, moves = [], []
    seeds = {p.name for p in body.program.params[-len(body.seeds) :]}
    for sym, (left, op) in targets.items():
        g = inner_grad[sym]
        name = mapping[g].name if isinstance(g, sp.Symbol) and g in mapping else None
        found = [
            (b, k)
            for b in blocks
            if b.depth
            for k, line in enumerate(b.statements)
            if name is not None and line[0] == name
        ]
        later_reads_seed = False
        if op == "=" and name is not None:  # a carried value's adjoint, one step back
            seed = next(s for s in body.seeds if mapping[s].name == left)
            after = False
            for stmt in backward:
                if after and seed in stmt.expr.free_symbols:
                    later_reads_seed = True
                after = after or stmt.target == g
            reads_grad = any(
                g in stmt.expr.free_symbols for stmt in backward if stmt.target != g
            )
            later_reads_seed = later_reads_seed or reads_grad
        if len(found) == 1 and found[0][1] is not None and not later_reads_seed:
            b, k = found[0]
            _, _, right = b.statements[k]
            if b.statements[k][1] == "=" and (op == "=" or not _reads_elsewhere(g, backward)):
                # lines that write into it after its first (``d[None, :] = ...``, a scatter)
                slots = any(
                    line[0].startswith(name + "[")
                    for b in blocks
                    if b.depth
                    for line in b.statements
                )
                if not slots:
                    b.statements[k] = _assign(printer, left, op, right)
                    continue
                # every line writes it instead; not where they read the seed itself: the
                # first line (``d = np.zeros_like(z)``) would clear what the scatter copies
                if op == "=" and isinstance(left, str) and not _reads_seed(g, seed, backward):
                    _rename_in(blocks, name, left)
                    continue
        if name == left:  # computed in lines of its own: under another name, then added
            step_name = _claim(f"{name}_step", set(mapping_names(mapping)))
            _rename_in(blocks, name, step_name)
            name = step_name
        value = name if name is not None else printer(g)
        (moves if op == "=" else lines).append(_assign(printer, left, op, value))
    if moves:
        lines.append((", ".join(m[0] for m in moves), "=", ", ".join(m[2] for m in moves)))
    return lines


def mapping_names(mapping) -> set:
    return {s.name for s in mapping.values()}


def _rename_in(blocks, old: str, new: str) -> None:
    """The step's lines (the blocks inside the loop) that write ``old`` write ``new``."""
    for b in blocks:
        if b.depth:
            b.statements = [(_renamed(line[0], old, new), *line[1:]) for line in b.statements]


def _renamed(left: str, old: str, new: str) -> str:
    """``left`` with the name ``old`` that it writes to (``dW`` or ``dW[...]``) as ``new``."""
    if left == old or left.startswith(old + "["):
        return new + left[len(old) :]
    return left


def _reads_seed(g, seed, stmts) -> bool:
    """Whether the statement computing ``g`` reads ``seed`` directly."""
    return any(s.target == g and seed in s.expr.free_symbols for s in stmts)


def _reads_elsewhere(g, stmts) -> bool:
    return any(g in s.expr.free_symbols for s in stmts if s.target != g)


def _function(body, name, params, doc, dims, blocks, returns, hints, result) -> Function:
    return Function(name, params, doc, "", dims, blocks, returns, [], hints, result, False)


def loop_functions(program: ir.Program, text) -> list[Function]:
    """The helpers of every loop of ``program`` (see the module docstring)."""
    out = []
    for body in bodies(program):
        out += [_value(body, text), *_gradient(body, text)]
    return out


def _bound_params(body: Body, text) -> list[str]:
    return [text(b) for b in body.loop.passed]


def _dims(body: Body, used: set) -> list[str]:
    prog = body.program
    signature = ir.Program(
        prog.name, prog.path, prog.line, prog.params[: len(body.signature)], [], prog.graph, prog.output, True
    )
    return dims_lines(signature, used - set(body.loop.passed))


def _dtype(body: Body, text, blocks) -> list[str]:
    """``dtype = np.result_type(...)`` where the code reads the float type."""
    params = body.program.params[: len(body.signature)]
    return dtype_lines(text, [p.name for p in params if not p.integer], blocks, "")


def _used_dims(exprs) -> set:
    return {s for e in exprs for s in e.free_symbols if ir.is_dim_symbol(s)}


def _value(body: Body, text) -> Function:
    prog = body.program
    namer = Namer(prog)
    keep = {n.sym for n in prog.graph.nodes if n.names} | set(prog.outputs)
    with distribute(False), stage("optimise"):
        stmts, results = optimise(list(prog.forward), list(prog.outputs), keep, prog.graph)
    mapping = namer.mapping(stmts)
    printer = text.mapped(mapping)
    blocks = [Block(None, _row_reads(body, stmts, mapping, text), 1, _range(body, printer))]
    blocks += _blocks(body, stmts, mapping, text, 1)
    update = _carry_update(body, results, mapping, text)
    blocks.append(Block(None, [update] if update else [], 1))
    blocks = [b for b in blocks if b.statements or b.header]
    used = _used_dims([s.expr for s in stmts] + [body.loop.start, body.loop.stop])
    params = body.signature + _bound_params(body, text)
    returns = ", ".join(body.carry_params) + ("," if len(body.carry_params) == 1 else "")
    own = prog.module_names
    return _function(
        body,
        body.loop.name,
        params,
        _doc(body, "The steps"),
        _dims(body, used) + _dtype(body, text, blocks),
        blocks,
        f"({returns})",
        _signature_hints(body, params),
        f"tuple[{own.any_type}, ...]",
    )


def named_gradient(body: Body):
    """The optimised, named statements of a step and its gradient: (stmts, results,
    mapping), made once."""
    if getattr(body, "_named", None) is None:
        prog = body.program
        namer = Namer(prog)
        named = {n.sym for n in prog.graph.nodes if n.names}
        grads = list(prog.grads)
        keep = named | set(prog.outputs) | set(grads)
        keep |= {
            s.target for s in prog.backward if s.role == "adjoint" and s.node in named
        }
        with distribute(False), stage("optimise"):
            stmts, results = optimise(
                prog.forward + prog.backward, list(prog.outputs) + grads, keep, prog.graph
            )
        body._named = stmts, results, namer.mapping(stmts)
    return body._named


def step_gradients(body: Body) -> dict:
    """How the helpers write a step's gradients: the gradient's name in the step's
    statements -> (what the code writes, ``+=`` or ``=``): ``dWh`` summed over the steps,
    ``dX[t]`` a row of the rows' gradient, ``dh`` the carried value's adjoint, passed
    one step back. A gradient that other statements of the step read is left out."""
    stmts, _, mapping = named_gradient(body)
    loop = body.loop
    wrt = [p for p in body.program.params if p.name in body.program.wrt]
    shown = {}
    seeds = [p.name for p in body.program.params[-len(body.seeds) :]]
    backward = [s for s in stmts if s.section != "forward"]
    for p, g in zip(wrt, body.program.grads):
        if g not in mapping:
            continue
        name = mapping[g].name
        if _reads_elsewhere(g, backward):
            continue  # a step's value that other formulas read: shown as it is
        if p.sym in body.invariant_params or p.sym in body.array_params:
            shown[name] = (name, "+=")
        elif p.sym in body.slice_names:
            sl = next(s for s in loop.slices if s.inner == p.sym)
            key = _shifted(body.index, sl.offset)
            shown[name] = (f"d{body.array_params[sl.array]}[{key}]", "+=")
        elif p.name in body.carry_params:
            shown[name] = (seeds[body.carry_params.index(p.name)], "=")
    return shown


@dataclass
class LoopStep:
    """A loop's step as ``gradgen graph`` draws it (``explain.graph``): the step's
    program, named statements and names, the seed of each carried value's new value
    (the adjoint the step after passes back), the back edges (new value, carried
    value) and the names of its gradients as the helpers write them."""

    title: str
    program: ir.Program
    stmts: list
    mapping: dict
    seeds: dict
    back: list
    written: dict


def loop_steps(program: ir.Program) -> list[LoopStep]:
    """One ``LoopStep`` per loop that stays a loop in ``program``."""
    steps = []
    for body in bodies(program):
        stmts, _, mapping = named_gradient(body)
        loop = body.loop
        back = [(c.out, c.inner) for c in loop.carries if c.out != c.inner]
        title = f"loop_{loop.line}, one step of: {loop.header}"
        seeds = dict(zip(body.program.outputs, body.seeds))
        steps.append(
            LoopStep(
                title, body.program, stmts, mapping, seeds, back, step_gradients(body)
            )
        )
    return steps


def step_sections(program: ir.Program) -> list:
    """The formulas of each loop's step, forward and in reverse, as sections of a
    derivation (``latex.Section``): the recurrence in t that the helpers compute."""
    sections = []
    for body in bodies(program):
        stmts, results, mapping = named_gradient(body)
        loop = body.loop
        names = []
        for c, name in zip(loop.carries, body.carry_params):
            out = mapping[c.out].name if c.out in mapping else name
            if out != f"{name}_next":
                names.append(f"{out} is {name} at t + 1")
        if len(names) < len(loop.carries):
            names.insert(0, "x_next is x at t + 1")
        derived = latex.derive(body.program, stmts, results, mapping)
        shown = step_gradients(body)
        head = latex.Section(
            f"The loop at line {loop.line}, step t", loop.header, note="; ".join(names)
        )
        sections.append(head)
        for section in derived.sections:
            if section.title == "Forward pass":
                section.title = "Each step t, forward"
            section.equations = [  # dh = dh: an adjoint that a step passes on as it is
                eq for eq in section.equations if eq.text != f"{eq.name} = {eq.name}"
                and not (eq.name in shown and eq.text == f"{eq.name} = {shown[eq.name][0]}")
            ]
            for eq in section.equations:
                if eq.name in shown:  # summed over the steps, or one step back
                    left, op = shown[eq.name]
                    if op == "+=":
                        eq.lhs += r" \mathrel{+}"
                    eq.text = f"{left} {op} " + eq.text.split(" = ", 1)[1]
            sections.append(section)
    return sections


def _gradient(body: Body, text) -> list[Function]:
    prog = body.program
    stmts, results, mapping = named_gradient(body)
    outs, grad_results = results[: len(prog.outputs)], results[len(prog.outputs) :]
    forward = [s for s in stmts if s.section == "forward"]
    backward = [s for s in stmts if s.section != "forward"]
    grads = list(prog.grads)
    grad_of = dict(zip(grads, grad_results))
    inner_grad = {p.sym: grad_of[g] for p, g in zip([p for p in prog.params if p.name in prog.wrt], grads)}
    # what the backward pass reads of the forward one: the tape
    defined_forward = {s.target for s in forward}
    carried = {c.inner for c in body.loop.carries}
    read_back = set().union(*(s.expr.free_symbols for s in backward)) if backward else set()
    for r in grad_results:
        read_back |= r.free_symbols
    tape = [s for s in list(dict.fromkeys([c.inner for c in body.loop.carries] + [s.target for s in forward])) if s in read_back and (s in defined_forward or s in carried)]
    names = {mapping[s].name if s in mapping else s.name for s in mapping}
    names |= set(body.signature) | {p.name for p in prog.params}
    taken = set(names) | set(prog.module_names.reserved if prog.module_names else ())
    taken |= set(keyword.kwlist)
    forward, backward, tape, mapping = _taped_products(
        body, forward, backward, tape, grad_results, mapping, taken
    )
    printer = text.mapped(mapping)
    # a carried value's new value is the next step's value: one array holds both
    shared = {
        c.out: c.inner for c in body.loop.carries if c.out in tape and c.inner in tape
    }
    store = {s: _claim(f"{mapping[s].name}s", taken) for s in tape if s not in shared}
    for out, inner in shared.items():
        store[out] = store[inner]
    own = prog.module_names
    step = _step(body, printer)
    length = printer(body.loop.stop - body.loop.start)
    dtype = own.dtype
    shapes = prog.graph.shapes
    every = body.loop.checkpoint  # keep the carried values every K steps only

    def allocate(rows: str) -> list:
        """The tape's arrays, ``rows`` steps long (one more for a carried value)."""
        lines = []
        for s in tape:
            if s in shared:
                continue
            n = f"{rows} + 1" if s in shared.values() else rows
            shape = ", ".join([n] + [printer(d) for d in shapes[s]])
            shape = f"({shape},)" if not shapes[s] else f"({shape})"
            lines.append((store[s], "=", _empty(text, shape, dtype)))
        return lines

    def first_rows() -> list:
        return [_write(text, store[inner], "0", mapping[inner].name) for inner in shared.values()]

    def forward_steps(position: str, depth: int, keep: bool = True) -> list[Block]:
        """One step forward, at ``depth``, storing the tape at ``position``."""
        blocks = [Block(None, _row_reads(body, forward, mapping, text), depth)]
        blocks += _blocks(body, forward, mapping, text, depth)
        stores = []
        for s in tape if keep else []:
            if s in shared:
                stores.append(_write(text, store[s], f"{position} + 1", mapping[s].name))
            elif s not in shared.values():
                stores.append(_write(text, store[s], position, mapping[s].name))
        update = _carry_update(body, outs, mapping, text)
        blocks.append(Block(None, stores + ([update] if update else []), depth))
        return blocks

    saved = {c.inner: _claim(f"{name}_saved", taken) for c, name in zip(body.loop.carries, body.carry_params)} if every else {}
    if every:  # the carried values every K steps: the backward pass recomputes the rest
        count = f"({length} + {every - 1}) // {every}"
        alloc = []
        for c in body.loop.carries:
            shape = ", ".join([count] + [printer(d) for d in c.shape])
            shape = f"({shape},)" if not c.shape else f"({shape})"
            alloc.append((saved[c.inner], "=", _empty(text, shape, dtype)))
        fblocks = [Block(None, alloc, 0), Block(None, [], 1, _range(body, printer))]
        saves = [
            _write(text, saved[c.inner], f"{_grouped(step)} // {every}", name)
            for c, name in zip(body.loop.carries, body.carry_params)
        ]
        fblocks.append(Block(None, saves, 2, f"if {_grouped(step)} % {every} == 0:"))
        fblocks += forward_steps(step, 1, keep=False)
    else:
        alloc = allocate(length) + first_rows()
        fblocks = [Block(None, alloc, 0)] if alloc else []
        fblocks.append(Block(None, [], 1, _range(body, printer)))
        fblocks += forward_steps(step, 1)
    fblocks = [b for b in fblocks if b.statements or b.header]
    kept = list(dict.fromkeys(store[s] for s in tape))
    tape_text = ", ".join(kept) + ("," if len(kept) == 1 else "")
    saved_text = ", ".join(saved.values()) + ("," if len(saved) == 1 else "")
    carries = ", ".join(body.carry_params)
    used = _used_dims([s.expr for s in stmts] + [body.loop.start, body.loop.stop])
    used |= {d for s in tape for d in shapes[s] if ir.is_dim_symbol(d)}
    params = body.signature + _bound_params(body, text)
    hints = _signature_hints(body, params)
    dims = _dims(body, used)
    forward_fn = _function(
        body,
        body.loop.name + "_forward",
        params,
        _doc(body, "The steps, keeping what the backward pass reads,"),
        dims + _dtype(body, text, fblocks),
        fblocks,
        f"{carries}, ({saved_text if every else tape_text})",
        hints,
        f"tuple[{own.any_type}, ...]",
    )
    # backward: the steps in reverse
    run = _claim("run", taken)
    seed_names = [p.name for p in prog.params[-len(body.seeds):]]
    pre = []
    if every:
        pre.append((f"({saved_text})", "=", f"{run}[{len(body.loop.carries)}]"))
    elif tape:
        pre.append((f"({tape_text})", "=", f"{run}[{len(body.loop.carries)}]"))
    # gradients of the signature's arrays and outer values: zeros, accumulated
    acc = {}
    for p in prog.params[: len(body.signature)]:
        g = inner_grad.get(p.sym)
        own_name = mapping[g].name if isinstance(g, sp.Symbol) and g in mapping else None
        if own_name is not None and _reads_elsewhere(g, backward):
            # the step's value is read by other statements: the sum is another name
            own_name = _claim(f"{own_name}_sum", taken)
        if p.sym in body.array_params:
            rows = [sl for sl in body.loop.slices if sl.array == p.sym and sl.inner in inner_grad]
            if rows or p.sym in inner_grad:
                acc[p.sym] = own_name or _claim("d" + p.name, taken)
        elif p.sym in inner_grad and p.sym not in carried:
            acc[p.sym] = own_name or _claim("d" + p.name, taken)
    for sym, name in acc.items():
        pname = next(p.name for p in prog.params if p.sym == sym)
        pshape = next(p.shape for p in prog.params if p.sym == sym)
        zeros = f"{text.np}.zeros_like({pname})" if pshape else "0.0"
        pre.append((name, "=", zeros))
    position, depth = step, 1
    if every:  # segments of K steps, last first: recompute the tape, then go back
        segment, segment_end = _claim("segment", taken), _claim("segment_end", taken)
        position, depth = f"{body.index} - {segment}", 2
        pre += allocate(str(every))
        start, stop = printer(body.loop.start), printer(body.loop.stop)
        begin = [(segment_end, "=", f"min({segment} + {every}, {stop})")]
        offset = segment if body.loop.start == 0 else f"{segment} - {start}"
        begin += [
            (name, "=", _row(text, saved[c.inner], f"{_grouped(offset)} // {every}"))
            for c, name in zip(body.loop.carries, body.carry_params)
        ] + first_rows()
        header = f"for {segment} in reversed(range({start}, {stop}, {every})):"
        bblocks = [Block(None, pre, 0), Block(None, begin, 1, header)]
        bblocks.append(Block(None, [], 2, f"for {body.index} in range({segment}, {segment_end}):"))
        bblocks += forward_steps(position, 2)
        back_header = f"for {body.index} in reversed(range({segment}, {segment_end})):"
    else:
        bblocks = [Block(None, pre, 0)] if pre else []
        back_header = _range(body, printer, reverse=True)
    first_back = len(bblocks)
    restores = [
        (mapping[s].name, "=", _row(text, store[s], f"{position} + 1" if s in shared else position))
        for s in tape
    ]
    bblocks.append(Block(None, restores + _row_reads(body, backward, mapping, text), depth, back_header))
    bblocks += _blocks(body, backward, mapping, text, depth)
    # accumulate: outer values, rows; then the carried values' adjoints move one step back
    targets = {}  # grad symbol -> (left, operator): where the step's gradient goes
    for p in prog.params:
        g = inner_grad.get(p.sym, 0)
        if g == 0:
            continue
        if p.sym in acc:
            targets[p.sym] = (acc[p.sym], "+=")
        elif p.sym in body.slice_names:
            sl = next(sl for sl in body.loop.slices if sl.inner == p.sym)
            key = _shifted(body.index, sl.offset)
            targets[p.sym] = ((acc[sl.array], key), "+=")
    moves = []
    for c, seed_name in zip(body.loop.carries, seed_names):
        g = inner_grad.get(c.inner, 0)
        if g == 0:
            moves.append((seed_name, f"{text.np}.zeros_like({seed_name})"))
        else:
            targets[c.inner] = (seed_name, "=")
    acc_lines = _fold(
        bblocks[first_back:], backward, targets, inner_grad, mapping, printer, body
    )
    for name, value in moves:
        acc_lines.append((name, "=", value))
    bblocks.append(Block(None, acc_lines, depth))
    bblocks = [b for b in bblocks if b.statements or b.header]
    results_text = []
    for s in body.loop.inputs:
        if s in [c.init for c in body.loop.carries]:
            k = [c.init for c in body.loop.carries].index(s)
            results_text.append(seed_names[k])
        elif s in acc:
            results_text.append(acc[s])
        else:
            results_text.append("None")
    bparams = [run] + body.signature + seed_names + _bound_params(body, text)
    bhints = [own.any_type] + _signature_hints(body, body.signature) + [
        own.array_type if c.shape else "float" for c in body.loop.carries
    ] + ["int"] * len(body.loop.passed)
    bused = _used_dims([s.expr for s in backward] + [body.loop.start, body.loop.stop])
    if every:  # it recomputes the forward steps and allocates the tape
        bused |= used
    backward_fn = _function(
        body,
        body.loop.name + "_backward",
        bparams,
        _doc(body, "The steps in reverse: the gradients"),
        _dims(body, bused) + _dtype(body, text, bblocks),
        bblocks,
        ", ".join(results_text) + ("," if len(results_text) == 1 else ""),
        bhints,
        f"tuple[{own.any_type}, ...]",
    )
    return [forward_fn, backward_fn]


def _taped_products(body: Body, forward, backward, tape, results, mapping, taken):
    """Forward values that the backward pass reads only as one product (the factors
    σ(|z|)·σ(−|z|) of a stable sigmoid's slope) are taped as that product, made in the
    forward step: one array per step instead of one per factor. Returns the statements,
    the tape and the names, with the products in."""
    carried = {c.inner for c in body.loop.carries} | {c.out for c in body.loop.carries}
    shapes = body.program.graph.shapes
    where = {s.target: k for k, s in enumerate(forward)}
    read_by_results = set().union(*(sp.sympify(r).free_symbols for r in results))
    candidates = {
        s for s in tape if s in where and s not in carried and s not in read_by_results
    }
    uses: dict = {s: 0 for s in candidates}  # every occurrence in the backward pass
    together: dict = {}  # a candidate -> the candidates it is multiplied with, always
    for stmt in backward:
        for e in sp.preorder_traversal(stmt.expr):
            if e in uses:
                uses[e] += 1
            elif e.is_Mul:
                factors = {a for a in e.args if a in uses}
                for a in factors:
                    together[a] = together.get(a, factors) & factors
                    uses[a] -= 1  # counted as a factor: not a use of its own
    groups = []
    for a, group in together.items():
        if uses[a] or len(group) < 2 or a != min(group, key=str):
            continue
        if all(uses[b] == 0 and together.get(b) == group for b in group) and len(
            {shapes[b] for b in group}
        ) == 1:
            groups.append(sorted(group, key=lambda b: where[b]))
    if not groups:
        return forward, backward, tape, mapping
    forward, mapping = list(forward), dict(mapping)
    for group in groups:
        product = sp.Dummy("taped")
        shapes[product] = shapes[group[0]]
        parts = [forward[where[b]].expr for b in group]
        args = {p.args[0] for p in parts}
        sigmoid = len(args) == 1 and {type(p) for p in parts} == {
            ops.SigmoidAbs,
            ops.SigmoidNegAbs,
        }
        name = (
            f"sigmoid_slope_{mapping[args.pop()].name}"
            if sigmoid and parts[0].args[0] in mapping
            else "_times_".join(mapping[b].name for b in group)
        )
        mapping[product] = sp.Symbol(_claim(name, taken))
        last = forward[where[group[-1]]]
        stmt = ir.Stmt(product, sp.Mul(*group), "forward", block=last.block)
        forward.insert(forward.index(last) + 1, stmt)
        backward = [b.with_expr(_product_in(b.expr, set(group), product)) for b in backward]
        at = min(tape.index(b) for b in group)
        tape = [b for b in tape if b not in group]
        tape.insert(at, product)
    return forward, backward, tape, mapping


def _product_in(expr, factors: set, product):
    """``expr`` with each product that has all of ``factors`` reading ``product``."""
    return expr.replace(
        lambda e: e.is_Mul and factors <= set(e.args),
        lambda e: sp.Mul(*[a for a in e.args if a not in factors], product),
    )


def loop_jvp_functions(program: ir.Program, text) -> list[Function]:
    """The tangent helper of every loop of ``program``, for the forward modes:
    ``_f_loop1_jvp(..., h_dot, ...)`` runs the steps carrying each value's tangent beside
    it and returns the carried values' last values, then their tangents."""
    return [_jvp(body, text) for body in bodies(program)]


def loop_hvp_functions(program: ir.Program, text) -> list[Function]:
    """The helpers of every loop of ``program`` for Hessian-vector products (forward
    mode over the backward pass): ``_f_loop1_forward_jvp``, the tangent helper keeping
    each step's carried values and their tangents, and ``_f_loop1_backward_jvp``, the
    steps in reverse, each recomputed from them, with the gradients' tangents."""
    return [
        f
        for body in bodies(program)
        for f in (_jvp(body, text, True), _backward_jvp(body, text))
    ]


class _Tangents:
    """A step's tangent symbols in a helper of its own: one per input the loop
    differentiates (``h_dot``, ``W_dot``), one per row read of those (``x_t_dot``), and
    with ``adjoints`` one per carried value's adjoint (``dh_dot``)."""

    def __init__(self, body: Body, adjoints: bool = False):
        prog, loop = body.program, body.loop
        g = self.graph = prog.graph
        self.namer = namer = Namer(prog)
        by_sym = {p.sym: p for p in prog.params}
        inner_of = {c.init: c.inner for c in loop.carries}
        self.seeds, self.dot_of, self.params = {}, {}, []
        for x in loop.active:
            p = by_sym[inner_of.get(x, x)]
            self.dot_of[x] = self.new(p.sym, p.name, p.shape)
            self.params.append((self.dot_of[x], p.shape))
        for sl in loop.slices:  # a row's tangent is the row of the array's tangent
            if sl.array in self.dot_of:
                self.new(sl.inner, body.slice_names[sl.inner], g.shapes[sl.inner])
        self.adjoints = []
        if adjoints:
            names = [p.name for p in prog.params[-len(body.seeds) :]]
            for seed, name, c in zip(body.seeds, names, loop.carries):
                self.adjoints.append(self.new(seed, name, c.shape))
                self.params.append((self.adjoints[-1], c.shape))
        self.body = body

    def new(self, sym, name: str, shape) -> str:
        seed = self.graph.new_symbol("d")
        self.graph.shapes[seed] = tuple(shape)
        self.namer.names[seed] = self.namer._claim(f"{name}_dot", self.namer.taken)
        self.seeds[sym] = seed
        return self.namer.names[seed]

    def rows(self, stmts, results, mapping, text) -> list:
        """``x_t = X[t]`` and ``x_t_dot = X_dot[t]`` for the rows the step reads."""
        body = self.body
        read = set().union(
            *(s.expr.free_symbols for s in stmts), *(r.free_symbols for r in results)
        )
        lines = []
        for sl in body.loop.slices:
            key = _shifted(body.index, sl.offset)
            if sl.inner in read:
                array = body.array_params[sl.array]
                lines.append((mapping[sl.inner].name, "=", _row(text, array, key)))
            seed = self.seeds.get(sl.inner)
            if seed is not None and seed in read:
                name = self.namer.names[seed]
                lines.append((name, "=", _row(text, self.dot_of[sl.array], key)))
        return lines

    def hints(self, names) -> list[str]:
        own = self.body.program.module_names
        hints = _signature_hints(self.body, names)
        hints += [own.array_type if shape else "float" for _, shape in self.params]
        return hints + ["int"] * len(self.body.loop.passed)


def _fitted(t, c: ir.Carry, shapes):
    """A carried value's tangent (or adjoint) with the carried value's shape."""
    if not c.shape:
        return sp.Float(0) if t is None else t
    if t is None or ir.shape_of(t, shapes) != tuple(c.shape):
        return ops.FullLike(sp.Integer(0) if t is None else t, c.inner)
    return t


def _taken(body: Body, mapping) -> set:
    taken = {s.name for s in mapping.values()} | set(body.signature)
    taken |= {p.name for p in body.program.params} | set(keyword.kwlist)
    own = body.program.module_names
    return taken | set(own.reserved if own else ())


def _jvp(body: Body, text, taped: bool = False) -> Function:
    """``_f_loop1_jvp``; ``taped``: ``_f_loop1_forward_jvp``, keeping each step's
    carried values and their tangents for ``_f_loop1_backward_jvp``."""
    prog, loop = body.program, body.loop
    g = prog.graph
    tan = _Tangents(body)
    stmts = primitive(list(prog.forward), g)
    tans, tangent = tangents(stmts, g, tan.seeds)
    outs = [c.out for c in loop.carries]
    dots = [_fitted(tangent.get(c.out), c, g.shapes) for c in loop.carries]
    keep = {n.sym for n in g.nodes if n.names} | set(outs)
    keep |= {tangent[s] for s in keep if s in tangent}
    with distribute(False), stage("optimise"):
        stmts, results = optimise(stmts + tans, outs + dots, keep, g)
    mapping = tan.namer.mapping(stmts)
    printer = text.mapped(mapping)
    carried = body.carry_params + [tan.dot_of[c.init] for c in loop.carries]
    pre, stores, tape = [], [], []
    if taped:  # each step's carried values and their tangents, before the step
        taken = _taken(body, mapping)
        length = printer(loop.stop - loop.start)
        for name, c in zip(carried, loop.carries + loop.carries):
            store = _claim(f"{name}s", taken)
            shape = ", ".join([length] + [printer(d) for d in c.shape])
            shape = f"({shape},)" if not c.shape else f"({shape})"
            pre.append((store, "=", _empty(text, shape, prog.module_names.dtype)))
            stores.append(_write(text, store, _step(body, printer), name))
            tape.append(store)
    blocks = [Block(None, pre, 0)] if pre else []
    rows = tan.rows(stmts, results, mapping, text)
    blocks.append(Block(None, stores + rows, 1, _range(body, printer)))
    blocks += _blocks(body, stmts, mapping, text, 1)
    names, values = [], []
    for name, result in zip(carried, results):
        value = printer(result)
        if value != name:
            names.append(name)
            values.append(value)
    if names:
        blocks.append(Block(None, [(", ".join(names), "=", ", ".join(values))], 1))
    blocks = [b for b in blocks if b.statements or b.header]
    used = _used_dims([s.expr for s in stmts] + results + [loop.start, loop.stop])
    if taped:
        used |= {d for c in loop.carries for d in c.shape if ir.is_dim_symbol(d)}
    params = body.signature + [n for n, _ in tan.params] + _bound_params(body, text)
    given = ", ".join(n for n, _ in tan.params)
    returns = ", ".join(carried)
    doc = [
        f"The steps of the loop at {prog.path}:{loop.line} ({loop.header}) in forward "
        f"mode: each carried value's tangent is carried beside it, from the tangents "
        f"{given} of the inputs.",
        "Returns the carried values' last values, then their tangents"
        + (
            ", then each step's values of both, for the backward pass."
            if taped
            else "."
        ),
    ]
    if taped:
        returns += f", ({', '.join(tape)})"
    return _function(
        body,
        loop.name + ("_forward_jvp" if taped else "_jvp"),
        params,
        docstring(*doc),
        _dims(body, used) + _dtype(body, text, blocks),
        blocks,
        f"({returns})" if not taped else returns,
        tan.hints(body.signature),
        f"tuple[{prog.module_names.any_type}, ...]",
    )


def _backward_jvp(body: Body, text) -> Function:
    """``_f_loop1_backward_jvp``: the steps in reverse, each recomputed from its carried
    values and their tangents, with the gradients and their tangents."""
    prog, loop = body.program, body.loop
    g = prog.graph
    tan = _Tangents(body, adjoints=True)
    stmts = primitive(list(prog.forward) + list(prog.backward), g)
    tans, tangent = tangents(stmts, g, tan.seeds)
    wrt = [p for p in prog.params if p.name in prog.wrt]
    grad_of = dict(zip([p.sym for p in wrt], prog.grads))
    seed_names = [p.name for p in prog.params[-len(body.seeds) :]]
    # what each step adds to the outer values' gradients, then the carried adjoints
    sums = []  # (param, slice or None, gradient)
    for p in prog.params[: len(body.signature)]:
        if p.sym in body.array_params:
            for sl in loop.slices:
                if sl.array == p.sym and sl.inner in grad_of:
                    sums.append((p, sl, grad_of[sl.inner]))
        if p.sym in grad_of and p.name not in body.carry_params:
            sums.append((p, None, grad_of[p.sym]))
    moves = [_fitted(grad_of.get(c.inner), c, g.shapes) for c in loop.carries]
    move_dots = [
        _fitted(tangent.get(grad_of.get(c.inner)), c, g.shapes) for c in loop.carries
    ]
    sum_dots = [tangent.get(gr) for _, _, gr in sums]
    results = [gr for _, _, gr in sums] + [d for d in sum_dots if d is not None]
    results += moves + move_dots
    named = {n.sym for n in g.nodes if n.names}
    keep = named | set(prog.grads) | set(prog.outputs)
    keep |= {s.target for s in prog.backward if s.role == "adjoint" and s.node in named}
    aliases = {t.target for t in tans if isinstance(t.expr, sp.Symbol)}  # t = dh_dot
    keep |= {tangent[s] for s in keep if s in tangent} - aliases
    with distribute(False), stage("optimise"):
        stmts, results = optimise(stmts + tans, results, keep, g)
    mapping = tan.namer.mapping(stmts)
    printer = text.mapped(mapping)
    taken = _taken(body, mapping)
    n_sums = len(sums)
    sum_results = results[:n_sums]
    dot_results = iter(results[n_sums : n_sums + sum(d is not None for d in sum_dots)])
    sum_dots = [None if d is None else next(dot_results) for d in sum_dots]
    moves = results[len(results) - 2 * len(moves) : len(results) - len(moves)]
    move_dots = results[len(results) - len(move_dots) :]
    # the accumulated gradients and their tangents: dW, dW_dot, dX, dX_dot; a step's
    # gradient that its statement adds in place gives its name to the sum
    step_blocks = _blocks(body, stmts, mapping, text, 1)
    acc, acc_dot = {}, {}
    for p, _, _ in sums:
        if p.sym in acc:
            continue
        mine = [k for k, (q, _, _) in enumerate(sums) if q is p]
        for names, values, suffix in (
            (acc, sum_results, ""),
            (acc_dot, sum_dots, "_dot"),
        ):
            value = values[mine[0]]
            whole = len(mine) == 1 and sums[mine[0]][1] is None
            if whole and _foldable(value, step_blocks, stmts, results, mapping):
                names[p.sym] = mapping[value].name
            else:
                names[p.sym] = _claim(f"d{p.name}{suffix}", taken)
    pre = []
    run = _claim("run", taken)
    stores = [_claim(f"{n}s", taken) for n in body.carry_params]
    stores += [_claim(f"{tan.dot_of[c.init]}s", taken) for c in loop.carries]
    pre.append((f"({', '.join(stores)})", "=", f"{run}[{2 * len(loop.carries)}]"))
    for p, _, _ in sums:
        if (acc[p.sym], "=", f"{text.np}.zeros_like({p.name})") not in pre:
            zeros = f"{text.np}.zeros_like({p.name})" if p.shape else "0.0"
            pre += [(acc[p.sym], "=", zeros), (acc_dot[p.sym], "=", zeros)]
    position = _step(body, printer)
    carried = body.carry_params + [tan.dot_of[c.init] for c in loop.carries]
    restores = [(n, "=", _row(text, s, position)) for n, s in zip(carried, stores)]
    rows = tan.rows(stmts, results, mapping, text)
    blocks = [Block(None, pre, 0)]
    header = _range(body, printer, reverse=True)
    blocks.append(Block(None, restores + rows, 1, header))
    blocks += step_blocks
    lines = []
    for (p, sl, _), value, dot in zip(sums, sum_results, sum_dots):
        key = None if sl is None else _shifted(body.index, sl.offset)
        for name, v in ((acc[p.sym], value), (acc_dot[p.sym], dot)):
            if v is None or v == 0:
                continue
            left = name if key is None else (name, key)
            lines.append(_added(left, v, step_blocks, stmts, results, mapping, printer))
    adjoints = seed_names + tan.adjoints
    names, values = [], []
    for name, value in zip(adjoints, list(moves) + list(move_dots)):
        if printer(value) != name:
            names.append(name)
            values.append(printer(value))
    if names:
        lines.append((", ".join(names), "=", ", ".join(values)))
    blocks.append(Block(None, [line for line in lines if line], 1))
    blocks = [b for b in blocks if b.statements or b.header]
    grads, dots = [], []
    for s in loop.inputs:
        c = next((c for c in loop.carries if c.init == s), None)
        if c is not None:
            k = loop.carries.index(c)
            grads.append(seed_names[k])
            dots.append(tan.adjoints[k])
        else:
            grads.append(acc.get(s, "None"))
            dots.append(acc_dot.get(s, "None"))
    params = [run] + body.signature + seed_names + [n for n, _ in tan.params]
    params += _bound_params(body, text)
    hints = [prog.module_names.any_type] + _signature_hints(body, body.signature)
    hints += [
        prog.module_names.array_type if c.shape else "float" for c in loop.carries
    ]
    hints += tan.hints([])
    used = _used_dims([s.expr for s in stmts] + results + [loop.start, loop.stop])
    doc = docstring(
        f"The steps of the loop at {prog.path}:{loop.line} ({loop.header}) in reverse, "
        "in forward mode: each step is recomputed from its carried values and their "
        "tangents, then its gradients and their tangents along them.",
        "Returns the inputs' gradients, then their tangents.",
    )
    return _function(
        body,
        loop.name + "_backward_jvp",
        params,
        doc,
        _dims(body, used) + _dtype(body, text, blocks),
        blocks,
        ", ".join(grads + dots),
        hints,
        f"tuple[{prog.module_names.any_type}, ...]",
    )


def _foldable(value, blocks, stmts, results, mapping):
    """The line computing ``value`` in ``blocks``, when nothing else reads it."""
    if not isinstance(value, sp.Symbol) or value not in mapping:
        return None
    name = mapping[value].name
    readers = sum(value in s.expr.free_symbols for s in stmts)
    readers += sum(value in r.free_symbols for r in results)
    found = [
        (b, k)
        for b in blocks
        for k, line in enumerate(b.statements)
        if line[0] == name and line[1] == "="
    ]
    return found[0] if readers == 1 and len(found) == 1 else None


def _added(left, value, blocks, stmts, results, mapping, printer):
    """``left += value``: the statement computing ``value`` itself when nothing else
    reads it (``dW += np.dot(h.T, delta)``), else a line of its own (None: folded).
    ``left`` is a name, or (array, key) for a row (``dX[t] += ...``, written by
    ``printer.write``)."""
    found = _foldable(value, blocks, stmts, results, mapping)
    if found is not None:
        b, k = found
        b.statements[k] = _assign(printer, left, "+=", b.statements[k][2])
        return None
    return _assign(printer, left, "+=", printer(value))
