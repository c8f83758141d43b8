"""Generated modules shared by the tests of one test process.

``compiled(path, functions, wrt, modes)`` takes a model file and gradgen's options and
returns the generated module, imported (``generated_source`` returns its text). The same
file and options give the same module object, compiled once per run: the ``pytest -n``
workers share what one of them compiled through a folder of the run
(``$GRADGEN_TEST_SHARED``, made by ``conftest.py``), and a worker that needs a module
another is compiling waits for it. Tests reach it through fixtures, so that a slow compile
shows in the setup of the first test that needs it, and a failed one fails every test
that needs it.

The module is compiled without black's layout (a quarter of the time of a compile, and
the same syntax tree); ``generated_source`` formats it when a test reads the text, which
gives the text of ``gradgen compile`` (``test_golden.py`` checks that it does).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import types
from pathlib import Path

from gradcheck import import_source
from gradgen.codegen.formatting import format_source, layout_only_skipped
from gradgen.pipeline import compile_file

_COMPILED: dict[tuple, tuple[str, types.ModuleType]] = {}
_FORMATTED: dict[tuple, str] = {}


def _compile(path: Path, functions, wrt, modes) -> str:
    with layout_only_skipped():
        return compile_file(str(path), functions, wrt, modes=modes)


def once_per_run(name: str, make) -> str:
    """``make()``'s text, made by the first process of the run that asks for ``name``
    and kept in the run's shared folder, where the others read it (they wait while it is
    made). A ``make`` that fails keeps nothing: the next process that asks makes it again.
    Without the folder (a process not started by pytest), ``make()`` each time."""
    folder = os.environ.get("GRADGEN_TEST_SHARED")
    if not folder:
        return make()
    stored = Path(folder) / f"{name}.txt"
    with open(Path(folder) / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if stored.exists():
            return stored.read_text()
        text = make()
        partial = stored.with_suffix(".part")
        partial.write_text(text)
        partial.replace(stored)
        return text


def _shared(path: Path, functions, wrt, modes) -> str:
    """``_compile``'s text, compiled once per run (a failed compile is not kept: each
    worker that asks raises its error)."""
    digest = hashlib.sha256(
        repr((str(path), path.read_bytes(), functions, wrt, modes)).encode()
    ).hexdigest()
    return once_per_run(digest, lambda: _compile(path, functions, wrt, modes))


def _compiled(path, functions, wrt, modes) -> tuple[tuple, str, types.ModuleType]:
    path = Path(path).resolve()
    key = (path, tuple(functions or ()), tuple(wrt or ()), modes)
    if key not in _COMPILED:
        source = _shared(path, functions, wrt, modes)
        name = f"compiled_{path.stem}_{len(_COMPILED)}"
        _COMPILED[key] = source, import_source(source, name)
    return key, *_COMPILED[key]


def compiled(
    path: Path | str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    modes: str | None = None,
) -> types.ModuleType:
    """The module gradgen generates for ``path`` with these options, imported."""
    return _compiled(path, functions, wrt, modes)[2]


def generated_source(
    path: Path | str,
    functions: list[str] | None = None,
    wrt: list[str] | None = None,
    modes: str | None = None,
) -> str:
    """The text of the module gradgen generates for ``path`` with these options."""
    key, source, _ = _compiled(path, functions, wrt, modes)
    if key not in _FORMATTED:
        _FORMATTED[key] = format_source(source)
    return _FORMATTED[key]
