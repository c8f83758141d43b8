"""The numbers of a report, as text, and the chain rule per parameter with them.

Takes the values a ``report_run.Run`` recorded and returns them as the page writes them:
``Shown`` holds a value as the graph writes it (two decimals, as the CS231n figure), as
the table writes it (six significant digits; an array by its shape and first entries) and,
for an array, in full. ``explanations`` turns ``explain``'s chain rule into MathML rows and,
for a chain of scalar steps, adds each local derivative at the point and their product
beside the gradient the generated code computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from gradgen import ir
from gradgen.explain import paths
from gradgen.explain.graph import Labels
from gradgen.explain.mathml import to_mathml

ENTRIES = 4  # entries of an array shown before it is expanded


def number(x: float) -> str:
    """Two decimals where that reads well, else three significant digits."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.2f}" if 0.01 <= abs(x) < 10_000 else f"{x:.2e}"


@dataclass
class Shown:
    graph: str  # on the graph
    text: str  # in a table
    full: str | None = None  # an array, whole (NumPy elides past 400 entries)


def show(value) -> Shown:
    """A number or an array, as the page writes it."""
    if np.ndim(value) == 0:
        x = float(value)
        return Shown(number(x), f"{x:.6g}")
    a = np.asarray(value, dtype=float)
    flat = a.ravel()
    head = ", ".join(f"{x:.4g}" for x in flat[:ENTRIES])
    more = ", …" if flat.size > ENTRIES else ""
    graph = ", ".join(number(x) for x in flat[:2]) + (", …" if flat.size > 2 else "")
    return Shown(
        f"[{graph}] {shape_text(a.shape)}",
        f"{shape_text(a.shape)}: {head}{more}",
        np.array2string(a, precision=6, threshold=400, max_line_width=100),
    )


def shape_text(shape: tuple) -> str:
    return "scalar" if not shape else "×".join(str(d) for d in shape)


@dataclass
class Numbers:
    """A run's values as the page shows them; empty without ``--at``."""

    values: dict = field(default_factory=dict)  # forward node or parameter -> Shown
    adjoints: dict = field(default_factory=dict)  # node -> Shown of its adjoint
    names: dict = field(default_factory=dict)  # code name -> Shown, if one value
    after: dict = field(default_factory=dict)  # statement index -> Shown
    seed: Shown | None = None  # the output's adjoint: 1, or the cotangent


def numbers(run, program) -> Numbers:
    """The values of ``run`` (a ``report_run.Run``, or None) for the page."""
    if run is None:
        return Numbers()
    out = Numbers(
        {sym: show(v) for sym, v in run.values.items()},
        {node: show(v) for node, v in run.adjoints.items()},
    )
    out.after = {i: show(v) for i, v in run.after.items()}
    out.seed = out.values.get(program.cotangent) if program.array_output else show(1)
    runs: dict = {}
    for c in run.code:
        if c.last:
            runs.setdefault(c.name, []).append(c.indices[-1])
    out.names = {
        name: out.after[ends[0]]
        for name, ends in runs.items()
        if len(ends) == 1 and ends[0] in out.after
    }  # a name written over in place has several values: none is shown for it
    return out


def text(chain, expr) -> str:
    return Labels(chain).text(expr)


@dataclass
class Equation:
    key: str
    lhs: str  # MathML
    rhs: str
    text: str  # the plain-text formula
    kind: str  # "value" (forward pass) or "gradient" (backward pass)
    value: Shown | None = None


def kinds(named) -> dict:
    """Code name -> "value" for the forward pass's names, "gradient" for the rest."""
    stmts, _, mapping = named
    return {
        mapping[s.target].name: "value" if s.section == "forward" else "gradient"
        for s in stmts
    }


def equation(fid: str, e, values: dict, kind: dict) -> Equation:
    """A ``latex.Equation`` as the page shows it, with its value from ``values``."""
    return Equation(
        f"{fid}:{e.name}",
        to_mathml(e.lhs),
        to_mathml(e.rhs),
        e.text,
        kind.get(e.name, "value"),
        values.get(e.name),
    )


@dataclass
class Explained:
    id: str
    key: str  # the gradient's key
    title: str
    blocks: list  # ("p", prose) or ("rows", [(lhs, relation, rhs)]) in MathML
    code: list = field(default_factory=list)  # report_page.Equation
    numbers: list = field(default_factory=list)  # blocks, at the point of --at
    note: str = ""  # why it could not be written out


def explanations(fid: str, program, named, run, values: dict) -> list[Explained]:
    """The chain rule for each differentiated parameter; ``values`` (code name ->
    Shown) and ``run`` give the numbers, if any."""
    stmts, results, mapping = named
    out = []
    for name in program.wrt:
        grad = _grad_name(program, mapping, name)
        try:
            x = paths.explain(program, stmts, results, mapping, name)
            blocks = [_mathml(b) for b in paths.latex_blocks(x, code=False)]
        except ir.ShapeError as exc:  # a bug of explain's: the rest of the page stands
            note = f"the chain rule for {name} cannot be written out: {exc}"
            fail = Explained(f"{fid}-explain-{name}", f"{fid}:{grad}", grad, [])
            fail.note = note + " (an error in gradgen; please report it)"
            out.append(fail)
            continue
        code = [equation(fid, e, values, kinds(named)) for e in x.code]
        entry = Explained(
            f"{fid}-explain-{name}", f"{fid}:{grad}", paths.title(x), blocks, code
        )
        if run is not None:
            entry.numbers = _numbers(x, run, grad, values.get(grad))
        out.append(entry)
    return out


def _grad_name(program, mapping, param: str) -> str:
    differentiated = [p.name for p in program.params if p.name in program.wrt]
    return mapping[program.grads[differentiated.index(param)]].name


def _mathml(block: tuple) -> tuple:
    kind, payload = block
    if kind == "p":
        return block
    rows = [
        (to_mathml(lhs) if lhs else "", relation, to_mathml(rhs) if rhs else "")
        for lhs, relation, rhs in payload
    ]
    return kind, rows


def _numbers(x, run, grad: str, generated: Shown | None) -> list:
    """Each local derivative at the point, their product along each path and the sum,
    beside the gradient the generated code computed; for scalar paths only."""
    if not x.terms or any(t.factors is None for t in x.terms):
        return []
    try:
        factors = [[_evaluate(run, f) for f in t.factors] for t in x.terms]
    except (ArithmeticError, LookupError, NameError, TypeError, ValueError):
        return []  # a local derivative the code printer cannot write on its own
    products = [math.prod(fs) for fs in factors]
    result = paths.result_latex(x)
    rows = []
    for term, fs, product in zip(x.terms, factors, products):
        lhs = result if len(x.terms) == 1 else paths.partials_latex(x, term)
        if len(fs) > 1:
            rows.append((lhs, "=", r" \cdot ".join(_factor(f) for f in fs)))
            lhs = ""
        rows.append((lhs, "=", _factor(product, bare=True)))
    if len(products) > 1:
        total = " + ".join(_factor(p) for p in products)
        rows.append((result, "=", total))
        rows.append(("", "=", _factor(sum(products), bare=True)))
    blocks = [("p", "At the point:"), _mathml(("rows", rows))]
    if generated is not None:
        prose = f"The generated code computes {grad} = {generated.text}."
        blocks.append(("p", prose))
    return blocks


def _factor(value: float, bare: bool = False) -> str:
    text = f"{value:.3g}"
    return rf"\left({text}\right)" if text.startswith("-") and not bare else text


def _evaluate(run, expr) -> float:
    """A local derivative at the run's values of the nodes it reads (SymPy's lambdify:
    the code does not compute it on its own)."""
    symbols = sorted(expr.free_symbols, key=sp.default_sort_key)
    function = sp.lambdify(symbols, expr, modules="numpy")
    return float(function(*(run.values[s] for s in symbols)))
