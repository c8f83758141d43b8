"""The process around one command: signals, and the ``--timeout`` alarm.

``handling_signals()`` (the command line, around a whole run) turns SIGTERM into the
exception ``Terminated``, so that ``finally`` blocks run (a temporary output file is
removed), and records that a KeyboardInterrupt came from a real Ctrl-C, so a model that
raises KeyboardInterrupt itself can be told apart (``interrupted()``).
``deadline(seconds)`` (around the compile of one model) raises ``TimedOut`` when it runs
longer, carrying the stage it was in and the lines of the user's code then running;
``timeout_error`` turns that into the one-line error. Both are no-ops off the main thread
and where the platform has no such signal.
``stack_budget()`` (around gradgen's own work on a model) gives it the same number of
Python frames whatever depth it is called from.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback

from gradgen import timing
from gradgen.errors import GradgenError


class Terminated(BaseException):
    """SIGTERM arrived: stop, cleaning up on the way out."""


class TimedOut(BaseException):
    """The ``--timeout`` alarm: ``stage`` is the stage running, ``frames`` the stack
    (file, line) at that moment, innermost last."""

    def __init__(self, seconds: float, stage: str | None, frames: list):
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds, self.stage, self.frames = seconds, stage, frames


_state = {"installed": False, "interrupted": False, "budgeted": False}

# Frames for one compile, above the depth it starts at. SymPy recurses on deep
# expressions (Abs.eval on a long product: about 350 frames); with Python's default
# limit of 1000 counted from the bottom of the stack, whether such a model compiled
# depended on how deep the caller was (a script, a test runner, a notebook). 3000 frames
# stay well inside an 8 MiB C stack (about 8000 Python-to-C-to-Python calls fit).
STACK_BUDGET = 3000


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def interrupted() -> bool:
    """Whether a KeyboardInterrupt being handled came from a signal (Ctrl-C), not from
    the user's code raising it. Outside the command line every one counts as a signal.
    """
    return _state["interrupted"] or not _state["installed"]


def _on_sigint(signum, frame):
    _state["interrupted"] = True
    raise KeyboardInterrupt


def _on_sigterm(signum, frame):
    raise Terminated


@contextlib.contextmanager
def handling_signals():
    if not _main_thread() or _state["installed"]:
        yield
        return
    saved = {
        signal.SIGINT: signal.signal(signal.SIGINT, _on_sigint),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _on_sigterm),
    }
    _state.update(installed=True, interrupted=False)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        _state.update(installed=False, interrupted=False)


@contextlib.contextmanager
def stack_budget():
    """Raise the recursion limit to the current depth plus ``STACK_BUDGET`` for the block
    (nested blocks keep the outer one's; a higher limit set by the caller is kept), and
    restore it after. On the main thread only."""
    if _state["budgeted"] or not _main_thread():
        # another thread's stack may be small (512 KiB), and the limit is the process's
        yield
        return
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, depth + STACK_BUDGET))
    _state["budgeted"] = True
    try:
        yield
    finally:
        _state["budgeted"] = False
        sys.setrecursionlimit(saved)


@contextlib.contextmanager
def deadline(seconds: float | None):
    """Raise ``TimedOut`` in the block after ``seconds`` (None or 0: never)."""
    if not seconds or not hasattr(signal, "setitimer") or not _main_thread():
        yield
        return

    def on_alarm(signum, frame):
        frames = [(f.filename, f.lineno) for f in traceback.extract_stack(frame)]
        raise TimedOut(seconds, timing.current(), frames)

    saved = signal.signal(signal.SIGALRM, on_alarm)
    # Then again every 0.1 s until the block ends: an alarm that lands in a __del__ or a
    # garbage-collector callback is printed and ignored by Python, and a runaway loop
    # would then run on without end (seen in a long test run).
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, saved)


STAGES = {
    "load": "running the model file's top-level code",
    "trace": "tracing the model",
}


def timeout_error(exc: TimedOut, path: str, real_path: str) -> GradgenError:
    """The one-line error for a model that ran past ``--timeout``: located at the line of
    the model running then, if any."""
    lines = [line for file, line in exc.frames if file == real_path]
    doing = STAGES.get(exc.stage, f"in the stage {exc.stage!r}" if exc.stage else "")
    return GradgenError(
        f"timed out after {exc.seconds:g} s {doing}".rstrip(),
        path,
        lines[-1] if lines else None,
        hint="a loop that never ends, or a model too large to unroll? "
        "give it more time with --timeout SECONDS (0: no limit)",
    )
