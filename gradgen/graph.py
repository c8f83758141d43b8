"""The computational graph as a picture, through Graphviz.

Takes a ``Chain`` (one node per value the generated code names, one per parameter) and
returns a ``graphviz.Digraph``: a box per operation, labelled with its formula over the
code's names (``h = σ(z)``), an ellipse per parameter; forward edges (green) carry values
and are labelled with their names, backward edges (red, pointing against the flow) carry
adjoints and are labelled with the code's name for them (``delta_h``, ``dW1``), or, where a
value feeds several operations and each edge carries only a part of its adjoint, with the
formula of that part. The ``graphviz`` package writes the DOT text (quoting included);
pictures (svg, png, pdf) need Graphviz's ``dot`` program.
"""

from __future__ import annotations

import html

import sympy as sp
from sympy.core.parameters import distribute

from . import ir, notation
from .chain import Chain
from .errors import GradgenError

FORWARD = "#2e7d32"  # green, as in the classic drawings
BACKWARD = "#c62828"  # red
FORMATS = ("dot", "gv", "svg", "png", "pdf")


def _adjoints(chain: Chain, active: set, seed) -> dict:
    """For every step, its adjoint as the edges below it read it: the code's name for it
    (a symbol) where the code has one, else the sum of what its consumers send."""
    adjoint: dict = {chain.output: seed}
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
            adjoint[step.sym] = sp.Add(*parts)
    return adjoint


class _Labels:
    def __init__(self, chain: Chain):
        self.chain = chain
        self.rename = {s: sp.Symbol(n, real=True) for s, n in chain.names.items()}

    def text(self, expr) -> str:
        shapes = {self.rename.get(s, s): v for s, v in self.chain.shapes.items()}
        return notation.text(expr.xreplace(self.rename), shapes)


def draw(program: ir.Program, stmts: list, mapping: dict):
    """The ``graphviz.Digraph`` of one compiled function, from its generated statements
    and names (``pipeline.gradient_statements``)."""
    chain = Chain(program, stmts, mapping)
    seed = sp.Integer(1)
    if program.array_output:
        seed = program.cotangent
        chain.names[seed] = mapping[seed].name
    wrt = [p.sym for p in program.params if p.name in program.wrt]
    with distribute(False):
        return build(chain, wrt, seed)


def build(chain: Chain, wrt: list, seed=sp.Integer(1)):
    """The graph of one compiled function; ``wrt`` are the differentiated parameters."""
    import graphviz  # deferred: only drawing needs it

    dot = graphviz.Digraph(chain.program.name)
    dot.attr(rankdir="LR", fontname="Helvetica", label=_caption(chain), labelloc="t")
    dot.attr(dpi="110")  # png only: sharp on high-density screens
    dot.attr("node", fontname="Helvetica", fontsize="12")
    dot.attr("edge", fontname="Helvetica", fontsize="11")
    labels = _Labels(chain)
    nodes = chain.params + [t.sym for t in chain.steps]
    active = {s for s in nodes if any(chain.depends(s, w) for w in wrt)}
    consumers: dict = {}
    for step in chain.steps:
        for s in chain.operands(step.sym):
            consumers.setdefault(s, []).append(step.sym)
    for sym in nodes:
        _node(
            dot, chain, labels, sym, sym in active and len(consumers.get(sym, ())) > 1
        )
    adjoint = _adjoints(chain, active, seed)
    for step in chain.steps:
        for s in chain.operands(step.sym):
            _edges(dot, chain, labels, step.sym, s, adjoint, consumers, active)
    return dot


def _node(dot, chain: Chain, labels: _Labels, sym, fans_out: bool) -> None:
    step = chain.by_sym.get(sym)
    name = chain.names[sym]
    text = name if step is None else f"{name} = {labels.text(step.expr)}"
    adjoint_name = chain.adjoint_names.get(sym)
    if fans_out and adjoint_name:  # its adjoint is the sum of its red edges
        text = _with_adjoint(text, adjoint_name)
    if step is None:
        dot.node(name, text, shape="ellipse")
    else:
        bold = "bold" if sym == chain.output else "solid"
        dot.node(name, text, shape="box", style=f"rounded,{bold}")


def _edges(dot, chain, labels, consumer, operand, adjoint, consumers, active) -> None:
    name, target = chain.names[operand], chain.names[consumer]
    dot.edge(name, target, label=name, color=FORWARD, fontcolor=FORWARD)
    if operand not in active or consumer not in adjoint:
        return
    code_name = chain.adjoint_names.get(operand)
    if code_name is not None and len(consumers[operand]) == 1:
        label = code_name
    else:
        label = labels.text(chain.vjp(consumer, operand, adjoint[consumer]))
    dot.edge(name, target, label=label, color=BACKWARD, fontcolor=BACKWARD, dir="back")


def _with_adjoint(text: str, adjoint_name: str) -> str:
    """An HTML-like label: the node's text, and under it in red the name of its adjoint."""
    return (
        f"<{html.escape(text)}<br/>"
        f'<font color="{BACKWARD}" point-size="11">{html.escape(adjoint_name)}</font>>'
    )


def _caption(chain: Chain) -> str:
    program = chain.program
    return (
        f"{program.name} ({program.path}:{program.line}): values forward (green), "
        "adjoints backward (red)"
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
