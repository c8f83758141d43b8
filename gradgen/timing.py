"""Time spent in each pipeline stage, for ``gradgen compile --verbose``.

``record()`` collects, ``stage(name)`` adds the time of its block to ``name``; with nothing
recording, ``stage`` costs one context-variable lookup.
"""

from __future__ import annotations

import contextlib
import contextvars
import time

_times: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "gradgen_times", default=None
)


@contextlib.contextmanager
def stage(name: str):
    times = _times.get()
    if times is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - start


@contextlib.contextmanager
def record():
    """Collect stage times into the dict this yields (stage name -> seconds)."""
    times: dict = {}
    token = _times.set(times)
    try:
        yield times
    finally:
        _times.reset(token)
