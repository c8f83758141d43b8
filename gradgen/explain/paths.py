"""Explain: the chain rule for one parameter, path by path, for learners.

Takes a ``Program``, its generated statements and names (``pipeline.gradient_statements``)
and a parameter; returns an ``Explanation``: every path from the output down to the
parameter with the product of the local derivatives along it (for arrays, the vector-
Jacobian products applied in turn), their sum (the multivariable chain rule), the result
written in terms of the inputs with σ recognised, and the lines of the generated code that
compute it. ``to_text`` writes it for the terminal, ``to_latex`` as LaTeX.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.parameters import distribute

from gradgen import ir, ops
from gradgen.explain import latex, notation
from gradgen.explain.chain import Chain

LARGEST = 40  # operations in a formula in terms of the inputs that is still shown
PATHS = 24  # paths listed at most


@dataclass
class Term:
    path: list  # symbols, from the output down to the parameter
    factors: list  # scalar path: the local derivatives, output first
    edges: list  # array path: (upper, lower, local VJP of the placeholder g)
    value: sp.Expr  # the product, or the composed VJP


@dataclass
class Explanation:
    chain: Chain
    wrt: sp.Symbol
    terms: list[Term]
    total: sp.Expr
    inputs: list = field(default_factory=list)  # the total in terms of the inputs
    code: list = field(default_factory=list)  # latex.Equation lines computing it
    more_paths: bool = False
    seed: sp.Expr = sp.Integer(1)  # the output's adjoint: 1, or the cotangent
    placeholder: sp.Symbol | None = None  # the incoming adjoint in an array step


def explain(program: ir.Program, stmts, results, mapping, wrt: str) -> Explanation:
    """The chain rule for parameter ``wrt`` of a compiled program."""
    with distribute(False):
        chain = Chain(program, stmts, mapping)
        param = next(p.sym for p in program.params if p.name == wrt)
        seed = sp.Integer(1)
        if program.array_output:
            seed = program.cotangent
            chain.names[seed] = mapping[seed].name
        taken = set(chain.names.values())
        holder = sp.Dummy("g", real=True)
        chain.names[holder] = next(g for g in ("g", "g_up", "g_in") if g not in taken)
        paths = chain.paths(param, PATHS + 1)
        more, paths = len(paths) > PATHS, paths[:PATHS]
        scalar = all(chain.is_scalar(path) for path in paths)
        terms = [_term(chain, path, seed, holder, scalar) for path in paths]
        total = sp.Add(*[t.value for t in terms])
        if more:  # not every path is listed: the sum comes from a reverse sweep
            total = chain.gradient(param, seed)
        out = Explanation(chain, param, terms, total, more_paths=more)
        out.seed, out.placeholder = seed, holder
        if terms and all(t.factors is not None for t in terms):
            out.inputs = _in_terms_of_inputs(chain, total)
        out.code = _code_lines(program, stmts, results, mapping, param)
    return out


def _term(chain: Chain, path: list, seed, holder, scalar: bool) -> Term:
    if scalar:
        factors = [chain.partial(a, b) for a, b in zip(path, path[1:])]
        return Term(path, factors, [], seed * sp.Mul(*factors))
    edges, g = [], seed
    for upper, lower in zip(path, path[1:]):
        chain.shapes[holder] = chain.shape(upper)
        edges.append((upper, lower, chain.vjp(upper, lower, holder)))
        g = chain.vjp(upper, lower, g)
    return Term(path, None, edges, g)


def _in_terms_of_inputs(chain: Chain, total: sp.Expr) -> list:
    """The total with every step replaced by its definition: as SymPy gives it, then
    with e^{-u} written through σ(u) where that is shorter."""
    expr = total
    for step in reversed(chain.steps):
        expr = expr.xreplace({step.sym: step.expr})
    if expr == total or sp.count_ops(expr) > LARGEST:
        return []
    forms = [notation.recognise(expr)]
    through = _through_sigmoid(forms[0])
    if through is not None:
        forms.append(through)
    return forms


def _through_sigmoid(expr: sp.Expr) -> sp.Expr | None:
    """``expr`` with e^{-u} = (1 − σ(u))/σ(u) substituted and factored, when that leaves
    no exponential and fewer operations; e.g. e^{-z}/(1 + e^{-z})² → σ(z)(1 − σ(z))."""
    best = None
    for kernel in sorted(expr.atoms(sp.exp), key=sp.default_sort_key):
        s = sp.Dummy("s", real=True)
        candidate = sp.factor(sp.cancel(expr.subs(kernel, (1 - s) / s)))
        if candidate.has(sp.exp) or not candidate.has(s):
            continue
        if candidate.could_extract_minus_sign() and isinstance(candidate, sp.Mul):
            for factor in candidate.args:
                if isinstance(factor, sp.Add):  # -s(s - 1) → s(1 - s)
                    flipped = sp.Add(*[-t for t in factor.args])
                    candidate = (-candidate / factor) * flipped
                    break
        candidate = candidate.xreplace({s: ops.Sigmoid(-kernel.args[0])})
        if sp.count_ops(candidate) < sp.count_ops(best if best is not None else expr):
            best = candidate
    return best


def _code_lines(program, stmts, results, mapping, param) -> list:
    """The generated code's equations that the gradient of ``param`` needs."""
    differentiated = [p.sym for p in program.params if p.name in program.wrt]
    grad = program.grads[differentiated.index(param)]
    definitions = {
        s.target: s
        for s in stmts
        if s.section == "backward" or s.role in ("grad", "adjoint")
    }
    needed, todo = set(), [grad]
    while todo:
        sym = todo.pop()
        if sym in needed or sym not in definitions:
            continue
        needed.add(sym)
        todo.extend(definitions[sym].expr.free_symbols)
    names = {mapping[s].name for s in needed}
    # written as `gradgen latex` and the docstrings write them: 1 - yhat for σ(-z_1)
    derivation = latex.derive(program, stmts, results, mapping)
    return [e for e in derivation.equations() if e.name in names]


# --- Writing it out -------------------------------------------------------------------


class _Writer:
    """Names and formulas in one notation (plain text or LaTeX)."""

    def __init__(self, explanation: Explanation, as_latex: bool):
        self.x = explanation
        self.chain = chain = explanation.chain
        self.as_latex = as_latex
        self.rename = {s: sp.Symbol(n, real=True) for s, n in chain.names.items()}
        self.shapes = {
            self.rename.get(s, s): shape for s, shape in chain.shapes.items()
        }

    def name(self, sym) -> str:
        name = self.chain.names.get(sym, sym.name)
        return notation.latex_name(name) if self.as_latex else name

    def formula(self, expr) -> str:
        expr = notation.cancelled(expr.xreplace(self.rename), self.shapes)
        if self.as_latex:
            return latex.formula(expr, self.shapes)
        return notation.text(expr, self.shapes)

    def result(self) -> str:
        """∂out/∂wrt, or for an array output ∂⟨out, cotangent⟩/∂wrt."""
        if not self.chain.program.array_output:
            return self.d(self.chain.output, self.x.wrt)
        out, cot = self.name(self.chain.output), self.name(self.chain.program.cotangent)
        if self.as_latex:
            pair = rf"\left\langle {out}, {cot}\right\rangle"
            return rf"\frac{{\partial {pair}}}{{\partial {self.name(self.x.wrt)}}}"
        return f"∂⟨{out}, {cot}⟩/∂{self.name(self.x.wrt)}"

    def d(self, upper, lower) -> str:
        if self.as_latex:
            return (
                rf"\frac{{\partial {self.name(upper)}}}{{\partial {self.name(lower)}}}"
            )
        return f"∂{self.name(upper)}/∂{self.name(lower)}"

    def factor(self, expr) -> str:
        text = self.formula(expr)
        if isinstance(expr, sp.Add) or expr.could_extract_minus_sign():
            return rf"\left({text}\right)" if self.as_latex else f"({text})"
        return text

    def path(self, path) -> str:
        arrow = r" \leftarrow " if self.as_latex else " ← "
        return arrow.join(self.name(s) for s in path)

    def product(self, items) -> str:
        return (r" \cdot " if self.as_latex else " · ").join(items)


def _scalar_rows(w: _Writer) -> list:
    x, rows = w.x, []
    for term in x.terms:
        partials = _partials(w, term)
        factors = w.product([w.factor(f) for f in term.factors])
        if len(x.terms) == 1 and len(term.path) > 2:
            rows += [(w.result(), "=", partials), ("", "=", factors)]
        elif len(x.terms) == 1:  # one edge: the local derivative is the result
            rows.append((w.result(), "=", factors))
        else:
            rows.append((partials, "=", factors))
    total = w.formula(x.total)
    factors = [f for t in x.terms for f in t.factors]
    simpler = sp.count_ops(x.total) < sum(sp.count_ops(f) + 1 for f in factors) - 1
    if len(x.terms) > 1 or simpler:
        rows.append((w.result() if len(x.terms) > 1 else "", "=", total))
    return rows


def _partials(w: _Writer, term: Term) -> str:
    return w.product([w.d(a, b) for a, b in zip(term.path, term.path[1:])])


def _array_blocks(w: _Writer) -> list:
    x, blocks = w.x, []
    g = w.name(x.placeholder) + (r" \mapsto " if w.as_latex else " ↦ ")
    for term in x.terms:
        rows = [(w.d(u, l), ":", g + w.formula(local)) for u, l, local in term.edges]
        rows.append((w.result(), "=", w.formula(term.value)))
        plain = _Writer(x, as_latex=False)
        blocks += [("p", f"Along {plain.path(term.path)}:"), ("rows", rows)]
    if len(x.terms) > 1:
        total = [(w.result(), "=", w.formula(x.total))]
        blocks += [("p", "Summed over the paths:"), ("rows", total)]
    return blocks


def _intro(x: Explanation) -> str:
    w = _Writer(x, as_latex=False)
    out, wrt = w.name(x.chain.output), w.name(x.wrt)
    if len(x.terms) == 1:
        return f"One path leads from {out} down to {wrt}: {w.path(x.terms[0].path)}."
    intro = (
        f"{len(x.terms)} paths lead from {out} down to {wrt}: by the multivariable "
        "chain rule the derivative is the sum, over the paths, of the product of the "
        "local derivatives along each."
    )
    if x.more_paths:
        intro = (
            f"More than {PATHS} paths lead from {out} down to {wrt}: the first {PATHS} "
            "are shown; by the multivariable chain rule the derivative is the sum, over "
            "all of them, of the product of the local derivatives along each."
        )
    return intro


def _code_block(w: _Writer) -> list:
    program = w.chain.program
    fn = f"{program.name}_{'vjp' if program.array_output else 'value_and_grad'}"
    if w.as_latex:
        rows = [(e.lhs, "=", e.rhs) for e in w.x.code]
    else:
        rows = [(e.name, "=", e.text.split(" = ", 1)[1]) for e in w.x.code]
    return [("p", f"The lines of the generated {fn} that compute it:"), ("rows", rows)]


def _blocks(w: _Writer, code: bool = True) -> list:
    """("p", prose) and ("rows", [(lhs, relation, rhs)]) in order; with ``code``, the
    lines of the generated code last."""
    x, plain = w.x, _Writer(w.x, as_latex=False)
    if not x.terms:
        out, wrt = plain.name(x.chain.output), plain.name(x.wrt)
        return [("p", f"{out} does not depend on {wrt}: its gradient is zero.")]
    blocks: list = [("p", _intro(x))]
    if x.terms[0].factors is not None:
        prose = "Along a path, it is the product of the local derivatives:"
        blocks += [("p", prose), ("rows", _scalar_rows(w))]
    else:
        prose = (
            "The values are arrays, so each local derivative acts on the adjoint "
            f"{plain.name(x.placeholder)} arriving from above (a vector-Jacobian "
            f"product); at the output it is {plain.formula(x.seed)}."
        )
        blocks += [("p", prose)] + _array_blocks(w)
    if x.inputs:
        blocks.append(("p", "In terms of the inputs:"))
        blocks.append(("rows", [("", "=", w.formula(f)) for f in x.inputs]))
    return blocks + (_code_block(w) if x.code and code else [])


def latex_blocks(x: Explanation, code: bool = True) -> list:
    """What ``to_latex`` writes, for a page to lay out: ("p", prose) and ("rows",
    [(lhs, relation, rhs)]) with LaTeX formulas; ``code=False`` leaves out the lines of
    the generated code (``x.code``)."""
    return _blocks(_Writer(x, as_latex=True), code)


def result_latex(x: Explanation) -> str:
    """∂out/∂wrt (∂⟨out, cotangent⟩/∂wrt for an array output) as LaTeX."""
    return _Writer(x, as_latex=True).result()


def partials_latex(x: Explanation, term: Term) -> str:
    """The product of the partial derivatives along a term's path, as LaTeX."""
    return _partials(_Writer(x, as_latex=True), term)


def title(x: Explanation) -> str:
    w = _Writer(x, as_latex=False)
    program = x.chain.program
    return f"{w.result()} in {program.name} ({program.path}:{program.line})"


def to_text(x: Explanation, width: int = 88) -> str:
    w = _Writer(x, as_latex=False)
    lines = [title(x), ""]
    blocks = _blocks(w)
    left = 0
    for kind, payload in blocks:
        if kind == "p":
            lines += [textwrap.fill(payload, width), ""]
            continue
        if any(lhs for lhs, _, _ in payload):  # else: it goes on from the rows above
            left = max(len(lhs) for lhs, _, _ in payload)
        for lhs, relation, rhs in payload:
            lines.append(f"    {lhs.rjust(left)} {relation} {rhs}")
        lines.append("")
    return "\n".join(lines)


def to_latex(x: Explanation) -> str:
    w = _Writer(x, as_latex=True)
    lines = [f"% {title(x)}"]
    for kind, payload in _blocks(w):
        if kind == "p":
            lines += ["% " + line for line in textwrap.wrap(payload, 86)]
            continue
        rows = [f"{lhs} &{relation} {rhs}" for lhs, relation, rhs in payload]
        lines += [
            r"\[",
            r"\begin{aligned}",
            " \\\\\n".join(rows),
            r"\end{aligned}",
            r"\]",
        ]
    return "\n".join(lines) + "\n"
