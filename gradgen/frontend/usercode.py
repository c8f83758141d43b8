"""Running the user's code: a model file's top level, and a target while it is traced.

``running(path, real_path, when)`` is a context manager around such a call. What the code
does to the process is undone, and what would end or derail gradgen becomes a one-line
``GradgenError`` at the user's file:line:
- ``sys.exit()``, ``exit()``, ``raise SystemExit``; ``os._exit()`` (replaced, while the
  block runs, by a function that raises);
- ``raise KeyboardInterrupt`` by the code itself (a real Ctrl-C still stops gradgen);
- a change of the working directory not changed back (it is restored: gradgen's outputs
  go where the user ran it);
- the recursion limit is restored whatever the code set it to (a RecursionError after
  the code lowered it is reported as that).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

from gradgen import process
from gradgen.errors import GradgenError

EXIT_HINT = (
    "a model file must not exit when it is imported or traced: "
    "put script code under if __name__ == '__main__':"
)


class _OsExit(BaseException):
    """``os._exit`` called by the user's code (which would end gradgen on the spot)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def _os_exit(status):
    raise _OsExit(status)


def model_line(tb, real_path: str) -> int | None:
    """The innermost line of the model file in a traceback."""
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == real_path:
            line = frame.lineno
    return line


def _caller_line(real_path: str) -> int | None:
    for frame in reversed(traceback.extract_stack()):
        if frame.filename == real_path:
            return frame.lineno
    return None


def _explained(exc: BaseException, lowered: bool, where: tuple, when: str):
    """The GradgenError for what the user's code raised, or None to let it pass."""
    path, real_path = where
    line = model_line(exc.__traceback__, real_path)
    if isinstance(exc, (SystemExit, _OsExit)):
        call = (
            f"os._exit({exc.status!r})"
            if isinstance(exc, _OsExit)
            else f"sys.exit({exc.code!r})"
        )
        return GradgenError(f"the model calls {call} {when}", path, line, EXIT_HINT)
    if isinstance(exc, RecursionError) and (
        lowered or str(exc).startswith("cannot set the recursion limit")
    ):
        return GradgenError(
            f"the model lowers Python's recursion limit {when}",
            path,
            line,
            "leave sys.setrecursionlimit out of the model, or raise the limit only",
        )
    if isinstance(exc, KeyboardInterrupt) and not process.interrupted():
        return GradgenError(
            f"the model raises KeyboardInterrupt {when}",
            path,
            line,
            "a model file must run to its end; remove the raise",
        )
    return None


@contextlib.contextmanager
def running(path: str, real_path: str, when: str):
    """Run the user's code of the model ``path`` (``when``: "at import", "while f is
    traced"); see the module docstring."""
    cwd, limit = os.getcwd(), sys.getrecursionlimit()
    saved_exit, saved_chdir = os._exit, os.chdir
    chdirs: list[int | None] = []

    def chdir(where):
        chdirs.append(_caller_line(real_path))
        saved_chdir(where)

    os._exit, os.chdir = _os_exit, chdir
    moved = False
    try:
        yield
    except BaseException as exc:
        lowered = sys.getrecursionlimit() < limit
        sys.setrecursionlimit(limit)  # first: explaining it takes a few frames
        error = _explained(exc, lowered, (path, real_path), when)
        if error is None:
            raise
        raise error from None
    finally:
        os._exit, os.chdir = saved_exit, saved_chdir
        sys.setrecursionlimit(limit)
        try:
            moved = os.getcwd() != cwd
        except OSError:  # the folder it moved to is gone
            moved = True
        if moved:
            os.chdir(cwd)
    if moved:
        raise GradgenError(
            f"the model changes the working directory {when} and does not change it "
            "back",
            path,
            chdirs[0] if chdirs else None,
            "open files relative to __file__ instead; gradgen writes its outputs "
            "relative to the folder it runs in",
        )
