"""The generated module: the module's own names chosen around the user's, every target's
functions (first-order and modes), laid out by the template and formatted by black."""

from __future__ import annotations

from gradgen import ir
from gradgen.ad.stable_rewrites import REWRITES
from gradgen.codegen.first_order import generated_functions, integer_note
from gradgen.codegen.formatting import format_source
from gradgen.codegen.modes import applies, mode_functions
from gradgen.codegen.naming import ModuleNames, module_names
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.template import render_module
from gradgen.options import parse_modes
from gradgen.timing import stage


def name_module(programs: list[ir.Program], modes=None) -> ModuleNames:
    """Choose the module's own names (NumPy's, the helpers') around every name of the
    user's, and give them to each program; a clash between public names is an error."""
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


def _int_array_type(programs: list[ir.Program], own: ModuleNames) -> str | None:
    """The hint's name for an integer array, where some function takes one."""
    takes = any(p.integer and p.shape for program in programs for p in program.params)
    return own.int_array_type if takes else None


def generate(programs: list[ir.Program], source: str, command: str, modes=None) -> str:
    """The formatted module for one or more compiled targets; ``modes`` adds the
    forward-mode and second-order functions (``modes.py``)."""
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
    notes = [f"{p.name}: {integer_note(p)}" for p in programs if integer_note(p)]
    with stage("template"):
        module = render_module(
            title,
            source,
            command,
            functions,
            rewrites,
            text.definitions(),
            own.numpy,
            (own.array_type, own.any_type, _int_array_type(programs, own)),
            notes,
        )
    with stage("black"):
        return format_source(module)
