"""The layout of a generated function's body: statements grouped under the comment of the
model line they come from, the lines that read dimension sizes, docstring paragraphs. Shared
by the first-order functions (``first_order.py``) and the mode functions (``builder.py``,
``dense.py``)."""

from __future__ import annotations

import contextlib
import textwrap

from gradgen import ir
from gradgen.codegen.printer import ModuleText
from gradgen.codegen.statements import assignments
from gradgen.codegen.template import Block
from gradgen.errors import GradgenError
from gradgen.timing import stage


def tuple_text(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"


def dims_lines(program: ir.Program, used: set) -> list[str]:
    """``n, d = X.shape`` lines for the dimensions the body reads."""
    lines, defined = [], set()
    for p in program.params:
        wanted = list(
            dict.fromkeys(d for d in p.shape if d in used and d not in defined)
        )
        if not wanted:
            continue
        symbolic = all(ir.is_dim_symbol(d) for d in p.shape)
        unpack = len(p.shape) > 1 and len(set(p.shape)) == len(p.shape)
        if symbolic and unpack and wanted == list(p.shape):
            lines.append(f"{', '.join(d.name for d in p.shape)} = {p.name}.shape")
        else:
            for d in wanted:
                lines.append(f"{d.name} = {p.name}.shape[{p.shape.index(d)}]")
        defined.update(wanted)
    return lines


def shorten(comment: str, width: int = 80) -> str:
    return comment if len(comment) <= width else comment[: width - 4].rstrip() + " ..."


def docstring(*paragraphs: str) -> str:
    """A docstring's text, wrapped to fit 88 columns when indented in a function (its
    first line also follows the opening quotes)."""
    first = textwrap.fill(paragraphs[0], 84, initial_indent="   ")[3:]
    return "\n\n".join([first] + [textwrap.fill(p, 84) for p in paragraphs[1:]])


_PREFIX = {
    "backward": "Grad of: ",
    "tangent-forward": "Tangent of: ",
    "tangent-backward": "Tangent of the grad of: ",
}


def _comment(stmt: ir.Stmt, mapping: dict) -> tuple:
    if stmt.section == "forward":
        return ("forward",), "Forward pass"
    if stmt.section == "invariant":
        return (
            "invariant",
        ), "Loop invariants: computed once, read by every pass below"
    if stmt.block is None:
        return ("unreached",), "The value does not depend on these parameters"
    notes = stmt.block.notes(mapping)
    notes = f"  ({notes})" if notes else ""
    text = shorten(_PREFIX[stmt.section] + stmt.block.stmt_text, 80 - len(notes))
    text += notes
    return (stmt.section, stmt.block.stmt_key), text


def statement_blocks(
    stmts: list[ir.Stmt],
    mapping: dict,
    text: ModuleText,
    shapes: dict,
    depth: int = 0,
    forward_header: bool = True,
) -> list[Block]:
    """Statements grouped under the comment of the model line they come from (the
    forward pass under "Forward pass" when ``forward_header``)."""
    blocks: list[Block] = []
    last = None
    for stmt in stmts:
        key, comment = _comment(stmt, mapping)
        if key != last:
            forward = key == ("forward",)
            blocks.append(
                Block(comment if forward_header or not forward else None, depth=depth)
            )
            last = key
        with stage("printing"), located(stmt):
            blocks[-1].statements += assignments(
                mapping[stmt.target].name,
                stmt.expr,
                text.mapped(mapping),
                lambda e: ir.shape_of(e, shapes),
                stmt.in_place,
            )
    return blocks


@contextlib.contextmanager
def located(stmt: ir.Stmt):
    """An error printing ``stmt`` (an operation without an Array API form) is reported
    at the model's line it comes from."""
    try:
        yield
    except GradgenError as exc:
        site = stmt.block
        raise exc.located(*((site.path, site.stmt_line) if site else (None, None)))


def dims_in(exprs) -> set:
    return {s for e in exprs for s in e.free_symbols if ir.is_dim_symbol(s)}
