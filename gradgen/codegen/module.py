"""The generated module: the module's own names chosen around the user's, every target's
functions (first-order and modes), laid out by the template and formatted by black."""

from __future__ import annotations

import builtins
import symtable

from gradgen import ir
from gradgen.ad.stable_rewrites import REWRITES
from gradgen.codegen.first_order import generated_functions, integer_note
from gradgen.codegen.formatting import format_source
from gradgen.codegen.loops import bodies, loop_functions
from gradgen.codegen.modes import applies, mode_functions
from gradgen.codegen.naming import ModuleNames, module_names
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.template import render_module
from gradgen.errors import GradgenError
from gradgen.options import parse_modes
from gradgen.timing import stage


def name_module(
    programs: list[ir.Program], modes=None, array_api: bool = False
) -> ModuleNames:
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
        for k in range(1, len(p.graph.loops) + 1):  # the helpers of its loops
            base = f"_{p.name}_loop{k}"
            called[p.name] |= {base, f"{base}_forward", f"{base}_backward"}
            if parse_modes(modes):
                called[p.name] |= {f"{base}_{m}_jvp" for m in ("forward", "backward")}
                called[p.name].add(f"{base}_jvp")
        if "hessian" in parse_modes(modes) and not p.array_output:
            called[p.name].add(f"{p.name}_hvp")  # f_hessian may call f_hvp per column
        functions[p.name] = names
    names = module_names(programs, functions, called, array_api)
    for p in programs:
        p.module_names = names
    return names


def _functions(program: ir.Program, text: ModuleText, modes) -> list:
    """The functions of one target; an operation the target cannot print (no Array API
    form yet) is an error at the line it comes from, else at the target's."""
    integers = [p.name for p in program.params if p.integer]
    if text.array_api and integers:
        raise GradgenError(
            f"integer data ({', '.join(integers)}) has no Array API form in gradgen yet",
            program.path,
            program.line,
            hint="compile without --target array-api",
        )
    try:
        return (
            loop_functions(program, text)
            + generated_functions(program, text)
            + mode_functions(program, text, modes)
        )
    except GradgenError as exc:
        raise exc.located(program.path, program.line)


def _int_array_type(programs: list[ir.Program], own: ModuleNames) -> str | None:
    """The hint's name for an integer array, where some function takes one: a target,
    or the function of a loop's steps (an integer constant the steps read)."""

    def takes(program: ir.Program) -> bool:
        return any(p.integer and p.shape for p in program.params) or any(
            takes(body.program) for body in bodies(program)
        )

    return own.int_array_type if any(map(takes, programs)) else None


def generate(programs: list[ir.Program], source: str, command: str, modes=None) -> str:
    """The formatted module for one or more compiled targets; ``modes`` adds the
    forward-mode and second-order functions (``modes.py``)."""
    own = programs[0].module_names or name_module(programs, modes)
    text = ModuleText(
        own.helpers, own.numpy, own.dtype, own.array_api, own.namespace, own.extra
    )
    functions = [f for p in programs for f in _functions(p, text, modes)]
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
            (
                (own.namespace, _array_api_uses(programs, text), own.extra)
                if own.array_api
                else None
            ),
            notes,
        )
        _no_builtin_hidden(programs, module)
    with stage("black"):
        return format_source(module)


def _array_api_uses(programs: list[ir.Program], text: ModuleText) -> set[str]:
    """What an Array API module imports beside array_namespace: ``math``, ``itertools``,
    ``xpx`` (array_api_extra) as its code calls them, and ``floats_only`` when a function
    takes no array (its Python numbers become NumPy's arrays, array_api_compat.numpy).
    """
    uses = text.used & {"math", "itertools", "xpx"}
    if any(all(not p.shape for p in program.params) for program in programs):
        uses.add("floats_only")
    return uses


def _no_builtin_hidden(programs: list[ir.Program], module: str) -> None:
    """A target is a function of the module, so one named like a Python builtin that the
    module's code reads (``len``, ``type`` or ``zip`` in the argument check, ``tuple`` in
    a type hint) would replace it for every function: an error at the target."""
    named = [p for p in programs if hasattr(builtins, p.name)]
    read = (
        _globals_read(symtable.symtable(module, "generated", "exec")) if named else ()
    )
    for p in named:
        if p.name in read:
            raise GradgenError(
                f"the compile target {p.name} has the name of Python's built-in "
                f"{p.name}, which the generated module uses",
                p.path,
                p.line,
                hint="rename the function",
            )


def _globals_read(table: symtable.SymbolTable) -> set[str]:
    """The names a scope and the scopes in it read from the module or the builtins (not
    their own locals, such as a value named after its target)."""
    module = table.get_type() == "module"
    found = {
        s.get_name()
        for s in table.get_symbols()
        if s.is_referenced() and (module or s.is_global())
    }
    for child in table.get_children():
        found |= _globals_read(child)
    return found
