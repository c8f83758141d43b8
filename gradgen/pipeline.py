"""The recipe: model → trace → reverse sweep → optimise → name → print → template → black.

``compile_file`` takes a model file and returns the generated module's source;
``compile`` takes a function object and returns a ``Compiled`` carrying the source and
the imported module. Each stage is a function in its own module; this one only sequences
them and decides which statements each generated function needs.
"""

from __future__ import annotations

import builtins
import types

import sympy as sp
from sympy.core.parameters import distribute

from gradgen import ir
from gradgen.ad.reverse import differentiate, forward_statements
from gradgen.ad.stable_rewrites import stabilise
from gradgen.codegen.first_order import gradient_statements
from gradgen.codegen.loops import loop_steps, step_sections
from gradgen.codegen.modes import check_modes
from gradgen.codegen.module import generate, name_module
from gradgen.codegen.naming import ModuleNames
from gradgen.explain import latex
from gradgen.frontend.model_file import (
    Target,
    find_targets,
    load_model,
    make_target,
    model_of_function,
    with_branches,
)
from gradgen.frontend.loop_runtime import unrolling
from gradgen.frontend.trace import trace
from gradgen.options import differentiated, parse_modes, parse_target, parse_wrt
from gradgen.process import stack_budget
from gradgen.timing import stage


def build_program(target: Target, wrt: list[str] | None = None) -> ir.Program:
    """Trace one target and differentiate it: the IR of everything it will generate."""
    wrt_names = differentiated(target, wrt)
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


def _compiled(
    targets: list[Target],
    wrt: list[str] | None,
    command: str,
    modes=None,
    checks: bool = True,
    target: str = "numpy",
    unroll: bool | None = None,
    checkpoint: int = 0,
):
    """The programs of the targets and the generated module's source; ``checks``: the
    generated functions check their arguments (``codegen/entry.py``); ``target``: numpy
    or array-api (``codegen/printer.py``); ``unroll``: unroll every loop of a fixed
    length (True), keep them all loops (False), or by their length (None,
    ``loop_runtime.ROLL_AT``); ``checkpoint`` K: loops keep their state every K steps
    only, and the backward pass recomputes the rest (0: every step's)."""
    parse_modes(modes)  # an unknown mode fails before any tracing
    array_api = parse_target(target)
    with stack_budget(), distribute(False), unrolling(unroll, checkpoint):  # distribute: keep 2*(yhat - y) as written
        programs = [build_program(t, wrt) for t in targets]
        if modes:
            check_modes(programs, modes)
        name_module(programs, modes, array_api)
        for p in programs:
            p.checks = checks
        return programs, generate(programs, targets[0].model.path, command, modes)


def compile_targets(
    targets: list[Target],
    wrt: list[str] | None,
    command: str,
    modes=None,
    checks: bool = True,
    target: str = "numpy",
    unroll: bool | None = None,
    checkpoint: int = 0,
) -> str:
    return _compiled(targets, wrt, command, modes, checks, target, unroll, checkpoint)[1]


def compile_file(
    path: str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    command: str | None = None,
    modes=None,
    checks: bool = True,
    target: str = "numpy",
    unroll: bool | None = None,
    checkpoint: int = 0,
) -> str:
    """The generated module's source for a model file."""
    with stage("load"):
        model = load_model(path)
    targets = find_targets(model, functions)
    command = command or f"gradgen compile {path}"
    return compile_targets(
        targets, wrt, command, modes, checks, target, unroll, checkpoint
    )


def derivation(program: ir.Program) -> latex.Derivation:
    """The derivation of a program: the statements of its generated gradient function
    as formulas (``gradgen latex``, docstrings, ``Compiled.latex()``)."""
    with stack_budget():
        derived = latex.derive(program, *gradient_statements(program))
        derived.sections += step_sections(program)
    return derived


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
        return [derivation(p) for p in self.programs]

    def latex(self) -> str:
        """The derivation: forward equations, deltas and gradients, as LaTeX."""
        return latex.to_latex(self._derivations())

    def graph(self):
        """The computational graph, a ``graphviz.Digraph`` (drawn in notebooks when
        Graphviz's ``dot`` is installed; ``.source`` is its DOT text)."""
        from gradgen.explain import (
            graph,
        )  # deferred: the graphviz package is imported only to draw

        program = self.programs[0]
        stmts, _, mapping = gradient_statements(program)
        return graph.draw(program, stmts, mapping, steps=loop_steps(program))

    def _repr_latex_(self) -> str:
        return latex.to_latex(self._derivations(), notebook=True)

    def _repr_markdown_(self) -> str:
        return latex.to_markdown(self._derivations())


def compile(
    fn, wrt=None, modes=None, checks=True, target="numpy"
) -> Compiled:  # noqa: A001 - the public name the contract gives
    """Compile one model function in memory; ``wrt`` is a parameter name or a list of them,
    ``modes`` a list of extra modes (``jvp``, ``hvp``, ``hessian``, ``jacobian``, ``all``);
    ``checks=False`` leaves out the checks of the arguments at entry; ``target="array-api"``
    writes a module for any Array API library's arrays (NumPy is the default).
    """
    wrt = parse_wrt(wrt, "wrt")
    parse_target(target)
    model = model_of_function(fn)
    made = make_target(with_branches(fn, model), model)
    programs, source = _compiled(
        [made],
        wrt,
        f"gradgen.compile({fn.__name__}) (in memory)",
        modes,
        checks,
        target,
    )
    module = types.ModuleType(f"gradgen_compiled_{fn.__name__}")
    exec(builtins.compile(source, f"<gradgen {fn.__name__}>", "exec"), module.__dict__)
    return Compiled(source, module, programs)
