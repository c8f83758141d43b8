"""The derivation: the statements of ``f_value_and_grad`` as formulas.

Takes a ``Program`` and its named, optimised gradient statements (``pipeline.
gradient_statements``: the very statements the generated code computes, with its names)
and returns a ``Derivation``: sections (the forward pass, then one per forward statement
differentiated, as the code's ``# Grad of:`` blocks) of equations, each in LaTeX and in
plain text. Writes it as a LaTeX ``aligned`` block, as Markdown with ``$$`` blocks, as
plain text for the generated docstrings, or as a picture (``render``, with matplotlib).

A gradient ``dW1`` is written ∂loss/∂W1, an adjoint ``delta_h`` δ_h; temporaries the code
calls ``t1``, ``t2`` that are a single operation (such as yhat - y) are written out where
they are used, so the formulas read like the textbook's.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.latex import LatexPrinter

from gradgen import ir, ops
from gradgen.explain import notation
from gradgen.explain.notation import Formula

SMALL = 2  # operations in a temporary that is written out where it is used


# --- The LaTeX printer ------------------------------------------------------------------


class LatexFormula(Formula, LatexPrinter):
    """IR expressions as LaTeX math, with the code's names written as math names."""

    printmethod = "_gradgen_latex"
    HADAMARD, MATMUL, SCALE, DOT = r" \odot ", " ", " ", r" \cdot "
    ONES, TOP = r"\mathbf{1}", r"{}^{{\top}}"

    def __init__(self, shapes, names=None):
        super().__init__(shapes, names, mul_symbol=None)

    def _name(self, name: str) -> str:
        return notation.latex_name(name)

    def wrap(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _product(self, top, bottom, numerator, denominator) -> str:
        """A product split by ``_split_product``, as one fraction or ``c a b``."""
        body = self._factors(numerator) if numerator else ""
        if denominator:  # one fraction: the constants join it
            upper = " ".join(([self._constant(top)] if top != 1 else []) + [body])
            lower = [self._constant(bottom)] if bottom != 1 else []
            lower.append(self._factors(denominator))
            return rf"\frac{{{upper.strip() or '1'}}}{{{' '.join(lower)}}}"
        constant = self._constant(top / bottom)
        return body if top == bottom else f"{constant} {body}"

    def _print_Pow(self, expr):
        if isinstance(expr.base, ir.Structural):  # mean(x)^2, not mean^2(x)
            return rf"{self.wrap(self._print(expr.base))}^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def function(self, name: str, argument, exp=None) -> str:
        """``name(argument)``, with a power ``exp`` on the name (σ²(z)) if given."""
        head = name if exp is None else f"{name}^{{{exp}}}"
        return rf"{head}\left({self._print(argument)}\right)"

    def _print_Piecewise(self, expr):
        pairs = list(expr.args)
        text = self._print(pairs[-1].expr) if pairs[-1].cond == sp.true else "0"
        for pair in reversed(pairs[:-1] if pairs[-1].cond == sp.true else pairs):
            inner = rf"{self._print(pair.cond)},\ {self._print(pair.expr)},\ {text}"
            text = rf"\operatorname{{where}}\left({inner}\right)"
        return text

    def sum(self, operand, axes, ndim, full) -> str:
        text = self.paren(operand)
        if ndim == 2 and axes == (0,):
            return rf"\mathbf{{1}}^{{\top}} {text}"
        if ndim == 2 and axes == (1,):
            return rf"{text} \mathbf{{1}}"
        if full:
            return rf"\sum {text}"
        return rf"\sum_{{\mathrm{{axis}}\,{','.join(map(str, axes))}}} {text}"


def formula(expr: sp.Expr, shapes: dict, names: dict | None = None) -> str:
    """An IR expression over the code's names as LaTeX, with σ recognised."""
    return LatexFormula(shapes, names).doprint(notation.recognise(expr))


# --- The derivation ---------------------------------------------------------------------


@dataclass
class Equation:
    name: str  # the name in the generated code
    lhs: str  # LaTeX
    rhs: str
    text: str  # plain text, "name = formula"


@dataclass
class Section:
    title: str
    source: str = ""  # the model statement a backward section differentiates
    equations: list[Equation] = field(default_factory=list)
    note: str = ""  # "t = 3; h is h_3": its step in an unrolled loop, its names' values


@dataclass
class Derivation:
    name: str
    where: str  # file:line of the function
    sections: list[Section]

    def equations(self) -> list[Equation]:
        return [e for s in self.sections for e in s.equations]


def _section_of(stmt: ir.Stmt, mapping: dict) -> tuple:
    if stmt.section == "forward":
        return "forward", Section("Forward pass")
    if stmt.block is None:
        return "unreached", Section("The value does not depend on these parameters")
    block = stmt.block
    return block.stmt_key, Section(
        "Grad of", block.stmt_text, note=block.notes(mapping)
    )


def _is_small_temporary(stmt: ir.Stmt, name: str, expr: sp.Expr) -> bool:
    """Written out where it is read, rather than as a formula of its own."""
    small = sp.count_ops(expr) <= SMALL or isinstance(expr, ops.LOWERED)  # σ's parts
    return (
        stmt.role == "temp"
        and not isinstance(expr, (ops.LoopRun, ops.LoopBack))  # a loop: one formula
        and not name.startswith("delta_")
        and small
    )


class _Tables:
    """Shapes and math names of the final symbols of one derivation."""

    def __init__(self, program: ir.Program, mapping: dict, grads: list):
        shapes = program.graph.shapes
        self.shapes = {mapping[s]: shapes[s] for s in mapping if s in shapes}
        self.latex_names: dict = {}
        value = notation.latex_name(program.value_name)
        if program.outputs:  # a loop's step: the gradients are of the whole value
            value = "L"
        elif program.array_output:
            cot = notation.latex_name(mapping[program.cotangent].name)
            value = rf"\left\langle {value}, {cot}\right\rangle"
        differentiated = [p for p in program.params if p.name in program.wrt]
        for param, grad in zip(differentiated, grads):
            of = notation.latex_name(param.name)
            self.latex_names[grad] = rf"\frac{{\partial {value}}}{{\partial {of}}}"

    def latex(self, expr) -> str:
        return formula(expr, self.shapes, self.latex_names)

    def text(self, expr) -> str:
        return notation.text(expr, self.shapes)


def derive(
    program: ir.Program,
    stmts: list[ir.Stmt],
    results: list,
    mapping: dict,
    textbook: bool = True,
) -> Derivation:
    """The formulas of the gradient statements, over the generated code's names. The code
    computes 1 - sigma(u) as sigma(-u) (no cancellation); with ``textbook`` a formula shows
    it as 1 - h for the value h = sigma(u) the code names, as derivations write it, and
    as 1 - sigma(u) where that cancels terms (``notation.cancelled``: sigma(z) - y)."""
    grads = [mapping[g] for g in program.grads]
    tables = _Tables(program, mapping, grads)
    written_out: dict = {}
    shown: set = set()
    sections: list[Section] = []
    keys: list = []
    for stmt in stmts:
        target = mapping[stmt.target]
        named: set = set()  # written-out selects that stay names here (_written)
        expr = notation.written_out(stmt.expr.xreplace(mapping), written_out, tables.shapes, named)
        expr = notation.recognise(expr)  # now with its σ(-u)
        expr = notation.written_out(expr, written_out, tables.shapes, named)
        if isinstance(expr, ops.Sigmoid) and textbook:  # later: h and 1 - h
            written_out[ops.Sigmoid(expr.args[0])] = target
            written_out[ops.Sigmoid(-expr.args[0])] = 1 - target
        elif textbook:  # σ(z) - y, not -(y ⊙ σ(-z) - σ(z) ⊙ (1 - y))
            expr = notation.cancelled(expr, tables.shapes)
        if _is_small_temporary(stmt, target.name, expr):
            written_out[target] = expr
            continue
        key, section = _section_of(stmt, mapping)
        if not keys or keys[-1] != key:
            keys.append(key)
            sections.append(section)
        for temporary in sorted(named - shown, key=lambda s: s.name):
            shown.add(temporary)  # its formula, before the first that names it
            sections[-1].equations.append(
                _equation(temporary, written_out[temporary], tables)
            )
        sections[-1].equations.append(_equation(target, expr, tables))
    value = results[0].xreplace(mapping) if not program.array_output else None
    if value is not None and value not in {mapping[s.target] for s in stmts}:
        target = sp.Symbol(program.value_name, real=True)
        tables.shapes[target] = ()
        sections.append(Section("The value"))
        sections[-1].equations.append(
            _equation(target, notation.written_out(value, written_out, tables.shapes, set()), tables)
        )
    return Derivation(program.name, f"{program.path}:{program.line}", sections)


def _equation(target: sp.Symbol, expr: sp.Expr, tables: _Tables) -> Equation:
    lhs = tables.latex_names.get(target) or notation.latex_name(target.name)
    return Equation(
        target.name,
        lhs,
        tables.latex(expr),
        f"{target.name} = {tables.text(expr)}",
    )


# --- Writing it out -----------------------------------------------------------------------


def heading(section: Section, width: int | None = None) -> str:
    """``Grad of: <statement>  (<note>)``, the statement shortened to fit ``width``."""
    note = f"  ({section.note})" if section.note else ""
    text = f"{section.title}: {section.source}" if section.source else section.title
    if width is not None:
        text = textwrap.shorten(text, max(width - len(note), 30), placeholder=" ...")
    return text + note


def _aligned(equations: list[Equation], comments: dict | None = None) -> list[str]:
    rows = []
    for k, eq in enumerate(equations):
        if comments and k in comments:
            rows.append(f"% {comments[k]}")
        end = r" \\" if k < len(equations) - 1 else ""
        rows.append(f"{eq.lhs} &= {eq.rhs}{end}")
    return [r"\begin{aligned}"] + rows + [r"\end{aligned}"]


def to_latex(derivations: list[Derivation], notebook: bool = False) -> str:
    """One ``aligned`` block per function, in display math; sections as comments. For a
    notebook: ``$$`` blocks and no comments (MathJax and KaTeX read them)."""
    out = []
    for d in derivations:
        comments, equations = {}, []
        for section in d.sections:
            comments[len(equations)] = heading(section)
            equations += section.equations
        if notebook:
            out += ["$$"] + _aligned(equations) + ["$$"]
            continue
        out.append(f"% The derivation of {d.name} ({d.where}), by gradgen.")
        out += [r"\["] + _aligned(equations, comments) + [r"\]", ""]
    return "\n".join(out)


def to_markdown(derivations: list[Derivation]) -> str:
    """A heading per function, a ``$$`` aligned block per section."""
    out = []
    for d in derivations:
        out += [f"## The derivation of `{d.name}` ({d.where})", ""]
        for section in d.sections:
            if section.source:
                note = f" ({section.note})" if section.note else ""
                out.append(f"**{section.title}:** `{section.source}`{note}")
            else:
                out.append(f"**{section.title}**")
            out += ["", "$$"] + _aligned(section.equations) + ["$$", ""]
    return "\n".join(out)


def to_text(derivation: Derivation, width: int = 80, indent: str = "    ") -> str:
    """Plain-text formulas under their section headings (for docstrings)."""
    out = [
        textwrap.fill(
            "Formulas (· product, ⊙ elementwise product of arrays, ᵀ transpose, σ the "
            "logistic sigmoid; powers and functions act elementwise):",
            width,
        )
    ]
    for section in derivation.sections:
        out.append("")
        out.append(heading(section, width))
        for eq in section.equations:
            out.append(
                textwrap.fill(
                    eq.text,
                    width,
                    initial_indent=indent,
                    subsequent_indent=indent * 2,
                    break_on_hyphens=False,
                    break_long_words=False,
                )
            )
    return "\n".join(out)
