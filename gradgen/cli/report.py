"""``gradgen report``: one self-contained web page per model.

Takes a model file (``--function``, ``--wrt`` as the other commands; ``--at`` the inputs)
and writes one HTML file that needs nothing else, not even a network: the model with line
numbers, then per compiled function its computational graph (inline SVG, drawn by
Graphviz's ``dot``), the values and gradients of every node at the inputs (computed by the
generated module itself, ``report_run``), the derivation and the chain rule per parameter
(MathML), and the generated code, all linked to one another by the page's own script
(``templates/report.html.j2``).
"""

from __future__ import annotations

import json
import os
import sys

from gradgen.errors import GradgenError

EPILOG = """\
The page works offline: the graph is inline SVG, the formulas are MathML, the script and
styles are inline. Hover or select a delta, a gradient, a node or a line to see where it is
in the graph, the derivation, the generated code and the model; step through the backward
pass with the arrow keys on the graph. With --at, every node's value and gradient, as the
generated module computes them at those inputs, are written on the graph and in a table.
The graph needs Graphviz's dot program (apt-get install graphviz, brew install graphviz,
conda install graphviz); without it the page says so and shows the rest.

examples:
  gradgen report examples/gate.py --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  gradgen report examples/sigmoid.py --function sigmoid --at z=1 -o sigmoid.html
  gradgen report examples/xor.py --at examples/xor_trained.npz
"""


def add_command(commands, common) -> None:
    """The ``report`` subcommand; ``common`` adds the options every view takes."""
    import argparse

    parser = commands.add_parser(
        "report",
        help="one web page: graph, values, derivation and code, linked",
        description="Write a self-contained HTML page explaining a model's gradient.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(parser, "output: an .html file; default <model name>.html here")
    parser.add_argument(
        "--at",
        action="append",
        metavar="NAME=VALUE,...|FILE.npz",
        help="evaluate at these inputs: numbers as w0=2,x0=-1, arrays in an .npz "
        "file (numpy.savez) with one array per parameter (repeatable)",
    )


def run(args, write, wrt, programs) -> int:
    """Build the page and write it with ``write(path, text)``; ``programs(model,
    functions, wrt)`` compiles the model's targets (``views.programs``)."""
    out = args.output or _default_output(args.model)
    if os.path.splitext(out)[1].lower() not in (".html", ".htm"):
        raise GradgenError(
            f"cannot tell what to write from the name {out}", out, hint="name it .html"
        )
    functions, source, model_text = _views(args, wrt, programs)
    notes = [v.graph_note for v in functions if v.graph_note][:1]  # one of a kind
    notes += [x.note for v in functions for x in v.explanations if x.note]
    for note in notes:
        print(f"{args.model}: note: {note}", file=sys.stderr)
    write(out, _page(args, functions, source, model_text))
    print(f"wrote {out}")
    return 0


def _default_output(model: str) -> str:
    return os.path.splitext(os.path.basename(model))[0] + ".html"


def _views(args, wrt, compile_targets) -> tuple:
    from sympy.core.parameters import distribute

    from gradgen.explain import report_page, report_run
    from gradgen.pipeline import generate, gradient_statements, loop_steps

    inputs = report_run.parse_at(args.at) if args.at else None
    programs = compile_targets(args.model, args.functions, wrt)
    with distribute(False):  # as gradgen compile: the same module, the same names
        source = generate(programs, args.model, f"gradgen compile {args.model}")
    if inputs is not None:
        _known(inputs, programs)
    functions = []
    for k, program in enumerate(programs):
        named = gradient_statements(program)
        numbers = None
        if inputs is not None:
            numbers = report_run.run(program, named, source, inputs)
        steps = loop_steps(program)
        view = report_page.build(f"f{k}", program, named, source, numbers, steps)
        functions.append(view)
    with open(args.model, encoding="utf-8") as handle:
        return functions, source, handle.read()


def _known(inputs: dict, programs: list) -> None:
    """Every name ``--at`` gives is a parameter (or the cotangent of an array output)."""
    known = {p.name for program in programs for p in program.params}
    known |= {"cotangent"} if any(p.array_output for p in programs) else set()
    unknown = sorted(set(inputs) - known)
    if unknown:
        signatures = "; ".join(
            f"{p.name}({', '.join(q.name for q in p.params)})" for p in programs
        )
        raise GradgenError(
            f"--at names {', '.join(unknown)}, which is not a parameter of {signatures}",
            programs[0].path,
            hint="give values for the parameters only",
        )


def _page(args, functions: list, source: str, model_text: str) -> str:
    from gradgen import __version__
    from gradgen.codegen.template import environment

    template = environment().overlay(autoescape=True).get_template("report.html.j2")
    data = {
        f.id: {
            "links": f.links,
            "nodes": f.node_keys,
            "model": f.model_keys,
            "steps": f.steps,
        }
        for f in functions
    }
    return template.render(
        version=__version__,
        model=args.model,
        model_lines=model_text.splitlines(),
        at=args.at or [],
        functions=functions,
        source=source,
        data=json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"),
    )
