"""Helpers for the formula tests: a real TeX-math renderer (matplotlib's mathtext) and the
structure of the LaTeX that gradgen writes."""

from __future__ import annotations

import re

from matplotlib.mathtext import MathTextParser

_PARSER = MathTextParser("path")


def render(formula: str) -> None:
    """Lay out one formula with mathtext; raises ValueError on invalid TeX math."""
    _PARSER.parse(f"${formula}$")


def balanced(tex: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def aligned_rows(block: str) -> list[str]:
    """The rows of the one ``aligned`` environment in ``block``, checking its structure:
    one ``&`` per row, ``\\\\`` between rows and not after the last, balanced braces and
    ``\\left``/``\\right`` pairs. Comment lines are dropped."""
    lines = [line for line in block.splitlines() if not line.startswith("%")]
    start = lines.index(r"\begin{aligned}")
    end = lines.index(r"\end{aligned}")
    rows = lines[start + 1 : end]
    assert rows, "an empty aligned block"
    for k, row in enumerate(rows):
        last = k == len(rows) - 1
        assert row.endswith(r" \\") != last, f"row separators are wrong at: {row}"
        row = row.removesuffix(r" \\")
        assert row.count("&") == 1, f"a row needs exactly one &: {row}"
        assert balanced(row), f"unbalanced braces: {row}"
        lefts = len(re.findall(r"\\left(?![a-z])", row))  # not \leftarrow
        rights = len(re.findall(r"\\right(?![a-z])", row))
        assert lefts == rights, f"\\left/\\right: {row}"
    return [row.removesuffix(r" \\") for row in rows]


def render_rows(block: str, batch: int = 10) -> int:
    """Render every row of an aligned block (mathtext has no ``aligned``); returns how
    many rows were rendered. Rows go to mathtext ``batch`` at a time, each in a group of
    its own, ``{row} \\quad {row}``, which a row's dangling ``^`` or unfinished
    ``\\frac`` cannot reach past (ten rows in a call take 0.6 of the time of ten calls);
    a batch that fails is rendered row by row, so that the error names its row."""
    rows = [" ".join(row.split("&")) for row in aligned_rows(block)]
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        try:
            render(r" \quad ".join(f"{{{row}}}" for row in part))
        except ValueError:
            for row in part:
                render(row)
            raise
    return len(rows)


def blocks(text: str, opening: str, closing: str) -> list[str]:
    """The display-math blocks of a document, between lines ``opening`` and ``closing``."""
    found, current = [], None
    for line in text.splitlines():
        if current is None and line == opening:
            current = []
        elif current is not None and line == closing:
            found.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, "a display-math block is not closed"
    return found
