"""Drawing the derivation: formulas rendered by matplotlib's TeX-math engine.

Takes ``latex.Derivation`` records and a format (png, svg, pdf) and returns the picture's
bytes: each equation drawn with mathtext (Computer Modern), the left-hand sides flush right
against one column of equals signs as in the ``aligned`` block, section headings between.
matplotlib is optional (``pip install matplotlib``); without it, a one-line error.
"""

from __future__ import annotations

import io

from gradgen.errors import GradgenError
from gradgen.explain.latex import Derivation, heading

PICTURES = ("png", "svg", "pdf")


def _display(tex: str) -> str:
    """Math for mathtext: fractions in display style, as inside ``aligned``; plain
    parentheses (mathtext draws ``\\left(`` too small around short contents)."""
    for old, new in [(r"\frac{", r"\dfrac{"), (r"\left(", "("), (r"\right)", ")")]:
        tex = tex.replace(old, new)
    return "$" + tex + "$"


def _rows(derivations: list[Derivation]) -> list[tuple]:
    rows: list[tuple] = []
    for d in derivations:
        rows.append(("title", f"The derivation of {d.name} ({d.where})"))
        for section in d.sections:
            rows.append(("heading", heading(section)))
            rows += [
                ("equation", _display(e.lhs), _display(e.rhs))
                for e in section.equations
            ]
    return rows


def render(derivations: list[Derivation], fmt: str, path: str) -> bytes:
    """The formulas drawn with matplotlib's TeX-math renderer (mathtext, Computer Modern),
    aligned at the equals signs as in the ``aligned`` block; returns the file's bytes.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise GradgenError(
            f"drawing formulas as .{fmt} needs matplotlib, which is not installed",
            path,
            hint="pip install matplotlib, or write .tex or .md",
        ) from None
    rows = _rows(derivations)
    height = sum(_space(r) for r in rows) + 0.3
    with matplotlib.rc_context({"mathtext.fontset": "cm"}):
        fig = Figure(figsize=(8, height))
        canvas = FigureCanvasAgg(fig)
        equations, y = [], height - 0.1
        for kind, *texts in rows:
            y -= _space((kind, *texts)) / 2  # each row centred in its own space
            if kind == "equation":
                equations.append(
                    [
                        fig.text(0, y / height, t, va="center", fontsize=15)
                        for t in texts
                    ]
                )
            else:
                size, color = (15, "black") if kind == "title" else (11, "#555555")
                fig.text(
                    0.02, y / height, texts[0], fontsize=size, color=color, va="center"
                )
            y -= _space((kind, *texts)) / 2
        _align(equations, canvas.get_renderer(), fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=150, bbox_inches="tight", pad_inches=0.25)
    return buffer.getvalue()


def _space(row: tuple) -> float:
    """Inches from one row to the next; more for a row with a fraction."""
    if row[0] != "equation":
        return 0.6 if row[0] == "title" else 0.5
    return 0.72 if any("frac" in t for t in row[1:]) else 0.5


def _align(equations: list, renderer, fig) -> None:
    """Left-hand sides flush right against one column of equals signs."""
    widest = max(
        (lhs.get_window_extent(renderer).width for lhs, _ in equations), default=0
    )
    column = (widest + 60) / (fig.dpi * fig.get_figwidth())
    for lhs, rhs in equations:
        lhs.set_x(column)
        lhs.set_horizontalalignment("right")
        rhs.set_x(column + 0.01)
        rhs.set_text(r"$= " + rhs.get_text()[1:])
