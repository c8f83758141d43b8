"""Forward mode and second order: ``f_jvp``, ``f_hvp``, ``f_hessian``, ``f_jacobian``.

Takes a differentiated ``ir.Program`` and the requested modes; returns ``emit.Function``
records laid out like the first-order ones. Names and return conventions follow JAX's
``jvp``, ``hessian`` and ``jacobian``.

- ``f_jvp(*args, tangents)`` -> ``(value, value_dot)``: the forward sweep (``forward.py``)
  over the forward statements.
- ``f_hvp(*args, v)`` -> H v, shaped like the gradient. Forward over reverse: the backward
  pass is IR, so the forward sweep differentiates it like any other code; seeded with ``v``,
  the tangents of the forward and backward statements end in the tangent of the gradient,
  which is H v. It reuses the gradient's intermediates (one CSE over both) and costs about
  one more gradient; reverse over reverse would have to sweep back over the backward pass
  and keep all of its values as well.
- ``f_hessian(*args)`` and ``f_jacobian(*args)``: loops over basis vectors (``basis_loops.py``).
- A loop that stays a loop stays one in all of them: its helpers in forward mode
  (``loops.loop_jvp_functions``, ``loops.loop_hvp_functions``) come before the functions.
"""

from __future__ import annotations

from gradgen import ir
from gradgen.codegen.builder import Builder
from gradgen.codegen.dense import hessian, jacobian
from gradgen.codegen.loops import loop_hvp_functions, loop_jvp_functions
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.template import Function
from gradgen.errors import GradgenError
from gradgen.options import MODES_HINT as HINT
from gradgen.options import parse_modes
from gradgen.timing import stage


def applies(mode: str, program: ir.Program) -> bool:
    if mode == "jacobian":
        return program.array_output
    return mode == "jvp" or not program.array_output


def check_modes(programs: list[ir.Program], modes) -> None:
    """A mode named explicitly (not through ``all``) must apply to some target."""
    named = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes)]
    for mode in parse_modes([m for m in named if m != "all"]):
        if not any(applies(mode, p) for p in programs):
            kind = "an array" if mode == "jacobian" else "a scalar"
            p = programs[0]
            raise GradgenError(
                f"--mode {mode} needs a target with {kind} result; "
                f"{', '.join(q.name for q in programs)} has none",
                p.path,
                p.line,
                hint=HINT,
            )


def mode_functions(program: ir.Program, text: ModuleText, modes) -> list[Function]:
    """The functions of the requested modes that apply to this target; ``text`` prints
    the expressions."""
    wanted = [m for m in parse_modes(modes) if applies(m, program)]
    helpers = []
    if wanted and program.graph.loops:  # the loops' helpers in forward mode
        helpers = loop_jvp_functions(program, text)
        if {"hvp", "hessian"} & set(wanted):
            helpers += loop_hvp_functions(program, text)
    build = {
        "jvp": lambda b: [b.jvp()],
        "hvp": lambda b: [b.hvp()],
        "hessian": hessian,  # with f_hvp too when it works through it
        "jacobian": lambda b: [jacobian(b)],
    }
    functions: dict = {}
    with stage("modes"):  # gradgen compile --verbose
        for mode in parse_modes(modes):
            if applies(mode, program):
                for f in build[mode](Builder(program, text)):
                    functions.setdefault(f.name, f)
    return helpers + list(functions.values())
