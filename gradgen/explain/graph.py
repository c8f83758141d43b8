"""The computational graph as a picture, through Graphviz.

Takes a ``Chain`` (one node per value the generated code names, one per parameter) and
returns a ``graphviz.Digraph``: a box per operation, labelled with its formula over the
code's names (``h = σ(z)``), an ellipse per parameter; forward edges (green) carry values
and are labelled with their names, backward edges (red, pointing against the flow) carry
adjoints and are labelled with the code's name for them (``delta_h``, ``dW1``), or, where a
value feeds several operations and each edge carries only a part of its adjoint, with the
formula of that part. A loop that stays a loop is one node, and its step is drawn once
beside it, in a box, with a dashed back edge from each carried value's new value to the
carried value. The ``graphviz`` package writes the DOT text (quoting included);
pictures (svg, png, pdf) need Graphviz's ``dot`` program.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, fields

import sympy as sp
from sympy.core.parameters import distribute

from gradgen import ir
from gradgen.errors import GradgenError
from gradgen.explain import notation
from gradgen.explain.chain import Chain

FORWARD = "#2e7d32"  # green, as in the classic drawings
BACKWARD = "#c62828"  # red


@dataclass
class Look:
    """How the graph is drawn. The default is ``gradgen graph``'s picture; a report gives
    other colours, dashed adjoint edges, SVG ids (``ids`` + ``n-NAME`` for a node,
    ``f-TAIL-HEAD`` and ``b-TAIL-HEAD`` for its edges) and the numbers of its names."""

    forward: str = FORWARD
    backward: str = BACKWARD
    backward_style: str = "solid"
    forward_words: str = "green"  # the colours, as the caption names them
    backward_words: str = "red"
    ids: str | None = None
    dpi: str = "110"  # png only: sharp on high-density screens
    caption: bool = True  # the function's name and the colours, above the graph

    def number(self, name: str) -> str | None:
        """The value of a code name, as the graph writes it; None: no number."""
        return None

    def labelled(self, name: str) -> str:
        number = self.number(name)
        return name if number is None else f"{name} = {number}"

    def output_rows(self, name: str) -> list[tuple[str, str]]:
        """(text, colour) rows under the output's node: none in ``gradgen graph``."""
        return []

    def id(self, kind: str, *names: str) -> dict:
        return {} if self.ids is None else {"id": "-".join((self.ids + kind,) + names)}


def adjoints(chain: Chain, seed, seeds: dict | None = None) -> dict:
    """For every step, its adjoint as the edges below it read it: the code's name for it
    (a symbol) where the code has one, else the sum of what its consumers send.
    ``seeds``: the adjoints of other outputs (a loop's step has one per carried value).
    """
    adjoint: dict = {chain.output: seed}
    seeds = seeds or {}
    for step in reversed(chain.steps):
        name = chain.adjoint_names.get(step.sym)
        if step.sym != chain.output and name is not None:
            holder = sp.Dummy(name, real=True)
            chain.names[holder], chain.shapes[holder] = name, chain.shape(step.sym)
            adjoint[step.sym] = holder
        elif step.sym != chain.output:
            parts = [
                chain.vjp(c.sym, step.sym, adjoint[c.sym])
                for c in chain.steps
                if c.sym in adjoint and step.sym in chain.operands(c.sym)
            ]
            adjoint[step.sym] = sp.Add(seeds.get(step.sym, sp.Integer(0)), *parts)
    return adjoint


class Labels:
    """Plain-text formulas over a chain's code names."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.rename = {s: sp.Symbol(n, real=True) for s, n in chain.names.items()}

    def text(self, expr) -> str:
        shapes = {self.rename.get(s, s): v for s, v in self.chain.shapes.items()}
        return notation.text(expr.xreplace(self.rename), shapes)


def draw(
    program: ir.Program, stmts: list, mapping: dict, look: Look = Look(), steps=()
):
    """The ``graphviz.Digraph`` of one compiled function, from its generated statements
    and names (``pipeline.gradient_statements``); a loop that stays a loop is drawn as
    one node, and its step (``steps``: ``codegen.loops.loop_steps``) once beside it."""
    chain = Chain(program, stmts, mapping)
    seed = sp.Integer(1)
    if program.array_output:
        seed = program.cotangent
        chain.names[seed] = mapping[seed].name
    wrt = [p.sym for p in program.params if p.name in program.wrt]
    with distribute(False):
        dot = build(chain, wrt, seed, look)
        for k, step in enumerate(steps, 1):
            _loop_step(dot, step, k, look)
    return dot


def build(chain: Chain, wrt: list, seed=sp.Integer(1), look: Look = Look()):
    """The graph of one compiled function; ``wrt`` are the differentiated parameters."""
    import graphviz  # deferred: only drawing needs it

    dot = graphviz.Digraph(chain.program.name)
    caption = {"label": _caption(chain, look), "labelloc": "t"} if look.caption else {}
    dot.attr(rankdir="LR", fontname="Helvetica", **caption)
    dot.attr(dpi=look.dpi)
    dot.attr("node", fontname="Helvetica", fontsize="12")
    dot.attr("edge", fontname="Helvetica", fontsize="11")
    _steps(dot, chain, wrt, adjoints(chain, seed), look)
    return dot


def _steps(dot, chain: Chain, wrt: list, adjoint: dict, look: Look, prefix="") -> None:
    """A node per parameter and step of ``chain``, its forward and backward edges;
    ``prefix`` goes before every node's name (the names of a loop's step)."""
    nodes = chain.params + [t.sym for t in chain.steps]
    active = {s for s in nodes if any(chain.depends(s, w) for w in wrt)}
    consumers: dict = {}
    for step in chain.steps:
        for s in chain.operands(step.sym):
            consumers.setdefault(s, []).append(step.sym)
    labels = Labels(chain)  # after adjoints(): it names the adjoints it holds
    for sym in nodes:
        if prefix and sym not in consumers and sym not in chain.by_sym:
            continue  # a step's input that it does not read (a seed, the whole array)
        fans_out = sym in active and len(consumers.get(sym, ())) > 1
        _node(dot, chain, labels, sym, fans_out, look, prefix)
    for step in chain.steps:
        for s in chain.operands(step.sym):
            edge = (step.sym, s, adjoint, consumers, active)
            _edges(dot, chain, labels, edge, look, prefix)


def _loop_step(dot, step, k: int, look: Look) -> None:
    """The step of a loop that stays a loop, once, in a box titled with its ``for``
    line: its inputs (the carried values, the rows, the outer values) and steps, values
    forward and adjoints backward as in the rest of the graph (the gradients named as
    the helpers write them: ``dX[t]``), and back edges from each carried value's new
    value (``h_next``) to the carried value, which the next step reads, and whose
    adjoint it passes back."""
    program = step.program
    chain = Chain(program, step.stmts, step.mapping)
    chain.adjoint_names = {
        node: step.written.get(name, (name,))[0]
        for node, name in chain.adjoint_names.items()
    }
    inner = {f.name: getattr(look, f.name) for f in fields(Look)}
    plain = Look(
        **{**inner, "ids": None, "caption": False}
    )  # no numbers: they vary by t
    wrt = [p.sym for p in program.params if p.name in program.wrt]
    adjoint = adjoints(chain, step.seeds[program.output], step.seeds)
    prefix = f"loop{k}."
    with dot.subgraph(name=f"cluster_loop{k}") as box:
        box.attr(label=step.title, style="rounded,dashed", labelloc="t")
        _steps(box, chain, wrt, adjoint, plain, prefix)
        for out, inner in step.back:
            if out not in chain.names:
                continue
            name = chain.names[inner]
            ends = (prefix + chain.names[out], prefix + name)
            colour = {"color": look.forward, "fontcolor": look.forward}
            back = {"constraint": "false", "style": "dashed"}
            box.edge(*ends, label=f"{name}, next step", **colour, **back)
            if inner in wrt:  # the adjoint of the step after: this one's seed
                colour = {"color": look.backward, "fontcolor": look.backward}
                seed = chain.names[step.seeds[out]]
                box.edge(*ends, label=seed, dir="back", **colour, **back)


def _node(
    dot, chain: Chain, labels: Labels, sym, fans_out: bool, look: Look, prefix=""
) -> None:
    step = chain.by_sym.get(sym)
    name = chain.names[sym]
    text = name if step is None else f"{name} = {labels.text(step.expr)}"
    rows = look.output_rows(name) if sym == chain.output else []
    adjoint_name = chain.adjoint_names.get(sym)
    if fans_out and adjoint_name:  # its adjoint is the sum of its red edges
        rows.append((look.labelled(adjoint_name), look.backward))
    if rows:
        text = _with_rows(text, rows)
    ids = look.id("n", name)
    if step is None:
        dot.node(prefix + name, text, shape="ellipse", **ids)
    else:
        bold = "bold" if sym == chain.output and not prefix else "solid"
        dot.node(prefix + name, text, shape="box", style=f"rounded,{bold}", **ids)


def _edges(dot, chain, labels, edge: tuple, look: Look, prefix="") -> None:
    consumer, operand, adjoint, consumers, active = edge
    name, target = chain.names[operand], chain.names[consumer]
    tail, head = prefix + name, prefix + target
    colour = {"color": look.forward, "fontcolor": look.forward}
    label = look.labelled(name)
    dot.edge(tail, head, label=label, **colour, **look.id("f", name, target))
    if operand not in active or consumer not in adjoint:
        return
    code_name = chain.adjoint_names.get(operand)
    if code_name is not None and len(consumers[operand]) == 1:
        label = look.labelled(code_name)
    else:
        label = labels.text(chain.vjp(consumer, operand, adjoint[consumer]))
    colour = {"color": look.backward, "fontcolor": look.backward}
    if look.backward_style != "solid":
        colour["style"] = look.backward_style
    ids = look.id("b", name, target)
    dot.edge(tail, head, label=label, **colour, dir="back", **ids)


def _with_rows(text: str, rows: list) -> str:
    """An HTML-like label: the node's text, and under it each (text, colour) row, such
    as the name of its adjoint in red."""
    lines = [html.escape(text)] + [
        f'<font color="{colour}" point-size="11">{html.escape(row)}</font>'
        for row, colour in rows
    ]
    return "<" + "<br/>".join(lines) + ">"


def _caption(chain: Chain, look: Look) -> str:
    program = chain.program
    return (
        f"{program.name} ({program.path}:{program.line}): values forward "
        f"({look.forward_words}), adjoints backward ({look.backward_words})"
    )


def render(dot, path: str, fmt: str) -> bytes | str:
    """DOT text for .dot/.gv; otherwise the picture's bytes, drawn by ``dot``."""
    if fmt in ("dot", "gv"):
        return dot.source
    import graphviz

    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GradgenError(
            f"drawing .{fmt} needs Graphviz's dot program, which is not installed",
            path,
            hint="install Graphviz (apt-get install graphviz, brew install graphviz, "
            "conda install graphviz) or write a .dot file",
        ) from None
    except graphviz.CalledProcessError as exc:  # pragma: no cover - dot's own failure
        raise GradgenError(f"Graphviz's dot failed: {exc}", path) from None
