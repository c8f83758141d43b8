"""The catalogue of what gradgen traces, for ``gradgen ops`` and docs/operations.md:
read from the dispatch tables the operations fill (``gradgen.ops``), so it cannot drift
from them, and the Python syntax the tracer understands. ``gradgen ops`` prints the copy
``operations_source()`` writes to gradgen/operations.py (so that it loads nothing heavy);
a test checks that copy against the tables."""

from __future__ import annotations

import gradgen.ops  # noqa: F401 - importing the operations fills the dispatch tables
from gradgen import dispatch
from gradgen.traced import Tracer, numpy_name

SYNTAX = [
    ("+ - * / // ** % and unary -", "with NumPy broadcasting; also abs()"),
    ("@", "matmul; stacks of matrices broadcast their leading dimensions"),
    (
        "> >= < <= == != & | ~",
        "comparisons: conditions of np.where and of if; as numbers, 1 where true "
        "and 0 where false (derivative 0): np.sum(x > 0), (x > 0) * x, "
        "(x > 0).astype(float)",
    ),
    ("+= -= *= /= **=", "in place, also on a slice (x[1:] += v)"),
    (
        "x[i], x[1:], x[::2], x[::-1], X[:, 0], x[..., None]",
        "constant indices and slices (also reversed, of named axes)",
    ),
    (
        "p[np.arange(n), y], E[idx], x[[0, 2]], X[:, idx], np.eye(c)[y]",
        "by integer arrays (Array['n', int], np.arange, np.argmax, constants); "
        "repeated indices add up in the gradient",
    ),
    ("x * mask, np.where(mask, a, b)", "a comparison used as a number is 1 or 0"),
    ("y[key] = v", "writes into an array (not into a view of one)"),
    ("z[mask] = v", "a number v where the mask holds: np.where(mask, v, z)"),
    ("z[np.arange(n), y] = 0", "a number written through integer arrays"),
    ("if / elif / else on a traced comparison", "both branches run: np.where selects"),
    ("a if cond else b, and, or, not, 0 < x < 1", "in conditions, as for if"),
    ("for over range(...), a tuple, or an array of fixed length", "unrolled"),
    ("len(x), x.shape[i]", "the fixed size, or the dimension's name"),
    ("np.pi, Python numbers", "constants"),
]


ORDER = [
    "Python syntax",
    "Elementwise",
    "Comparisons",
    "Reductions and products",
    "np.linalg",
    "Arrays",
    "Creating arrays",
    "Array attributes and methods",
    "gradgen.functions",
]


def _name(f) -> str:
    return numpy_name(f)


def supported_operations() -> list[tuple[str, str, str]]:
    """(section, call, note) for every NumPy call, operator and array attribute the tracer
    accepts, read from the dispatch tables themselves (so the list cannot drift from
    them)."""
    from gradgen import functions

    rows = [("Python syntax", call, note) for call, note in SYNTAX]
    notes = dispatch.NOTES
    rows += [("Elementwise", _name(f), notes.get(f, "")) for f in dispatch.ELEMENTWISE]
    rows += [("Comparisons", _name(f), notes[f]) for f in dispatch.COMPARISONS]
    rows += [("Comparisons", _name(f), notes[f]) for f in dispatch.LOGIC]
    for f in dispatch.FUNCTIONS:
        rows.append((dispatch.SECTIONS[f], _name(f), notes.get(f, "")))
    rows += [
        dispatch.LISTED.get(
            n, ("Creating arrays", f"np.{n}", "shapes of integers and dimension names")
        )
        for n in sorted(dispatch.CREATION)
        if n not in ("sum",)
    ]
    internal = set(Tracer.__slots__)
    for n in sorted(set(dir(Tracer)) | set(dispatch.METHODS)):
        if not n.startswith("_") and n not in internal:
            rows.append(("Array attributes and methods", f"x.{n}", ""))
    rows += [
        (
            "gradgen.functions",
            f"gradgen.functions.{n}",
            "stable; plain NumPy at run time",
        )
        for n in functions.__all__
    ]
    seen, out = set(), []
    for row in sorted(rows, key=lambda row: ORDER.index(row[0])):  # stable
        if row[1] not in seen:
            seen.add(row[1])
            out.append(row)
    return out


def operations_source() -> str:
    """The text of ``gradgen/operations.py``: ``supported_operations()`` as a literal, so
    that ``gradgen ops`` prints it without importing NumPy, SymPy or the tracer (a test
    checks the committed file against the tables)."""
    from gradgen.codegen.formatting import format_source

    doc = (
        "The supported operations, (section, call, note), as ``gradgen ops`` prints "
        "them.\n\nGenerated from gradgen's dispatch tables; do not edit. Regenerate "
        "with:\n\n    python -m gradgen.cli.catalog > gradgen/operations.py\n"
    )
    return format_source(f'"""{doc}"""\n\nROWS = {supported_operations()!r}\n')


if __name__ == "__main__":
    print(operations_source(), end="")
