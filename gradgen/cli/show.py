"""The commands that show the math: ``gradgen latex``, ``explain``, ``graph`` and
``report`` (``report.py``).

Takes a model file (and the options ``compile`` takes: ``--function``, ``--wrt``) and
returns text or a file: the derivation as LaTeX, Markdown or a picture (``latex``), the
chain rule for one parameter (``explain``), the computational graph as DOT or a picture
(``graph``). Each reads the same statements and names as the generated module
(``pipeline.gradient_statements``). Also what ``gradgen.compile``'s result uses for
``.latex()``, ``.graph()`` and its display in notebooks.
"""

from __future__ import annotations

import argparse
import os

from gradgen import options
from gradgen.cli import report
from gradgen.errors import GradgenError

# The stages (and SymPy) are imported when a command runs, so `gradgen --help` is quick.

LATEX_FORMATS = {
    ".tex": "tex",
    ".md": "md",
    ".png": "png",
    ".svg": "svg",
    ".pdf": "pdf",
}

GRAPH_FORMATS = ("dot", "gv", "svg", "png", "pdf")

LATEX_EPILOG = """\
The forward equations, each adjoint (delta_h is written δ_h) and each gradient (dW1 is
∂loss/∂W1), in matrix notation: W₁ᵀ for transposes, ⊙ for elementwise products of arrays,
σ for the logistic sigmoid; powers and functions of arrays act elementwise. The names are
the generated module's. Without -o the LaTeX goes to standard output; -o refuses,
as compile does, the model file, a link, a device, a folder or a read-only file.

examples:
  gradgen latex examples/xor.py                   an aligned block, to standard output
  gradgen latex examples/xor.py -o xor.md         Markdown with $$ blocks
  gradgen latex examples/xor.py -o xor.png        drawn with matplotlib (pip install matplotlib)
"""

EXPLAIN_EPILOG = """\
For each path from the function's value down to the parameter: the product of the local
derivatives along it (for arrays, the vector-Jacobian products in turn); their sum; the
result in terms of the inputs, with the sigmoid recognised; and the lines of the generated
code that compute it.

examples:
  gradgen explain examples/sigmoid.py --function sigmoid --wrt z
  gradgen explain examples/neuron.py --wrt W1 --latex
"""

GRAPH_EPILOG = """\
Operations are boxes labelled with their formulas, parameters are ellipses; green edges
carry values forward, red edges carry adjoints backward, with the generated code's names.
.dot needs nothing else; .svg, .png and .pdf need Graphviz's dot program (Debian/Ubuntu:
apt-get install graphviz; macOS: brew install graphviz; conda install graphviz).
-o refuses, as compile does, the model file, a link, a device, a folder or a
read-only file.

examples:
  gradgen graph examples/xor.py -o xor.svg
  gradgen graph examples/xor.py                   DOT text, to standard output
"""


def add_commands(commands) -> None:
    """The ``latex``, ``explain`` and ``graph`` subcommands, on the CLI's subparsers."""
    raw = argparse.RawDescriptionHelpFormatter
    tex = commands.add_parser(
        "latex",
        help="the derivation of a model's gradient, as LaTeX",
        description="Write the derivation of a model's gradient as formulas.",
        epilog=LATEX_EPILOG,
        formatter_class=raw,
    )
    _common(tex, "output: .tex (an aligned block), .md (Markdown), .png, .svg or .pdf")
    why = commands.add_parser(
        "explain",
        help="the chain rule for one parameter, path by path",
        description="Explain the gradient with respect to a parameter by the chain rule.",
        epilog=EXPLAIN_EPILOG,
        formatter_class=raw,
    )
    _common(why, None)
    why.add_argument("--latex", action="store_true", help="write LaTeX, not plain text")
    draw = commands.add_parser(
        "graph",
        help="the computational graph, forward and backward",
        description="Draw the computational graph of a model's function.",
        epilog=GRAPH_EPILOG,
        formatter_class=raw,
    )
    _common(draw, "output: .dot, .svg, .png or .pdf")
    report.add_command(commands, _common)


def _common(parser, output_help: str | None) -> None:
    parser.add_argument("model", metavar="MODEL", help="model file")
    if output_help:
        parser.add_argument("-o", "--output", metavar="OUT", help=output_help)
    options.add_targets(parser, "show", "only these parameters")
    options.add_timeout(parser)


def programs(path: str, functions=None, wrt=None) -> list:
    """The compiled programs (``ir.Program``) of a model file's targets."""
    from sympy.core.parameters import distribute

    from gradgen.frontend.model_file import find_targets, load_model
    from gradgen.pipeline import build_program, name_module

    targets = find_targets(load_model(path), functions)
    with distribute(False):  # as when compiling: the same statements, the same names
        found = [build_program(t, wrt) for t in targets]
    name_module(found)
    return found


def derivation(program):
    """The ``latex.Derivation`` of a program: its generated statements as formulas."""
    from gradgen.pipeline import derivation

    return derivation(program)


def explanation(program, wrt: str):
    """The ``paths.Explanation`` of the gradient with respect to ``wrt``."""
    from gradgen.explain import paths
    from gradgen.pipeline import gradient_statements

    return paths.explain(program, *gradient_statements(program), wrt)


def _wrt(args) -> list[str] | None:
    return options.parse_wrt(args.wrt)


def _format(out: str, formats, hint: str) -> str:
    ext = os.path.splitext(out)[1].lower()
    if ext not in formats:
        raise GradgenError(
            f"cannot tell what to write from the name {out}", out, hint=hint
        )
    return formats[ext] if isinstance(formats, dict) else ext[1:]


def run_latex(args, write) -> int:
    fmt, wrt = "tex", _wrt(args)  # bad options fail before SymPy loads
    if args.output:
        fmt = _format(
            args.output, LATEX_FORMATS, "name it .tex, .md, .png, .svg or .pdf"
        )
    from gradgen.explain import latex, pictures

    derivations = [derivation(p) for p in programs(args.model, args.functions, wrt)]
    if fmt in pictures.PICTURES:
        data = pictures.render(derivations, fmt, args.output)
    else:
        data = (latex.to_markdown if fmt == "md" else latex.to_latex)(derivations)
    return _emit(args, data, write)


def run_explain(args, write) -> int:
    wrt = _wrt(args)
    from gradgen.explain import paths

    texts = []
    for program in programs(args.model, args.functions, wrt):
        for name in program.wrt:
            x = explanation(program, name)
            texts.append(paths.to_latex(x) if args.latex else paths.to_text(x))
    print("\n".join(texts).rstrip("\n"))
    return 0


def run_graph(args, write) -> int:
    fmt, wrt = "dot", _wrt(args)
    if args.output:
        formats = {f".{f}": f for f in GRAPH_FORMATS}
        fmt = _format(args.output, formats, "name it .dot, .svg, .png or .pdf")
    from gradgen.explain import graph
    from gradgen.pipeline import gradient_statements, loop_steps

    found = programs(args.model, args.functions, wrt)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise GradgenError(
            f"{len(found)} functions to draw ({names})",
            args.model,
            hint="choose one with --function",
        )
    stmts, _, mapping = gradient_statements(found[0])
    picture = graph.draw(found[0], stmts, mapping, steps=loop_steps(found[0]))
    data = graph.render(picture, args.output or "-", fmt)
    return _emit(args, data, write)


def _emit(args, data, write) -> int:
    if args.output:
        write(args.output, data)
        print(f"wrote {args.output}")
    else:
        print(data.rstrip("\n"))
    return 0


def run_report(args, write) -> int:
    return report.run(args, write, _wrt(args), programs)


RUNNERS = {
    "latex": run_latex,
    "explain": run_explain,
    "graph": run_graph,
    "report": run_report,
}
