"""Generated modules shared by the tests of one test process.

``compiled(path, functions, wrt, modes)`` takes a model file and gradgen's options and
returns the generated module, imported (``generated_source`` returns its text). The same
file and options give the same module object, compiled once per process (each
``pytest -n`` worker compiles what its own tests need). Tests reach it through fixtures,
so that a slow compile shows in the setup of the first test that needs it, and a failed
one fails every test that needs it.
"""

from __future__ import annotations

import types
from pathlib import Path

from gradcheck import import_source
from gradgen.pipeline import compile_file

_COMPILED: dict[tuple, tuple[str, types.ModuleType]] = {}


def _compiled(path, functions, wrt, modes) -> tuple[str, types.ModuleType]:
    path = Path(path).resolve()
    key = (path, tuple(functions or ()), tuple(wrt or ()), modes)
    if key not in _COMPILED:
        source = compile_file(str(path), functions, wrt, modes=modes)
        name = f"compiled_{path.stem}_{len(_COMPILED)}"
        _COMPILED[key] = source, import_source(source, name)
    return _COMPILED[key]


def compiled(
    path: Path | str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    modes: str | None = None,
) -> types.ModuleType:
    """The module gradgen generates for ``path`` with these options, imported."""
    return _compiled(path, functions, wrt, modes)[1]


def generated_source(
    path: Path | str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    modes: str | None = None,
) -> str:
    """The text of the module gradgen generates for ``path`` with these options."""
    return _compiled(path, functions, wrt, modes)[0]
