"""One compiled function as ``gradgen report`` shows it: the parts of its page.

Takes a program, its named statements (``pipeline.gradient_statements``), the generated
module's source and, with ``--at``, a ``report_run.Run``; returns a ``FunctionView``: the
graph as inline SVG (with the numbers of the run on its edges), the table of node values
and gradients, the derivation and the chain rule per parameter as MathML, the generated
function's lines, and the links between them. Every element that stands for a value of the
generated code carries a key, ``<function id>:<code name>``; the page's script highlights
together everything that shares one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from gradgen.errors import GradgenError
from gradgen.explain import graph, latex, report_values
from gradgen.explain.chain import Chain
from gradgen.explain.report_run import Run, code_statements

# Okabe and Ito's blue and (darker, for text) vermillion: told apart with any colour vision
VALUE, GRADIENT = "#0072B2", "#B34A00"
SCALE = 1.15  # pixels to a point of the graph


@dataclass
class Section:
    title: str
    source: str  # the model statement a backward section differentiates
    model_line: int | None
    equations: list[report_values.Equation]


@dataclass
class CodeLine:
    number: int
    text: str
    key: str | None = None  # the name it assigns
    kind: str = "value"  # or "gradient": what it computes
    model_line: int | None = None  # the model line it computes or differentiates
    value: report_values.Shown | None = None  # after its statement, on its last line


@dataclass
class NodeRow:
    key: str
    node: str  # the graph's id for it
    formula: str
    shape: str
    value: report_values.Shown | None
    adjoint_key: str | None
    adjoint: str  # the code's name of its gradient, or why it has none
    gradient: report_values.Shown | None


@dataclass
class FunctionView:
    id: str
    name: str
    where: str
    function: str  # the generated function shown
    svg: str | None = None
    graph_note: str = ""
    nodes: list[NodeRow] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    explanations: list = field(default_factory=list)  # report_values.Explained
    code: list[CodeLine] = field(default_factory=list)
    links: dict = field(default_factory=dict)  # key -> {node, edges, model}
    node_keys: dict = field(default_factory=dict)  # graph node id -> keys
    model_keys: dict = field(default_factory=dict)  # model line -> keys
    steps: list = field(default_factory=list)  # the backward pass, node by node


class _Look(graph.Look):
    """The report's graph: colour-blind-safe colours, dashed adjoint edges, SVG ids and,
    with ``--at``, each name's value."""

    forward, backward, backward_style = VALUE, GRADIENT, "dashed"
    forward_words, backward_words = "blue, solid", "orange, dashed"
    dpi, caption = "72", False

    def __init__(self, prefix: str, numbers: dict, seed: str | None):
        self.ids, self.numbers, self.seed = prefix, numbers, seed

    def number(self, name: str) -> str | None:
        return self.numbers.get(name)

    def output_rows(self, name: str) -> list:
        if name not in self.numbers:
            return []
        return [(f"value {self.numbers[name]}", VALUE), (self.seed, GRADIENT)]


def build(
    fid: str, program, named, source: str, run: Run | None, steps=()
) -> FunctionView:
    """The view of one compiled function; ``run`` holds its numbers (or None);
    ``steps``: its loops' steps (``codegen.loops.loop_steps``), drawn in the graph."""
    stmts, results, mapping = named
    code = run or code_statements(program, named, source)
    view = FunctionView(
        fid, program.name, f"{program.path}:{program.line}", code.function
    )
    chain = Chain(program, stmts, mapping)
    shown = report_values.numbers(run, program)
    _graph(view, program, named, shown, steps)
    _nodes(view, chain, stmts, mapping, shown)
    _derivation(view, program, named, shown)
    view.explanations = report_values.explanations(
        fid, program, named, run, shown.names
    )
    _code(view, code, source, shown)
    _links(view, chain, stmts, mapping)
    return view


def _adjoint_names(stmts: list, mapping) -> dict:
    """node -> the code's name of its adjoint (or gradient)."""
    return {
        s.node: mapping[s.target].name
        for s in stmts
        if s.role in ("adjoint", "grad") and s.node is not None
    }


def _graph(view: FunctionView, program, named, shown, steps) -> None:
    stmts, _, mapping = named
    numbers = {mapping.get(s, s).name: v.graph for s, v in shown.values.items()}
    adjoint_names = _adjoint_names(stmts, mapping)
    numbers.update({adjoint_names[n]: v.graph for n, v in shown.adjoints.items()})
    seed = "gradient 1" if not program.array_output else "gradient: cotangent"
    look = _Look(f"{view.id}-", numbers, seed)
    try:
        svg = graph.render(graph.draw(program, stmts, mapping, look, steps), "-", "svg")
    except GradgenError as exc:
        view.graph_note = exc.message
        return
    view.svg = _inline_svg(svg.decode("utf-8"), view.id)


def _inline_svg(svg: str, fid: str) -> str:
    """Graphviz's SVG, without its XML prolog, labelled by the figure's caption, its
    one id left to Graphviz made the function's own, drawn at 1.15 pixels to the point
    (not 1.33: the graph fits the page more often, its labels still legible)."""
    svg = svg[svg.index("<svg") :].replace('id="graph0"', f'id="{fid}-graph0"', 1)
    return re.sub(
        r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"',
        lambda m: (
            f'<svg role="group" aria-labelledby="{fid}-graph-caption" '
            f'width="{float(m[1]) * SCALE:.0f}" height="{float(m[2]) * SCALE:.0f}"'
        ),
        svg,
        count=1,
    )


def _nodes(view, chain: Chain, stmts, mapping, shown) -> None:
    program = chain.program
    seed = sp.Integer(1)
    if program.array_output:
        seed = program.cotangent
        chain.names[seed] = mapping[seed].name
    names = _adjoint_names(stmts, mapping)
    gradients = {names[n]: v for n, v in shown.adjoints.items()}
    formulas = graph.adjoints(chain, seed)
    for sym in reversed(chain.params + [t.sym for t in chain.steps]):
        name = chain.names[sym]
        step = chain.by_sym.get(sym)
        if sym in names:
            label = code_name = names[sym]
            gradient = shown.adjoints.get(sym)
        elif sym == chain.output:
            label = mapping[seed].name if seed != 1 else "1 (the seed)"
            code_name, gradient = None, shown.seed
        elif formulas.get(sym, 0) != 0:
            label, code_name, gradient = _formula(chain, formulas[sym], gradients)
        else:
            label, code_name, gradient = "none: not differentiated", None, None
        view.nodes.append(
            NodeRow(
                f"{view.id}:{name}",
                f"{view.id}-n-{name}",
                f"{name} = {report_values.text(chain, step.expr)}" if step else name,
                report_values.shape_text(chain.shape(sym)),
                shown.values.get(sym),
                f"{view.id}:{code_name}" if code_name else None,
                label,
                gradient,
            )
        )


def _formula(chain: Chain, adjoint, gradients: dict) -> tuple:
    """(label, code name, value) of an adjoint the code does not name: where it is the
    adjoint of another node (h = g + 1: g's is delta_h), that one's name and value."""
    if adjoint in chain.names and chain.names[adjoint] in gradients:
        name = chain.names[adjoint]
        return name, name, gradients[name]
    text = report_values.text(chain, adjoint)
    if adjoint.is_number:  # z = a + b: a's adjoint is 1
        return text, None, report_values.show(float(adjoint))
    return (
        f"{text} (the sum of its edges; not a value of its own in the code)",
        None,
        None,
    )


def _derivation(view: FunctionView, program, named, shown) -> None:
    stmts, _, mapping = named
    values = shown.names
    lines = {mapping[s.target].name: s.block.stmt_line for s in stmts if s.block}
    kind = report_values.kinds(named)
    for section in latex.derive(program, *named).sections:
        equations = [
            report_values.equation(view.id, e, values, kind) for e in section.equations
        ]
        first = section.equations[0].name if section.equations else None
        line = lines.get(first) if section.source else None
        view.sections.append(Section(section.title, section.source, line, equations))


def _code(view: FunctionView, run: Run, source: str, shown) -> None:
    """The generated function's lines, its docstring left out (the formulas above)."""
    lines = source.splitlines()
    covering = {n: c for c in run.code for n in range(c.line, c.end + 1)}
    first, last = run.lines
    for n in range(first, last + 1):
        if run.doc[0] <= n <= run.doc[1]:
            continue
        line = CodeLine(n, lines[n - 1])
        c = covering.get(n)
        if c is not None:
            line.key = f"{view.id}:{c.name}"
            line.kind = "value" if c.stmts[-1].section == "forward" else "gradient"
            block = c.stmts[-1].block
            line.model_line = block.stmt_line if block else None
            if n == c.end and c.last:
                line.value = shown.after.get(c.indices[-1])
        view.code.append(line)
    _comment_lines(view.code)


def _comment_lines(code: list) -> None:
    """A ``# Grad of:`` comment links to the model line of the statements under it."""
    for k, line in enumerate(code):
        if line.text.strip().startswith("# Grad of:"):
            below = next((c for c in code[k + 1 :] if c.key), None)
            line.model_line = below.model_line if below else None


def _links(view: FunctionView, chain: Chain, stmts, mapping) -> None:
    """What highlights together: each key's graph node, edges and model lines."""
    fid = view.id

    def link(key):
        return view.links.setdefault(key, {"node": None, "edges": [], "model": []})

    for p in chain.program.params:
        link(f"{fid}:{p.name}")["model"].append(chain.program.line)
    for s in stmts:
        entry = link(f"{fid}:{mapping[s.target].name}")
        line = s.block.stmt_line if s.block else None
        if line is not None and line not in entry["model"]:
            entry["model"].append(line)
    for row in view.nodes:
        keys = [row.key] + ([row.adjoint_key] if row.adjoint_key else [])
        view.node_keys[row.node] = keys
        for key in keys:  # a node's own adjoint is met first, from the output down
            if link(key)["node"] is None:
                link(key)["node"] = row.node
    for sym in [t.sym for t in chain.steps]:
        for operand in chain.operands(sym):
            tail, head = chain.names[operand], chain.names[sym]
            link(f"{fid}:{tail}")["edges"].append(f"{fid}-f-{tail}-{head}")
            adjoint = view.node_keys.get(f"{fid}-n-{tail}", [None, None])
            if len(adjoint) > 1:
                link(adjoint[1])["edges"].append(f"{fid}-b-{tail}-{head}")
    for key, entry in view.links.items():
        for line in entry["model"]:
            view.model_keys.setdefault(line, []).append(key)
    view.steps = [
        {"node": row.node, "keys": view.node_keys[row.node], "say": _say(row)}
        for row in view.nodes
    ]


def _say(row: NodeRow) -> str:
    """What the step-through announces at a node."""
    name = row.key.split(":", 1)[1]
    if row.adjoint.endswith("(the seed)"):
        return f"{name}: the output; the backward pass starts from its gradient, 1"
    if row.gradient is None:
        return f"{name}: its gradient is {row.adjoint}"
    return f"{name}: its gradient {row.adjoint} = {row.gradient.text}"
