"""The test ``gradgen compile --emit-test`` writes beside a generated module.

Takes the model's targets, the generated module's source and where both files go; returns
the test file's source. The test checks the generated derivatives against central
differences of the generated value functions (with gradgen's numeric checker copied in,
so it needs NumPy and pytest only) and, when gradgen is installed, the values against the
model.
"""

from __future__ import annotations

import inspect
import os
import pprint
import types

from gradgen.checking import finite_differences, tolerances
from gradgen.checking.check import shapes_of
from gradgen.codegen.formatting import format_source
from gradgen.codegen.modes import parse_modes
from gradgen.codegen.template import environment
from gradgen.frontend.model_file import Target

MARKER = "# --- copied into emitted tests ---\n"


def checker_source() -> str:
    """tolerances.py and finite_differences.py below their marker lines."""
    parts = [
        inspect.getsource(m).split(MARKER, 1)[1].strip()
        for m in (tolerances, finite_differences)
    ]
    return "\n\n\n".join(parts)


def _targets(targets: list[Target], module, sizes, wrt, modes) -> list[tuple]:
    rows = []
    for t in targets:
        array_output = hasattr(module, f"{t.name}_vjp")
        extras = ("jvp", "jacobian") if array_output else ("jvp", "hvp", "hessian")
        rows.append(
            (
                t.name,
                [p.name for p in t.params],
                shapes_of(t, sizes),
                [k for k, p in enumerate(t.params) if wrt is None or p.name in wrt],
                array_output,
                [m for m in parse_modes(modes) if m in extras],
            )
        )
    return rows


def emitted_test(
    targets, source, module_path, test_path, sizes, seed, wrt, modes, command
) -> str:
    """The source of the test of ``source`` (to be written to ``module_path``)."""
    module = types.ModuleType("gradgen_emitted")
    exec(compile(source, str(module_path), "exec"), module.__dict__)
    folder = os.path.dirname(os.path.abspath(test_path))
    model = os.path.abspath(targets[0].model.real_path)
    try:
        model_path = os.path.relpath(model, folder)
    except ValueError:  # another drive
        model_path = model
    used = {
        d.name for t in targets for p in t.params for d in p.shape if not d.is_Integer
    }
    shown = (
        ", ".join(f"{n}={s}" for n, s in sizes.items() if n in used) or "as annotated"
    )
    text = (
        environment()
        .get_template("test_module.py.j2")
        .render(
            module_file=os.path.basename(module_path),
            stem=os.path.splitext(os.path.basename(module_path))[0],
            command=command,
            names=", ".join(t.name for t in targets),
            sizes=shown,
            seed=seed,
            model_path=model_path.replace(os.sep, "/"),
            model_shown=targets[0].model.path,
            targets=pprint.pformat(
                _targets(targets, module, sizes, wrt, modes), width=80
            ),
            checker=checker_source(),
        )
    )
    return format_source(text)
