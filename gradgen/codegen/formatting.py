"""Formatting: the generated module through black, so it reads like hand-formatted code.

Takes module source, returns it black-formatted (black's major version is pinned, so the
output is stable).
"""

from __future__ import annotations

import black


def format_source(source: str) -> str:
    return black.format_str(source, mode=black.Mode(line_length=88))
