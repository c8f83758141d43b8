"""Entry checks: the first line of every generated function that takes arguments.

Takes a program, the function's name and its arguments (the parameters, then any
cotangent or tangents with their shapes) and returns the lines that check them, calling
the module's ``check_inputs`` helper (templates/helpers.py.j2): the number of dimensions
and every fixed size against the annotation, each named size the same wherever it
appears and at least 1 (SymPy takes the names as positive sizes), integers and booleans
made floats, lists made arrays; integer data (``y[n]: int``) must have an integer dtype and
stays as it is. A shape built from sizes (``n - 1``) is checked once the
sizes are read, after the ``n = x.shape[0]`` lines, and so are the conditions on the
sizes tracing took to hold (``T >= 4`` for a slice ``[:4]`` of an axis of size T, whose
length is 4 only then). ``--no-checks`` leaves them out.

Also the line that reads the arguments' float type, ``dtype = np.result_type(x, w,
1.0)`` (1.0 adds no precision: a Python float takes the type of the arrays), where the
function makes an array from numbers only (``np.zeros(shape, dtype)``).
"""

from __future__ import annotations

import re

import sympy as sp

from gradgen import ir

HELPER = "check_inputs"


def _param(name: str, shape, text) -> str:
    """``x[n 3]`` (an array of n rows of 3), ``w`` (a float): as the helper reads it."""
    if shape is None:
        return name
    return f"{name}[{' '.join(text(d) for d in shape)}]"


def _kind(name: str, integers: set) -> str:
    """``: int`` after integer data, as the helper reads it."""
    return ": int" if name in integers else ""


def _plain(shape) -> bool:
    return shape is None or all(d.is_Integer or ir.is_dim_symbol(d) for d in shape)


def _wrapped(signature: str, width: int = 60) -> str:
    """The signature as a string literal; one too long for a line of 88 columns as
    adjacent literals in parentheses, split after its commas (black keeps them apart)."""
    if len(repr(signature)) + 9 <= 88:
        return repr(signature)
    pieces, piece = [], ""
    for part in signature.split(", "):
        if piece and len(piece) + len(part) > width:
            pieces.append(piece + ", ")
            piece = ""
        piece += part if not piece else ", " + part
    pieces.append(piece)
    return "(" + " ".join(repr(p) for p in pieces) + ")"


def _call(
    text, function: str, args: list, computed: bool = False, integers=frozenset()
) -> str:
    """The check of ``args`` ((name, shape) pairs); ``computed``: the sizes are values
    of the function (``n - 1``), put into the signature when it runs; ``integers``: the
    names of integer data."""
    helper = text.helpers[HELPER]
    text.used.add(HELPER)
    names = [n for n, _ in args]
    if computed:
        params = ", ".join(
            (n if s is None else f"{n}[{' '.join('{' + text(d) + '}' for d in s)}]")
            + _kind(n, integers)
            for n, s in args
        )
        signature = "f" + repr(f"{function}({params})")
    else:
        params = ", ".join(_param(n, s, text) + _kind(n, integers) for n, s in args)
        signature = _wrapped(f"{function}({params})")
    targets = ", ".join(names) + ("," if len(names) == 1 else "")
    return f"{targets} = {helper}({signature}, {', '.join(names)})"


def entry_lines(
    program: ir.Program, text, function: str, extra=()
) -> tuple[list[str], list[str], set]:
    """(lines before the sizes are read, lines after, the sizes those read) for
    ``function``; ``extra`` lists (name, shape or None) of arguments after the
    parameters. ``text`` is the module's printer (``printer.ModuleText``)."""
    if not program.checks:
        return [], [], set()
    args = [(p.name, p.shape or None) for p in program.params] + list(extra)
    integers = {p.name for p in program.params if p.integer}
    first = [(n, s) for n, s in args if _plain(s)]
    later = [(n, s) for n, s in args if not _plain(s)]
    before = [_call(text, function, first, integers=integers)]
    after = (
        [_call(text, function, later, computed=True, integers=integers)]
        if later
        else []
    )
    used = {d for _, s in later for e in s for d in sp.sympify(e).free_symbols}
    required = program.graph.requires
    for condition, where in required.items():
        after += _required(text, function, condition, where)
        used |= condition.free_symbols
    return before, after, used


def _required(text, function: str, condition, where: str) -> list[str]:
    """The check that a condition on the sizes tracing took to hold does hold
    (``ir.Graph.requires``): with other sizes the code would compute something else than
    the model."""
    sizes = sorted(condition.free_symbols, key=lambda d: d.name)
    values = ", ".join(f"{d.name} = {{{d.name}}}" for d in sizes)
    holds = f"{text(condition.lhs)} >= {text(condition.rhs)}"
    needs = repr(f", but {where} needs {holds}")
    return [
        f"if not {holds}:",
        f'    raise ValueError(f"{function}: {values}" + {needs})',
    ]


def float_names(program: ir.Program, names: list[str]) -> list[str]:
    """``names`` without the integer data, which says nothing of the float type."""
    integers = {p.name for p in program.params if p.integer}
    return [n for n in names if n not in integers]


def _reads(name: str, blocks, lines: list[str]) -> bool:
    """Whether the printed ``blocks`` or ``lines`` read the local ``name``."""
    reads = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w=])")
    printed = lines + [b.header or "" for b in blocks]
    printed += [
        part for b in blocks for statement in b.statements for part in statement
    ]
    return any(reads.search(line) for line in printed)


def dtype_lines(text, args: list[str], blocks, returns: str) -> list[str]:
    """``dtype = np.result_type(...)`` when the printed ``blocks`` or ``returns`` read
    the float type (``text.dtype``, a name no value of the user's or gradgen's takes);
    for the Array API target, first ``xp = array_namespace(...)`` when the code reads
    the namespace ``xp``.
    """
    lines = []
    if _reads(text.dtype, blocks, [returns]):
        lines = [f"{text.dtype} = {text.np}.result_type({', '.join(args)}, 1.0)"]
    if text.array_api and _reads(text.np, blocks, [returns] + lines):
        lines.insert(0, f"{text.np} = {text.namespace}({', '.join(args)})")
    return lines
