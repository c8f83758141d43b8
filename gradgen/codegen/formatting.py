"""Formatting: the generated module through black, so it reads like hand-formatted code.

Takes module source, returns it black-formatted (black's major version is pinned, so the
output is stable). ``layout_only_skipped()`` leaves the template's layout for a caller
that only runs the module.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import black

_FORMAT = contextvars.ContextVar("gradgen_format", default=True)


def format_source(source: str) -> str:
    if not _FORMAT.get():
        return source
    return black.format_str(source, mode=black.Mode(line_length=88))


@contextlib.contextmanager
def layout_only_skipped() -> Iterator[None]:
    """Within it, modules keep the template's layout instead of black's. For a caller
    that imports the module and never reads it (the test suite's numerical checks):
    black changes the layout alone, never the syntax tree, and is about a quarter of the
    time of a compile. ``format_source`` of such a module gives the module
    ``gradgen compile`` writes."""
    token = _FORMAT.set(False)
    try:
        yield
    finally:
        _FORMAT.reset(token)
