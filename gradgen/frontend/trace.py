"""Tracing: run a target function on ``Tracer`` arguments and record the IR.

Takes a ``source.Target`` and returns an ``ir.Graph`` and the output symbol. Python control
flow simply runs, so loops over static ranges and tuples unroll and helpers are traced
through. A line tracer (``sys.settrace``) reads the user's local variables after each line,
so values the user named become nodes carrying those names, and each node records the
statement it came from. Knows no calculus.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import traceback

import numpy as np
import sympy as sp

from gradgen import ir, ops, timing
from gradgen.errors import GradgenError
from gradgen.frontend import purity, usercode
from gradgen.frontend.branch_runtime import Unset
from gradgen.frontend.model_file import Target
from gradgen.ir import ShapeError
from gradgen.ops import tracing
from gradgen.traced import OPS_HINT, Tracer, indicator, kept_mask

# Products: zeros when either factor is zeros
_PRODUCTS = (ops.MatMul, ops.Outer, ops.Vdot)
# operations that move entries without changing them: of conditions, they give conditions
# (NumPy's booleans stay booleans: (S > 0).T + (S > 1) is their or, not a sum)
_REARRANGING = (
    ops.Index,
    ops.Gather,
    ops.Reshape,
    ops.Transpose,
    ops.Permute,
    ops.ExpandDims,
    ops.BroadcastTo,
    ops.Concat,
    ops.Stack,
)


class Session:
    """The state of one trace: the graph being built and where the user's code is."""

    def __init__(self, target: Target):
        self.target = target
        self.model = target.model
        self.graph = ir.Graph()
        self.stmt_line = target.line
        self.stmt_key = 0
        self._order = 0
        self._seen: set = set()
        self.stmt_text = ""
        self.step = ""
        self.reads: tuple = ()
        self._target_frame = None
        self.loops: list = []  # the loops that stay loops being traced (loop_runtime)

    # --- where are we in the user's code ---------------------------------------------
    def user_line(self) -> int:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.model.real_path:
                return frame.f_lineno
            frame = frame.f_back
        return self.stmt_line

    def site(self) -> ir.Site:
        return ir.Site(
            self.model.path,
            self.user_line(),
            self.stmt_line,
            self.stmt_key,
            self.stmt_text,
            self.step,
            self.reads,
        )

    def error(self, message: str, hint: str | None = None) -> GradgenError:
        return GradgenError(message, self.model.path, self.user_line(), hint)

    # --- nodes ---------------------------------------------------------------------
    def materialise(self, t: Tracer) -> sp.Symbol:
        """Give a traced value its own node (and symbol) if it has none yet; a comparison
        gets one for its value as a number (1 where it holds, else 0)."""
        if t.is_condition:
            t = Tracer(indicator(t.expr), t.shape_, self, t.site)
        if t.expr in self.graph.by_sym and self.graph.shapes[t.expr] == t.shape_:
            return t.expr
        expr = t.expr
        have = ir.shape_of(expr, self.graph.shapes)
        if have != t.shape_:
            # SymPy folded away a broadcast (x - x is 0, where(c, s, s) is s). BroadcastTo's
            # argument must be a node: its VJP feeds that node.
            if not expr.is_Atom:
                expr = self.graph.add("elementwise", expr, have, t.site).sym
            expr = ops.broadcast_to(expr, t.shape_)
        kind = "structural" if isinstance(expr, ir.Structural) else "elementwise"
        node = self.graph.add(kind, expr, t.shape_, t.site)
        if t.integer:
            self.graph.integers.add(node.sym)
        t.expr = node.sym
        return node.sym

    def structural(
        self, expr: sp.Expr, operands: list, integer: bool = False
    ) -> Tracer:
        """A node for a structural operation; ``integer``: its result is integer data."""
        try:
            shape = expr.out_shape([t.shape_ for t in operands])
        except ShapeError as exc:
            raise self.error(
                str(exc), "give equal sizes the same dimension name"
            ) from None
        site = self.site()
        if isinstance(expr, _PRODUCTS) and any(map(self._zero, expr.args[:2])):
            return Tracer(sp.Integer(0), shape, self, site)  # h @ W with h = zeros
        node = self.graph.add("structural", expr, shape, site)
        if integer:
            self.graph.integers.add(node.sym)
        made = Tracer(node.sym, shape, self, site, integer=integer)
        if isinstance(expr, _REARRANGING):
            tracers = [t for t in operands if isinstance(t, Tracer)]
            return kept_mask(tracers, made)
        return made

    def _zero(self, operand: sp.Expr) -> bool:
        """Whether an operand is all zeros (``np.zeros``, ``0 * x``): a product with it
        is zeros too, and neither it nor its derivative is computed."""
        node = self.graph.by_sym.get(operand)
        if node is not None and node.expr is not None:
            operand = node.expr
        if isinstance(operand, ops.BroadcastTo):
            operand = operand.args[0]
        return operand == 0

    # --- names, from the line tracer -----------------------------------------------
    def _depth(self, frame) -> int | None:
        depth = 0
        while frame is not None:
            if frame is self._target_frame:
                return depth
            if frame.f_code.co_filename == self.model.real_path:
                depth += 1
            frame = frame.f_back
        return None

    def _collect(self, frame, depth: int) -> None:
        for name, value in frame.f_locals.items():
            if (
                type(value) is not Tracer
                or value.is_condition
                or value.partial  # for np.where to pick from, never a node itself
                or not name.isidentifier()
                or name.startswith("_gg_")  # the branch rewrite's own variables
            ):
                continue
            sym = self.materialise(value)
            node = self.graph.by_sym[sym]
            if node.kind != "input" and (sym, name, depth) not in self._seen:
                self._seen.add((sym, name, depth))
                node.names.append((depth, self._order, name))
                self._order += 1

    def _step(self, frame, line: int) -> str:
        """``t = 3``: the integer values of the loop variables around ``line`` (none in
        a loop the model keeps as a loop, whose variable is not a Python integer)."""
        values = []
        for name in self.model.loop_variables(line):
            value = frame.f_locals.get(name)
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                values.append(f"{name} = {int(value)}")
        return ", ".join(values)

    def _reads(self, frame, line: int) -> tuple:
        """(name, symbol, assigned) for the traced values the statement at ``line``
        reads; ``assigned``: the statement also assigns the name (``h = f(h)``)."""
        found = []
        for name, assigned in self.model.names_read(line):
            value = frame.f_locals.get(name)
            if type(value) is Tracer and not (value.is_condition or value.partial):
                found.append((name, self.materialise(value), assigned))
        return tuple(found)

    def global_trace(self, frame, event, arg):
        if frame.f_code.co_filename != self.model.real_path:
            return None
        if self._target_frame is None and frame.f_code is self.target.fn.__code__:
            self._target_frame = frame
        depth = self._depth(frame)
        if depth is None:
            return None

        def local_trace(frame, event, arg):
            if event in ("line", "return"):
                self._collect(frame, depth)
                if depth == 0 and event == "line":
                    start, text = self.model.statement(frame.f_lineno)
                    # one block per statement run (a loop runs its header in between)
                    if start != self.stmt_line:
                        self.stmt_key += 1
                        self.stmt_line, self.stmt_text = start, text
                        self.step = self._step(frame, start)
                        self.reads = self._reads(frame, start)
            return local_trace

        return local_trace


# --- Entry point ---------------------------------------------------------------------


def _locate(exc: BaseException, session: Session) -> tuple[str, int]:
    line = session.stmt_line
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == session.model.real_path:
            line = frame.lineno
    return session.model.path, line


# SymPy's own TypeErrors when a named size (x.shape[i], a SymPy symbol) is made a Python
# number or decides one; the ``if`` on a size is reported by branch_runtime.traced
_SIZE_MISUSES = {
    "Cannot convert expression to float": (
        "a dimension size that is a name (x.shape[i]) is converted to a Python number",
        "use the size as it is, as in X / n or np.sqrt(n): it is read from the "
        "arrays at run time; or annotate that dimension with an integer size",
    ),
    "cannot determine truth value of Relational": (
        "a comparison of a dimension size that is a name (x.shape[i]) picks a Python "
        "value (max, min, np.clip, a chained comparison)",
        "write code that works for every size, or annotate that dimension with an "
        "integer size",
    ),
}


# int(n), or range(T) outside a for loop's header (a comprehension): a size made a number
_LOOP_OVER_A_NAME = (
    "a dimension size that is a name (x.shape[i]) is made a Python integer (int(n), or "
    "range() outside a for loop's header)",
    "loop over it in a for statement (for t in range(T) stays a loop in the generated "
    "code), index with np.arange(n), or annotate that dimension with an integer size, "
    "e.g. Array[50, 'd']",
)
_NOT_AN_INTEGER = re.compile(r"'(\w+)' object cannot be interpreted as an integer")


def _size_misuse(exc: Exception) -> tuple[str, str] | None:
    if not isinstance(exc, TypeError):
        return None
    for words, found in _SIZE_MISUSES.items():
        if str(exc).startswith(words):
            return found
    not_integer = _NOT_AN_INTEGER.match(str(exc))
    if not_integer and isinstance(getattr(sp, not_integer[1], None), type):
        if issubclass(getattr(sp, not_integer[1]), sp.Basic):  # a size: Symbol, Add
            return _LOOP_OVER_A_NAME
    if str(exc).startswith("Cannot convert symbols to int"):
        return _LOOP_OVER_A_NAME
    return None


def trace(target: Target) -> tuple[ir.Graph, sp.Symbol, Session]:
    """Run ``target`` on tracers; return the graph, the output symbol and the session."""
    session = Session(target)
    def_site = ir.Site(
        target.model.path,
        target.line,
        target.line,
        0,
        target.model.statement(target.line)[1],
    )
    args = []
    for p in target.params:
        session.graph.add("input", None, p.shape, def_site, sym=p.sym)
        if p.integer:
            session.graph.integers.add(p.sym)
        args.append(Tracer(p.sym, p.shape, session, def_site, integer=p.integer))
    timing.counting(target.name, lambda: len(session.graph.nodes))
    try:
        result = _call(target, args, session)
    except GradgenError as exc:
        raise exc.located(*_locate(exc, session)) from None
    except RecursionError as exc:
        if not _user_recursed(exc):
            raise  # in the algebra, not the model: an internal error, reported as one
        raise GradgenError(
            "the model recurses without end while it is traced",
            *_locate(exc, session),
            RECURSION_HINT,
        ) from None
    except Exception as exc:  # the user's code failed on tracers: report where
        message, hint = _size_misuse(exc) or (
            f"{type(exc).__name__}: {exc}",
            "only float and Array values can be traced; " + OPS_HINT,
        )
        raise GradgenError(message, *_locate(exc, session), hint) from None
    return session.graph, _output(result, target, session), session


# gradgen's package, the standard library, installed packages (SymPy, NumPy, mpmath)
_LIBRARY_DIRS = tuple(
    os.path.join(d, "")
    for d in {os.path.dirname(ir.__file__), os.path.dirname(os.__file__)}
    | {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
)


def _user_recursed(exc: RecursionError) -> bool:
    """Whether the user's code recursed, rather than SymPy on a deep or unlucky
    expression: where the stack ran out, a recursion in the model has the model's frames,
    one in the algebra SymPy's (a model that recursed to a depth and ended has its
    frames lower down, not there)."""
    innermost = traceback.extract_tb(exc.__traceback__)[-100:]
    users = sum(not f.filename.startswith(_LIBRARY_DIRS) for f in innermost)
    return users * 2 > len(innermost)


RECURSION_HINT = (
    "a recursive helper needs a base case it reaches: gradgen runs the model's "
    "Python as it is, unrolling what it calls"
)


def _call(target: Target, args: list, session: Session):
    """``target.fn(*args)`` under the line tracer, NumPy's traced creation functions
    and the guards of ``usercode`` and ``purity``."""
    model = target.model
    when = f"while {target.name} is traced"
    previous = sys.gettrace()
    sys.settrace(session.global_trace)
    try:
        with (
            usercode.running(model.path, model.real_path, when),
            purity.deterministic(
                target.fn.__globals__, target.name, model, target.line
            ),
            tracing.patched(session, target.fn.__globals__),
        ):
            return target.fn(*args)
    finally:
        sys.settrace(previous)


def _output(result, target: Target, session: Session) -> sp.Symbol:
    where = (target.model.path, session.stmt_line)
    if isinstance(result, (tuple, list)):
        raise GradgenError(
            f"{target.name} returns {len(result)} values",
            *where,
            "a compile target returns one value",
        )
    if isinstance(result, Unset):
        message, hint = result.message()
        raise GradgenError(message, *where, hint=hint)
    if not isinstance(result, Tracer):
        raise GradgenError(
            f"{target.name} returns a value that does not depend on its " "parameters",
            *where,
            "return an expression of the parameters",
        )
    if result.is_condition:
        raise GradgenError(
            f"{target.name} returns a comparison", *where, "return a number or an array"
        )
    if target.returns is not None and tuple(target.returns) != result.shape_:
        declared = f"Array{list(target.returns)}" if target.returns_array else "float"
        raise GradgenError(
            f"{target.name} returns shape {ir.shape_str(result.shape_)} but is annotated "
            f"{declared}",
            *where,
            "reduce to a scalar (np.sum, np.mean) or annotate the return as Array[...]",
        )
    return session.materialise(result)
