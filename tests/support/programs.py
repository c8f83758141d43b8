"""Hypothesis strategies for random, well-typed model programs, written as model files.

``programs()`` draws a ``Program``: the text of a model file (``import numpy as np``,
``from gradgen import Array``, unannotated helper functions and one annotated target) and the
domain of each parameter. The target is a few statements and a return; each statement binds
a random expression (``program_exprs``) of a random shape, mostly built on values bound
before it, so values are shared by several later statements; the return reads every value
no statement has read yet. Helpers are called again on other arguments; a statement may be
a ``for`` loop; local names may rebind a parameter or clash with names the generated code
uses. Values carry intervals (``program_values``): a function is only applied inside its
safe domain, and no value grows past ``CAP``.

``size_sets()`` draws the two sets of dimension sizes a program is checked at.
"""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
from hypothesis import assume

import program_values as pv
from program_exprs import NAMED_DIMS, PLAIN, Expressions, Scope
from program_statements import Statements
from program_values import CAP, Val
from programcheck import Program

LOCAL_NAMES = ("h", "z", "u", "y", "g", "hidden", "act", "out")
# Names that generated code also uses (temporaries, deltas, gradients, dimensions, the
# cotangent, the target's own name) or that shadow builtins: a model may use any of them.
TRICKY_NAMES = (
    "t1",
    "t2",
    "delta_h",
    "dW1",
    "z_h",
    "dx1",
    "cotangent",
    "value",
    "n",
    "d",
)
TRICKY_NAMES += ("k", "f", "loss", "sum", "max", "delta_z_h")


class Helper:
    def __init__(self, name, params, result: Val, lines):
        self.name, self.params, self.result, self.lines = name, params, result, lines


class Builder(Expressions, Statements):
    """Draws one program: expressions, plus helpers and statements (writes and branches
    from ``program_statements``)."""

    def __init__(self, draw, every_kind: bool = True):
        super().__init__(draw, every_kind)
        self.helpers: list[Helper] = []
        self.helper_count = itertools.count(1)
        self.writes = False  # whether the program writes into arrays

    # --- helpers -------------------------------------------------------------------------------
    def _helper(self, scope, shape, depth):
        reusable = [h for h in self.helpers if h.result.shape == shape]
        if reusable and self.maybe(50):
            helper = self.pick(reusable)
        else:
            helper = self.new_helper(shape, depth)
        args = [
            (
                self.batch_operand(scope, s, depth)
                if len(s) == 3
                else self.fit(self.expr(scope, s, depth), *domain)
            )
            for _, s, domain in helper.params
        ]
        text = f"{helper.name}({', '.join(a.text for a in args)})"
        return Val(text, shape, helper.result.lo, helper.result.hi)

    def new_helper(self, shape, depth) -> Helper:
        name = (
            f"{self.pick(['_helper', 'layer', '_f', 'block'])}{next(self.helper_count)}"
        )
        inner = Scope("helper")
        self.nesting += 1
        for _ in range(self.draw(st.integers(0, 2))):
            self.statement(inner, max(depth, 1))
        if self.maybe(20):
            result = self.returning_tail(inner, shape, max(depth, 1))
        else:
            result = self.expr(inner, shape, max(depth, 1))
            inner.lines.append(f"return {result.text}")
        self.nesting -= 1
        params = ", ".join(p for p, _, _ in inner.params)
        lines = [f"def {name}({params}):"] + [f"    {line}" for line in inner.lines]
        helper = Helper(name, inner.params, result, lines)
        self.helpers.append(helper)
        return helper

    # --- statements ----------------------------------------------------------------------------
    def result(self, scope: Scope, shape: tuple, depth: int) -> Val:
        """The returned expression: the values no statement has read yet (so every statement
        feeds the output), each brought to the output's shape, plus a new expression."""
        params = {p for p, _, _ in scope.params}
        unread = [v for v in scope.pool if v.text not in scope.read | params]
        terms = [self.to_shape(v, shape) for v in unread[-3:]]
        covered = any(t.shape == shape for t in terms)
        if not covered or self.maybe(30):
            terms.append(self.expr(scope, shape, depth))
        out = terms[0]
        for term in terms[1:]:
            out = pv.binary(self.pick("+-*"), out, term)
            if out.mag > CAP:
                out = self.fit(out, -CAP, CAP)
        return out

    def to_shape(self, v: Val, shape: tuple) -> Val:
        """``v``, reduced over the axes that do not broadcast into ``shape``."""
        if pv.broadcasts_to(v.shape, shape):
            return v
        fn = self.pick(["sum", "mean", "max"])
        options = [pv.reduce(fn, v, None, False, False)]
        for axis, keepdims in itertools.product(range(len(v.shape)), (False, True)):
            if len(v.shape) == 2:
                reduced = pv.reduce(fn, v, axis, keepdims, False)
                if pv.broadcasts_to(reduced.shape, shape):
                    options.append(reduced)
        value = self.pick(options)
        return self.fit(value, -CAP, CAP) if value.mag > CAP else value

    def local_name(self, scope: Scope) -> str:
        kind = self.weighted([("fresh", 6), ("rebind", 2), ("tricky", 2)])
        locals_ = [v.text for v in scope.pool]
        if kind == "rebind" and locals_:
            return self.pick(locals_)
        if kind == "tricky":
            name = self.pick(TRICKY_NAMES)
            if name not in [h.name for h in self.helpers]:
                return name
        return f"{self.pick(LOCAL_NAMES)}{next(scope.count)}"

    def statement(self, scope: Scope, depth: int) -> None:
        same_as = [v.shape for v in scope.pool]
        shape = self.pick(same_as) if same_as and self.maybe(60) else self.shape()
        if scope.kind == "target" and self.maybe(10):
            return self.loop(scope, shape, depth)
        kind = self.weighted([("assign", 8), ("write", 1), ("branch", 1)])
        if kind == "write":
            return self.write_block(scope, shape, depth)
        if kind == "branch":
            return self.branch(scope, depth)
        value = self.expr(scope, shape, depth)
        name = self.local_name(scope)
        scope.lines.append(f"{name} = {value.text}")
        scope.bind(name, value)

    def loop(self, scope: Scope, shape: tuple, depth: int) -> None:
        """``h = ...`` then ``for _ in range(R): h = body(h)``, with body mapping h's
        interval into itself so every iteration stays in the domains; R = 24 makes a
        loop that stays a loop (carrying h: its tape, backward and tangent loops)."""
        start = self.expr(scope, shape, depth)
        name = self.local_name(scope)
        lo, hi = min(start.lo, -1.0), max(start.hi, 1.0)
        scope.lines.append(f"{name} = {start.text}")
        scope.bind(name, pv.name(name, shape, lo, hi))
        body = self.fit(self.expr(scope, shape, depth), lo, hi)
        scope.lines += [
            f"for _ in range({self.pick([2, 3, 1, 24])}):",
            f"    {name} = {body.text}",
        ]
        scope.bind(name, pv.name(name, shape, lo, hi))


def _annotation(shape: tuple, zero_dim: bool, one_string: bool, integer=False) -> str:
    if integer:
        dims = ", ".join(f'"{d}"' if isinstance(d, str) else str(d) for d in shape)
        return f"Array[{dims}, int]" if shape else "int"
    if not shape:
        return "Array[()]" if zero_dim else "float"
    if all(isinstance(d, str) for d in shape) and len(shape) > 1 and one_string:
        return f'Array["{" ".join(shape)}"]'  # the one-string form
    return (
        "Array["
        + ", ".join(f'"{d}"' if isinstance(d, str) else str(d) for d in shape)
        + "]"
    )


@st.composite
def programs(draw, every_kind: bool = True) -> Program:
    """A model file with one target and its helpers, as a ``Program``. ``every_kind``
    false: the operations of ``program_ops`` are one rare kind (``Expressions._more``),
    for the default profile's time budget."""
    b = Builder(draw, every_kind)
    scope = Scope("target")
    array_output = b.maybe(30)
    shape = (b.shape(derived=False) or (b.pick(NAMED_DIMS),)) if array_output else ()
    for _ in range(draw(st.integers(0, 8))):
        b.statement(scope, draw(st.integers(1, 3)))
        if b.maybe(4):
            b.early_return(scope, shape, draw(st.integers(1, 3)))
    result = b.result(scope, shape, draw(st.integers(1, 3)))
    scope.lines.append(f"return {result.text}")
    # a target without parameters (every value built from constants) is not one: rejected
    assume(scope.params)
    name = b.pick(["f", "loss", "model"])
    integer = {p for p, _, d in scope.params if d[0] == "index"}
    zero_dim = tuple(
        p for p, s, _ in scope.params if s == () and p not in integer and b.maybe(20)
    )
    signature = ", ".join(
        f"{p}: {_annotation(s, p in zero_dim, b.maybe(20), p in integer)}"
        for p, s, _ in scope.params
    )
    returns = ""
    if b.maybe(80):
        returns = (
            f" -> {_annotation(shape, False, False)}" if array_output else " -> float"
        )
    names = [p for p, _, _ in scope.params if p not in integer]
    assume(names)  # something to differentiate
    wrt = [p for p in names if b.maybe(50)] if b.maybe(20) else None
    imports = "import numpy as np\n\nfrom gradgen import Array\n"
    if b.imports:
        imports += f"from gradgen.functions import {', '.join(sorted(b.imports))}\n"
    parts = [imports]
    parts += ["\n".join(h.lines) + "\n" for h in b.helpers]
    body = "\n".join(f"    {line}" for line in scope.lines)
    parts.append(f"def {name}({signature}){returns}:\n{body}\n")
    domains = {p: d for p, _, d in scope.params if d != PLAIN}
    return Program(
        "\n\n".join(parts),
        name,
        domains,
        zero_dim,
        wrt or None,
        autograd=not b.writes,
        branch_nans=b.branch_nans,
        min_sizes=b.min_sizes,
    )


@st.composite
def size_sets(draw) -> list[dict]:
    """Two sets of sizes for n, d, k: one with all different sizes (so a mixed-up axis
    shows), one drawn freely from 1..MAX_SIZE (size 1 included)."""
    distinct = draw(st.permutations(range(2, pv.MAX_SIZE + 1)))
    free = draw(st.tuples(*[st.integers(1, pv.MAX_SIZE)] * len(NAMED_DIMS)))
    return [dict(zip(NAMED_DIMS, distinct)), dict(zip(NAMED_DIMS, free))]
