"""The recipe: model → trace → reverse sweep → optimise → name → print → template → black.

``compile_file`` takes a model file and returns the generated module's source;
``compile`` takes a function object and returns a ``Compiled`` carrying the source and
the imported module. Each stage is a function in its own module; this one only sequences
them and decides which statements each generated function needs.
"""

from __future__ import annotations

import builtins
import textwrap
import types

import sympy as sp
from sympy.core.parameters import distribute

from . import hints, ir, latex
from .emit import Block, Function, render_module
from .entry import dtype_lines, entry_lines
from .errors import GradgenError
from .format import format_source
from .naming import ModuleNames, Namer, module_names
from .numerics import REWRITES, stabilise
from .optimize import optimise
from .options import parse_wrt
from .printer import ModuleText, assignments, returned
from .reverse import differentiate, forward_statements
from .timing import stage
from .source import (
    Target,
    find_targets,
    load_model,
    make_target,
    model_of_function,
    with_branches,
)
from .trace import trace


def _wrt_names(target: Target, wrt: list[str] | None) -> list[str]:
    names = [p.name for p in target.params]
    for name in wrt or []:
        if name not in names:
            raise GradgenError(
                f"--wrt names {name!r}, which is not a parameter of "
                f"{target.name}({', '.join(names)})",
                target.model.path,
                target.line,
                hint="list parameters separated by commas, e.g. --wrt W0,W1",
            )
    return [n for n in names if wrt is None or n in wrt]


def build_program(target: Target, wrt: list[str] | None = None) -> ir.Program:
    """Trace one target and differentiate it: the IR of everything it will generate."""
    wrt_names = _wrt_names(target, wrt)
    with stage("trace"):
        graph, output, session = trace(target)
    with stage("numerics"):
        rewrites = stabilise(graph)
    out_shape = graph.shapes[output]
    program = ir.Program(
        target.name,
        target.model.path,
        target.line,
        target.params,
        wrt_names,
        graph,
        output,
        target.returns_array or out_shape != (),
    )
    program.rewrites = rewrites
    program.forward = forward_statements(graph, output)
    seed = sp.Integer(1)
    if program.array_output:
        program.cotangent = seed = graph.new_symbol("v")
        graph.shapes[seed] = out_shape
    wrt_syms = [p.sym for p in target.params if p.name in wrt_names]
    returned = session.site()  # the return statement: where the backward pass starts
    with stage("reverse sweep"):
        program.backward, program.grads = differentiate(
            graph, output, wrt_syms, seed, returned
        )
    return program


# --- Generated functions -------------------------------------------------------------


def _named(program: ir.Program) -> set:
    return {n.sym for n in program.graph.nodes if n.names}


def _tuple(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"


def _dims_lines(program: ir.Program, used: set) -> list[str]:
    """``n, d = X.shape`` lines for the dimensions the body reads."""
    lines, defined = [], set()
    for p in program.params:
        wanted = list(
            dict.fromkeys(d for d in p.shape if d in used and d not in defined)
        )
        if not wanted:
            continue
        symbolic = all(ir.is_dim_symbol(d) for d in p.shape)
        unpack = len(p.shape) > 1 and len(set(p.shape)) == len(p.shape)
        if symbolic and unpack and wanted == list(p.shape):
            lines.append(f"{', '.join(d.name for d in p.shape)} = {p.name}.shape")
        else:
            for d in wanted:
                lines.append(f"{d.name} = {p.name}.shape[{p.shape.index(d)}]")
        defined.update(wanted)
    return lines


def _shorten(comment: str, width: int = 80) -> str:
    return comment if len(comment) <= width else comment[: width - 4].rstrip() + " ..."


def _doc(*paragraphs: str) -> str:
    """A docstring's text, wrapped to fit 88 columns when indented in a function (its
    first line also follows the opening quotes)."""
    first = textwrap.fill(paragraphs[0], 84, initial_indent="   ")[3:]
    return "\n\n".join([first] + [textwrap.fill(p, 84) for p in paragraphs[1:]])


def _blocks(
    stmts: list[ir.Stmt], mapping: dict, headers: bool, text: ModuleText, shapes: dict
) -> list[Block]:
    blocks: list[Block] = []
    keys: list = []
    for stmt in stmts:
        if stmt.section == "forward":
            key, comment = "forward", "Forward pass" if headers else None
        elif stmt.block is None:
            key, comment = "unreached", "The value does not depend on these parameters"
        else:
            key, comment = stmt.block.stmt_key, _shorten(
                f"Grad of: {stmt.block.stmt_text}"
            )
        if not keys or keys[-1] != key:
            keys.append(key)
            blocks.append(Block(comment))
        with stage("printing"):
            blocks[-1].statements += assignments(
                mapping[stmt.target].name,
                stmt.expr,
                text.mapped(mapping),
                lambda e: ir.shape_of(e, shapes) == shapes[stmt.target],
                stmt.in_place,
            )
    return blocks


def named_statements(program: ir.Program, namer: Namer, stmts, results, keep):
    """Optimised statements, results and the final names: what one generated function
    prints, and what the formulas (``latex``, ``explain``, ``graph``) show."""
    with stage("optimise"):
        stmts, results = optimise(stmts, results, keep, program.graph)
    with stage("naming"):
        return stmts, results, namer.mapping(stmts)


def _gradient_inputs(program: ir.Program):
    """The statements, results and kept values of ``f_value_and_grad`` (or ``f_vjp``)."""
    named = _named(program)
    keep = named | {program.output} | set(program.grads)
    keep |= {
        s.target for s in program.backward if s.role == "adjoint" and s.node in named
    }
    results = list(program.grads)
    if not program.array_output:
        results.insert(0, program.output)
    return program.forward + program.backward, results, keep


def gradient_statements(program: ir.Program):
    """The named, optimised statements of ``f_value_and_grad`` (``f_vjp`` for an array
    output), exactly as the generated module computes them: (stmts, results, mapping).
    """
    with distribute(False):
        namer = Namer(program)
        return named_statements(program, namer, *_gradient_inputs(program))


def _function(
    program: ir.Program,
    namer: Namer,
    text: ModuleText,
    name: str,
    stmts,
    results,
    keep,
    returns,
    doc: str,
    summary: str,
    extra_params=(),
    formulas: bool = False,
    result: str = "",
) -> Function:
    """One generated function; ``result`` is the type hint of what it returns."""
    stmts, results, mapping = named_statements(program, namer, stmts, results, keep)
    if formulas:  # the derivation, in the docstring of the function that computes it
        with stage("formulas"):
            derivation = latex.derive(program, stmts, results, mapping)
        doc += "\n\n" + latex.to_text(derivation)
    used = set()
    for expr in [s.expr for s in stmts] + results:
        used |= {s for s in expr.free_symbols if ir.is_dim_symbol(s)}
    inputs = {p.sym for p in program.params} | set(extra_params)
    shapes = program.graph.shapes
    printed = returned(text.mapped(mapping), results, stmts, inputs, shapes)
    extra = [(mapping[s].name, program.graph.shapes[s] or None) for s in extra_params]
    entry, after, sizes = entry_lines(program, text, name, extra)
    params = [p.name for p in program.params] + [n for n, _ in extra]
    blocks = _blocks(
        stmts,
        mapping,
        headers=bool(program.backward) and any(s.section == "backward" for s in stmts),
        text=text,
        shapes=program.graph.shapes,
    )
    returns_text = returns(printed)
    dims = _dims_lines(program, used | sizes) + after
    dims += dtype_lines(text, params, blocks, returns_text)
    types = hints.params(program) + [hints.of(s, program) for _, s in extra]
    return Function(
        name, params, doc, summary, dims, blocks, returns_text, entry, types, result
    )


def _shapes_doc(program: ir.Program) -> str:
    parts = [
        f"{p.name} {ir.shape_str(p.shape) if p.shape else 'float'}"
        for p in program.params
    ]
    return "Shapes: " + ", ".join(parts) + "."


def generated_functions(program: ir.Program, text: ModuleText) -> list[Function]:
    """The value function and its gradient functions, as the model contract names them;
    ``text`` prints the expressions."""
    namer = Namer(program)
    name, args = program.name, ", ".join(p.name for p in program.params)
    named = _named(program)
    grads_text = _tuple([namer.names[g] for g in program.grads])
    wrt_text = ", ".join(program.wrt)
    where = f"{program.path}:{program.line}"
    functions = [
        _function(
            program,
            namer,
            text,
            name,
            program.forward,
            [program.output],
            named,
            lambda r: r[0],
            _doc(f"Value of ``{name}`` as defined at {where}.", _shapes_doc(program)),
            f"{name}({args}) -> value",
            result=hints.value(program),
        )
    ]
    stmts, results, keep = _gradient_inputs(program)
    if program.array_output:
        cot = namer.names[program.cotangent]
        functions.append(
            _function(
                program,
                namer,
                text,
                f"{name}_vjp",
                stmts,
                results,
                keep,
                ", ".join,
                _doc(
                    f"Vector-Jacobian product of ``{name}`` with respect to {wrt_text}.",
                    f"``{cot}`` has the shape of the result; returns {grads_text}, the gradient "
                    f"of sum({name}(...) * {cot}).",
                ),
                f"{name}_vjp({args}, {cot}) -> {grads_text}",
                extra_params=[program.cotangent],
                formulas=True,
                result=hints.wrt(program),
            )
        )
        return functions
    value = program.value_name
    functions.append(
        Function(
            f"{name}_grad",
            [p.name for p in program.params],
            _doc(
                f"Gradient of ``{name}`` with respect to {wrt_text}: returns {grads_text}."
            ),
            f"{name}_grad({args}) -> {grads_text}",
            [],
            [],
            f"{name}_value_and_grad({args})[1]",
            hints=hints.params(program),
            result=hints.wrt(program),
        )
    )
    functions.append(
        _function(
            program,
            namer,
            text,
            f"{name}_value_and_grad",
            stmts,
            results,
            keep,
            lambda r: f"{r[0]}, {_tuple(r[1:])}",
            _doc(
                f"Value of ``{name}`` and its gradient with respect to {wrt_text}.",
                f"Returns ({value}, {grads_text}); each gradient has its parameter's shape.",
            ),
            f"{name}_value_and_grad({args}) -> ({value}, {grads_text})",
            formulas=True,
            result=f"tuple[{hints.value(program)}, {hints.wrt(program)}]",
        )
    )
    return functions


def name_module(programs: list[ir.Program], modes=None) -> ModuleNames:
    """Choose the module's own names (NumPy's, the helpers') around every name of the
    user's, and give them to each program; a clash between public names is an error."""
    from .modes import applies, parse_modes  # it builds on this module's helpers

    functions, called = {}, {}
    for p in programs:
        called[p.name] = set()
        if p.array_output:
            names = [p.name, f"{p.name}_vjp"]
        else:
            names = [p.name, f"{p.name}_grad", f"{p.name}_value_and_grad"]
            called[p.name].add(names[2])  # f_grad returns f_value_and_grad(...)[1]
        names += [f"{p.name}_{m}" for m in parse_modes(modes) if applies(m, p)]
        if "hessian" in parse_modes(modes) and not p.array_output:
            called[p.name].add(f"{p.name}_hvp")  # f_hessian may call f_hvp per column
        functions[p.name] = names
    names = module_names(programs, functions, called)
    for p in programs:
        p.module_names = names
    return names


def generate(programs: list[ir.Program], source: str, command: str, modes=None) -> str:
    """The formatted module for one or more compiled targets; ``modes`` adds the
    forward-mode and second-order functions (``modes.py``)."""
    from .modes import mode_functions  # it builds on this module's helpers

    own = programs[0].module_names or name_module(programs, modes)
    text = ModuleText(own.helpers, own.numpy, own.dtype)
    functions = [
        f
        for p in programs
        for f in generated_functions(p, text) + mode_functions(p, text, modes)
    ]
    names = ", ".join(f"``{p.name}``" for p in programs)
    title = f"Gradients of {names}, compiled from {source}."
    applied = {key for p in programs for key in p.rewrites}
    rewrites = [text for key, text in REWRITES.items() if key in applied]
    with stage("template"):
        module = render_module(
            title,
            source,
            command,
            functions,
            rewrites,
            text.definitions(),
            own.numpy,
            (own.array_type, own.any_type),
        )
    with stage("black"):
        return format_source(module)


def _compiled(
    targets: list[Target],
    wrt: list[str] | None,
    command: str,
    modes=None,
    checks: bool = True,
):
    """The programs of the targets and the generated module's source; ``checks``: the
    generated functions check their arguments (``entry.py``)."""
    from .modes import check_modes, parse_modes

    parse_modes(modes)  # an unknown mode fails before any tracing
    with distribute(False):  # keep 2*(yhat - y) as written, not 2*yhat - 2*y
        programs = [build_program(t, wrt) for t in targets]
        if modes:
            check_modes(programs, modes)
        name_module(programs, modes)
        for p in programs:
            p.checks = checks
        return programs, generate(programs, targets[0].model.path, command, modes)


def compile_targets(
    targets: list[Target],
    wrt: list[str] | None,
    command: str,
    modes=None,
    checks: bool = True,
) -> str:
    return _compiled(targets, wrt, command, modes, checks)[1]


def compile_file(
    path: str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    command: str | None = None,
    modes=None,
    checks: bool = True,
) -> str:
    """The generated module's source for a model file."""
    with stage("load"):
        model = load_model(path)
    targets = find_targets(model, functions)
    command = command or f"gradgen compile {path}"
    return compile_targets(targets, wrt, command, modes, checks)


class Compiled:
    """What ``gradgen.compile`` returns: ``.source`` (the generated module's text) and
    ``.module`` (that module, imported); its functions are also attributes of this object.
    ``.latex()`` is the derivation as LaTeX, ``.graph()`` the computational graph (a
    ``graphviz.Digraph``); in a notebook the object shows its derivation.
    """

    def __init__(self, source: str, module: types.ModuleType, programs=()):
        self.source = source
        self.module = module
        self.programs = list(programs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.module, name)

    def __repr__(self):
        own = self.programs[0].module_names if self.programs else ModuleNames()
        types = {own.numpy, own.array_type, own.any_type}
        names = [
            n for n in vars(self.module) if not n.startswith("_") and n not in types
        ]
        return f"<gradgen.Compiled: {', '.join(names)}>"

    def _derivations(self) -> list:
        return [latex.derive(p, *gradient_statements(p)) for p in self.programs]

    def latex(self) -> str:
        """The derivation: forward equations, deltas and gradients, as LaTeX."""
        return latex.to_latex(self._derivations())

    def graph(self):
        """The computational graph, a ``graphviz.Digraph`` (drawn in notebooks when
        Graphviz's ``dot`` is installed; ``.source`` is its DOT text)."""
        from . import graph  # deferred: the graphviz package is imported only to draw

        program = self.programs[0]
        stmts, _, mapping = gradient_statements(program)
        return graph.draw(program, stmts, mapping)

    def _repr_latex_(self) -> str:
        return latex.to_latex(self._derivations(), notebook=True)

    def _repr_markdown_(self) -> str:
        return latex.to_markdown(self._derivations())


def compile(
    fn, wrt=None, modes=None, checks=True
) -> Compiled:  # noqa: A001 - the public name the contract gives
    """Compile one model function in memory; ``wrt`` is a parameter name or a list of them,
    ``modes`` a list of extra modes (``jvp``, ``hvp``, ``hessian``, ``jacobian``, ``all``);
    ``checks=False`` leaves out the checks of the arguments at entry.
    """
    wrt = parse_wrt(wrt, "wrt")
    model = model_of_function(fn)
    target = make_target(with_branches(fn, model), model)
    programs, source = _compiled(
        [target], wrt, f"gradgen.compile({fn.__name__}) (in memory)", modes, checks
    )
    module = types.ModuleType(f"gradgen_compiled_{fn.__name__}")
    exec(builtins.compile(source, f"<gradgen {fn.__name__}>", "exec"), module.__dict__)
    return Compiled(source, module, programs)
