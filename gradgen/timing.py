"""Where a compile is, and how long each stage took: ``gradgen compile --verbose``, the
stage ``--timeout`` names, and the progress line on a terminal.

``stage(name)`` marks a block as a pipeline stage: ``current()`` returns the innermost stage
running, ``record()`` collects the time of each (a stage nested in one of the same name
counts once). ``counting(what, count)`` says what is being worked on and how to count its
statements. ``progress(stream)`` shows, on a terminal, the stage and the statement count,
updated in place, from a background thread; elsewhere it shows nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from time import monotonic, perf_counter  # bound here: a model may not patch them away

_times: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "gradgen_times", default=None
)
_running: list[str] = []  # the stages running now, outermost first
_status: dict = {"model": None, "target": None, "count": None}
_display: list = []  # the progress line being shown, if any

# Test-only: GRADGEN_PROGRESS=1 shows the progress line even when stderr is not a
# terminal, from the first stage on (tests/test_exits.py); =0 never shows it.
PROGRESS_ENV = "GRADGEN_PROGRESS"
DELAY = 1.0  # seconds before a compile counts as long and shows its progress
INTERVAL = 0.25


def current() -> str | None:
    """The innermost stage running now, or None."""
    return _running[-1] if _running else None


@contextlib.contextmanager
def stage(name: str):
    times = _times.get()
    timed = times is not None and name not in _running
    _running.append(name)
    if _display:
        _display[0].refresh()
    start = perf_counter()
    try:
        yield
    finally:
        _running.pop()
        if timed:
            times[name] = times.get(name, 0.0) + perf_counter() - start


@contextlib.contextmanager
def record():
    """Collect stage times into the dict this yields (stage name -> seconds)."""
    times: dict = {}
    token = _times.set(times)
    try:
        yield times
    finally:
        _times.reset(token)


def counting(target: str | None, count=None) -> None:
    """The target the compile works on now, and a function counting its statements so
    far."""
    _status["target"], _status["count"] = target, count
    for line in _display:
        line.refresh()


@contextlib.contextmanager
def working_on(model: str):
    """The model file being compiled, for the progress line."""
    _status.update(model=model, target=None, count=None)
    try:
        yield
    finally:
        _status.update(model=None, target=None, count=None)


def shows_progress(stream) -> bool:
    forced = os.environ.get(PROGRESS_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Line:
    """The progress line on ``stream``: rewritten in place by a thread every INTERVAL
    seconds, and at each stage, once the run has lasted ``delay`` seconds."""

    def __init__(self, stream, delay: float):
        self.stream, self.delay, self.start = stream, delay, monotonic()
        self.shown = False
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def text(self) -> str:
        where = f"{_status['model']}: " if _status["model"] else ""
        doing = current() or "starting"
        if _status["target"]:
            doing += f" ({_status['target']})"
        count = _status["count"]
        counted = f", {count()} statements" if count else ""
        seconds = monotonic() - self.start
        return f"gradgen: {where}{doing}{counted}, {seconds:.0f} s"

    def refresh(self) -> None:
        """Draw the line, if a stage is running (not while results are printed)."""
        if current() is None or monotonic() - self.start < self.delay:
            return
        with self.lock:
            try:
                self.stream.write("\r" + self.text()[:200] + "\x1b[K")
                self.stream.flush()
                self.shown = True
            except (OSError, ValueError):
                pass

    def _loop(self) -> None:
        while not self.stop.wait(INTERVAL):
            self.refresh()

    def erase(self) -> None:
        with self.lock:
            if self.shown:
                self.shown = False
                try:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.erase()


def clear() -> None:
    """Erase the progress line, if one is shown, before printing a line of output (the
    next refresh draws it again)."""
    for line in _display:
        line.erase()


@contextlib.contextmanager
def progress(stream):
    """Show the progress line on ``stream`` while the block runs, when it is a terminal
    (or the test-only GRADGEN_PROGRESS=1 says so)."""
    if not shows_progress(stream) or _display:
        yield
        return
    forced = os.environ.get(PROGRESS_ENV) == "1"
    line = _Line(stream, 0.0 if forced else DELAY)
    _display.append(line)
    line.thread.start()
    try:
        yield
    finally:
        _display.remove(line)
        line.close()
