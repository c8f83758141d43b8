"""What code rewritten by ``loops.transform`` calls while a model is traced.

``loop_enter`` decides whether a ``for`` stays a loop: one over a length that is a name
(``range(T)``, ``for x_t in X`` with ``X: Array["T", ...]``) must; one of a fixed length
does from ``ROLL_AT`` steps on (``unroll`` overrides both ways where it can); a loop that
cannot (see ``loops._reason``) is unrolled, or refused when its length is a name. A loop
that stays one runs its body once: ``loop_begin`` gives the step number and each carried
name a fresh input, ``X[t]`` reads become inputs of their own (``LoopState.slice``), and
``loop_exit`` moves what the body computed from those inputs into a graph of its own
(``ir.Loop``), leaving in the model's graph one node for the loop (``ops.LoopRun``) and
one per carried value; what the body computed from outer values alone stays outside,
computed once (hoisted). Knows no calculus.
"""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import sympy as sp

from gradgen import ir, ops
from gradgen.errors import GradgenError

ROLL_AT = 20  # a loop of a fixed length stays a loop from this many steps on
# unroll: True unrolls every fixed-length loop, False keeps them all loops; checkpoint K:
# the loops keep their carried values every K steps, and recompute the rest backwards
SETTINGS: dict = {"unroll": None, "checkpoint": 0}
NOTES: list = []  # why loops were unrolled, for compile -v


@contextlib.contextmanager
def unrolling(unroll: bool | None, checkpoint: int = 0):
    """Compile with ``unroll`` (None: by ``ROLL_AT``) and ``checkpoint``; collects
    ``NOTES`` afresh."""
    saved = dict(SETTINGS)
    SETTINGS.update(unroll=unroll, checkpoint=checkpoint)
    NOTES.clear()
    try:
        yield
    finally:
        SETTINGS.update(saved)
_KEYS = itertools.count(1)


def _tracer_type():
    from gradgen.traced import Tracer

    return Tracer


class SizeRange:
    """``range(start, stop)`` where a bound is a dimension size that is a name."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def _refuse(self, *args):
        raise GradgenError(
            "range() of a dimension size that is a name is used outside a for loop's header",
            hint="loop over it directly (for t in range(T)), or use np.arange(T)",
        )

    __iter__ = __len__ = __getitem__ = _refuse


def _size(value):
    if isinstance(value, (bool, np.bool_)):
        raise GradgenError("range() of a boolean", hint="give range() integers")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, sp.Expr) and ir.of_sizes(value):
        return value
    if isinstance(value, _tracer_type()):
        raise value.session.error(
            "range() of a traced value: a loop's length must be a size, not data",
            "loop over range(n) where n is a dimension (x.shape[0]) or a number",
        )
    return value


def range_(*args):
    """``range(...)`` in a loop header: a Python range, or a ``SizeRange`` of names."""
    sizes = [_size(a) for a in args]
    if all(isinstance(s, sp.Integer) for s in sizes) or not all(
        isinstance(s, sp.Expr) for s in sizes
    ):
        return range(*[int(s) if isinstance(s, sp.Integer) else s for s in sizes])
    if len(sizes) == 3 and sizes[2] != 1:
        raise GradgenError(
            "range() of a dimension size that is a name, with a step",
            hint="loop with step 1 and index with an expression of t (2 * t)",
        )
    start, stop = (sp.Integer(0), sizes[0]) if len(sizes) == 1 else sizes[:2]
    return SizeRange(start, stop)


class RowsOf:
    """``zip(X, Y)`` or ``enumerate(X)`` in a loop header, rewritten (``loops``) as a loop
    over the step number: ``steps`` are the steps (a ``SizeRange`` for a first axis that
    is a name, so that the loop can stay a loop), ``at(t)`` the rows of step t. Python
    sequences are zipped as Python zips them."""

    def __init__(self, func, seqs: tuple):
        if func not in (zip, enumerate):
            raise GradgenError(
                f"a loop over {getattr(func, '__name__', 'a call')}(...) with several "
                "names, where zip or enumerate was rebound",
                hint="loop over range(n) and index each array with t",
            )
        tracer = _tracer_type()
        if seqs and all(isinstance(s, tracer) and s.shape_ for s in seqs):
            sizes = list(dict.fromkeys(s.shape_[0] for s in seqs))
            if len(sizes) > 1 and not all(d.is_Integer for d in sizes):
                names = " and ".join(str(d) for d in sizes)
                raise seqs[0].session.error(
                    f"zip over arrays whose first axes differ ({names})",
                    f"loop over range({sizes[0]}) and index each array with t, or give "
                    "them one dimension name",
                )
            self.seqs = seqs
            self.steps = range_(min(sizes, key=lambda d: int(d)) if len(sizes) > 1 else sizes[0])
        else:
            named = [s for s in seqs if isinstance(s, tracer) and s.shape_ and not s.shape_[0].is_Integer]
            if named:
                raise named[0].session.error(
                    f"{func.__name__}(...) of an array of {named[0].shape_[0]} rows (a "
                    "name) and a sequence that is not such an array: the loop's length "
                    "is the shorter one's, which is not known before the call",
                    "loop over range(...) of the length you mean and index each with t",
                )
            self.seqs = tuple(list(s) for s in seqs)
            self.steps = range(min(len(s) for s in self.seqs) if seqs else 0)

    def at(self, t, names: tuple = ()) -> tuple:
        """The rows of step t; in a loop that stays a loop, named as the header names
        them (``x_t``), as in ``for x_t in X``."""
        rows = tuple(s[t] for s in self.seqs)
        loops = getattr(getattr(self.seqs[0], "session", None), "loops", None)
        if loops:
            for s, name in zip(self.seqs, names):
                found = loops[-1].slices.get((s.expr, 0))
                if found is not None:
                    found.name = name
        return rows


rows_of = RowsOf  # what the loop rewrite calls


class LoopLocal:
    """A name the body of a loop that stays a loop binds without a value before it:
    read after the loop, it is an error (it has no value in the generated code)."""

    def __init__(self, name: str, line: int):
        self.name, self.line = name, line

    def refuse(self, *args, **kwargs):
        raise GradgenError(
            f"{self.name!r} is assigned inside the loop at line {self.line} and read "
            "after it",
            hint=f"give {self.name} a value before the loop, so it is carried from step "
            "to step",
        )

    def __getattr__(self, attr):
        self.refuse()


for _method in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__pow__ __rpow__ __neg__ __matmul__ __rmatmul__ __bool__ __getitem__ __setitem__ "
    "__lt__ __le__ __gt__ __ge__ __array__ __array_ufunc__ __array_function__ __iter__ "
    "__len__ __float__"
).split():
    setattr(LoopLocal, _method, LoopLocal.refuse)


def _session(local_vars: dict):
    tracer = _tracer_type()
    for value in local_vars.values():
        if isinstance(value, tracer):
            return value.session
    return None


class LoopState:
    """One ``for`` while it is traced: ``rolled`` (it stays a loop) or ``values`` (the
    iterable to run it over, unrolled)."""

    def __init__(self, values, rolled=False):
        self.values = values
        self.rolled = rolled

    # --- set up by loop_enter for a loop that stays one --------------------------------
    def setup(self, session, names, line, header, index, start, stop, over, local_vars):
        self.session = session
        self.index_name = index  # the loop variable's name (t, x_t); t for zip's
        self.graph = session.graph
        self.names, self.line, self.header = names, line, header
        self.start_sym, self.stop_sym = start, stop
        self.over = over  # the array a for x_t in X runs over, or None
        self.first = len(self.graph.nodes)  # the body's nodes come after this one
        self.local: dict = {}  # value -> whether it is computed per step (_local)
        self.key = next(_KEYS)
        self.site = session.site()
        self.carried = [
            n
            for n in names
            if n in local_vars and isinstance(local_vars[n], (_tracer_type(), float, int))
            and not isinstance(local_vars[n], bool)
        ]
        self.before = {n: local_vars[n] for n in self.carried}
        self.inputs: set = set()  # the body's own inputs
        self.carries: list = []  # (name, init, inner, shape)
        self.slices: dict = {}  # (array, offset) -> ir.Slice
        self.index = None  # the step number's tracer
        self.index_used = False

    def _input(self, shape, integer=False, kind="s"):
        sym = self.graph.new_symbol(kind)
        self.graph.add("input", None, shape, self.site, sym=sym)
        if integer:
            self.graph.integers.add(sym)
        self.inputs.add(sym)
        return sym

    def _local(self, sym) -> bool:
        """Whether a value depends on the body's inputs (is computed per step)."""
        node = self.graph.by_sym.get(sym)
        if node is None or node.index < self.first:
            return False
        if sym in self.inputs:
            return True
        if sym not in self.local:
            self.local[sym] = any(self._local(s) for s in self.graph.operands(node))
        return self.local[sym]

    def _offset(self, k) -> int | None:
        """c when ``k`` is the step number plus a whole number c."""
        if not isinstance(k, _tracer_type()) or k.shape_ or self.index is None:
            return None
        diff = sp.expand(k.expr - self.index.expr)
        return int(diff) if diff.is_Integer else None

    def slice(self, t, key):
        """``X[t + c]`` of an outer array ``X``: the row as an input of the body (the
        generated loop reads it per step), then the rest of ``key``; None otherwise."""
        entries = key if isinstance(key, tuple) else (key,)
        offset = self._offset(entries[0]) if entries else None
        if offset is None or not t.shape_ or t.base is not None or t.is_condition:
            return None
        self.session.materialise(t)
        if self._local(t.expr):
            return None
        found = self.slices.get((t.expr, offset))
        if found is None:
            integer = t.expr in self.graph.integers
            inner = self._input(t.shape_[1:], integer)
            name = _slice_name(self.session, t.expr, offset)
            found = self.slices[(t.expr, offset)] = ir.Slice(t.expr, offset, inner, name)
        row = _tracer_type()(
            found.inner, t.shape_[1:], self.session, self.session.site(), integer=t.integer
        )
        rest = entries[1:]
        return row[rest] if rest else row


def _slice_name(session, sym, offset: int) -> str:
    node = session.graph.by_sym[sym]
    param = next((p.name for p in session.target.params if p.sym == sym), None)
    base = param or (min(node.names)[2] if node.names else "x")
    words = {0: "t", 1: "next", -1: "prev"}
    step = words.get(offset, f"t_{'plus' if offset > 0 else 'minus'}{abs(offset)}")
    return f"{base}_{step}"


def loop_enter(
    iterable, local_vars: dict, names: tuple, line: int, header: str, reason, index: str
):
    session = _session(local_vars)
    tracer = _tracer_type()
    over = None
    if isinstance(iterable, SizeRange):
        start, stop, must = iterable.start, iterable.stop, True
    elif isinstance(iterable, range) and iterable.step == 1:
        start, stop, must = sp.Integer(iterable.start), sp.Integer(iterable.stop), False
    elif isinstance(iterable, tracer) and iterable.shape_ and not iterable.is_condition:
        iterable.session.materialise(iterable)
        over, start, stop = iterable, sp.Integer(0), iterable.shape_[0]
        must = not stop.is_Integer
    else:
        return LoopState(iterable)
    length = stop - start
    unroll = SETTINGS["unroll"]
    if not must:
        short = length < ROLL_AT
        if session is None or unroll is True or (short and unroll is not False):
            return LoopState(iterable)
        if length <= 0:
            return LoopState(iterable)
    where = f"the loop at line {line}"
    if session is None:
        raise GradgenError(
            f"{where} runs over a length that is a name, in code that traces no value",
            hint="loop over a fixed range",
        )
    if session.loops:
        if must:
            raise session.error(
                "a loop over a length that is a name, inside another loop that stays a loop",
                "give the inner loop a fixed length (it is then unrolled)",
            )
        return LoopState(iterable)
    others = [
        n
        for n in names
        if n in local_vars
        and not isinstance(local_vars[n], (tracer, float, int, LoopLocal))
    ]
    bad = [n for n in names if isinstance(local_vars.get(n), tracer) and (
        local_vars[n].is_condition or local_vars[n].integer)]
    if reason is None and others:
        reason = f"it rebinds {others[0]!r}, which holds a {type(local_vars[others[0]]).__name__}"
    if reason is None and bad:
        reason = f"it carries {bad[0]!r}, a comparison or integer data, from step to step"
    if reason is not None:
        if must:
            raise session.error(
                f"this loop over a length that is a name cannot stay a loop: {reason}",
                "carry arrays and numbers from step to step (h = f(h, x_t)); collect "
                "per-step values by writing into an array made before the loop "
                "(out[t] = v); keep break and return out of the loop",
            )
        NOTES.append(f"{session.model.path}:{line}: the loop is unrolled: {reason}")
        return LoopState(iterable)
    state = LoopState(None, rolled=True)
    state.setup(session, names, line, header, index, start, stop, over, local_vars)
    return state


def loop_begin(state: LoopState) -> tuple:
    """The step's value of the loop variable, then each name the body binds: a fresh
    input for a carried one, a ``LoopLocal`` for one without a value before the loop."""
    session, tracer = state.session, _tracer_type()
    session.loops.append(state)
    index = state._input((), integer=True, kind="t")
    state.index = tracer(index, (), session, state.site, integer=True)
    values = []
    for name in state.names:
        if name not in state.carried:
            values.append(LoopLocal(name, state.line))
            continue
        value = state.before[name]
        if not isinstance(value, tracer):
            value = tracer(
                _constant(value), (), session, state.site
            )
        init = session.materialise(value)
        inner = state._input(value.shape_)
        state.carries.append((name, init, inner, value.shape_))
        values.append(tracer(inner, value.shape_, session, state.site))
    if state.over is not None:
        first = state.slice(state.over, state.index)
        state.slices[(state.over.expr, 0)].name = state.index_name  # for x_t in X
        return (first, *values)
    return (state.index, *values)


def loop_exit(state: LoopState, local_vars: dict) -> tuple:
    """The loop, built: the values each name holds after it."""
    session, graph, tracer = state.session, state.graph, _tracer_type()
    session.loops.pop()
    outs = []
    for name, init, inner, shape in state.carries:
        value = local_vars.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = tracer(_constant(value), (), session, state.site)
        if not isinstance(value, tracer) or value.is_condition:
            raise session.error(
                f"{name!r} is carried by the loop at line {state.line} but holds "
                f"a {type(value).__name__} at the end of a step",
                f"keep {name} an array or a number in every step",
            )
        if value.shape_ != shape:
            raise session.error(
                f"{name!r} changes shape in the loop at line {state.line}, from "
                f"{ir.shape_str(shape)} to {ir.shape_str(value.shape_)}",
                f"give {name} its final shape before the loop",
            )
        out = session.materialise(value)
        if not state._local(out) or out == inner:  # the same every step: a copy
            out = graph.add("elementwise", out, shape, state.site).sym
            state.local[out] = True  # the copy is the step's: made in it
        outs.append(out)
    if not state.carries:  # the body changes nothing that is read after it
        graph.remove(state.inputs)
        return tuple(LoopLocal(n, state.line) for n in (state.index_name, *state.names))
    body = [
        n
        for n in graph.nodes[state.first :]
        if n.sym in state.inputs or state._local(n.sym)
    ]
    body_syms = {n.sym for n in body}
    invariants = []
    for node in body:
        for s in graph.operands(node):
            if s not in body_syms:
                invariants.append(s)
    invariants = list(dict.fromkeys(invariants))
    inner = ir.Graph(prefix=f"_gg_L{state.key}_")
    inner._counter = graph._counter
    index_sym = state.index.expr if _reads(body, state.index.expr) else None
    for s in invariants:
        inner.add("input", None, graph.shapes[s], graph.by_sym[s].site, sym=s)
        if s in graph.integers:
            inner.integers.add(s)
    for node in body:
        if node.sym == state.index.expr and index_sym is None:
            continue
        new = inner.add(node.kind, node.expr, node.shape, node.site, sym=node.sym)
        new.names = list(node.names)
        if node.sym in graph.integers:
            inner.integers.add(node.sym)
    graph.remove(body_syms)
    # each carried value starts from a value of its own: the helpers take it apart from
    # what the body reads (h = h0 with h0 read in the body too) and from the others
    seen = set(invariants) | {s.array for s in state.slices.values()}
    for k, (name, init, inner_sym, shape) in enumerate(state.carries):
        if init in seen:
            init = graph.add("elementwise", init, shape, state.site).sym
        seen.add(init)
        state.carries[k] = (name, init, inner_sym, shape)
    carries = [
        ir.Carry(name, init, inner_sym, out, shape)
        for (name, init, inner_sym, shape), out in zip(state.carries, outs)
    ]
    loop = ir.Loop(
        state.key,
        state.line,
        state.header,
        state.index_name,
        index_sym,
        state.start_sym,
        state.stop_sym,
        carries,
        list(state.slices.values()),
        invariants,
        inner,
    )
    loop.outer_shapes = {s: graph.shapes[s] for s in loop.inputs}
    # the sizes the helpers read (range bounds, shapes of the tape and of the step's
    # values, sizes in its expressions) that no input's shape has as an axis of its own (only as n - 1): they
    # are passed to the helpers
    known = {d for s in loop.inputs for d in graph.shapes[s] if ir.is_dim_symbol(d)}
    needed = set().union(loop.start.free_symbols, loop.stop.free_symbols)
    for shape in inner.shapes.values():
        for d in shape:
            needed |= {x for x in sp.sympify(d).free_symbols if ir.is_dim_symbol(x)}
    # and the sizes the step's expressions read (np.var(W) < c folds to inv / n < c)
    for node in inner.nodes:
        if node.expr is not None:
            needed |= {x for x in node.expr.free_symbols if ir.is_dim_symbol(x)}
    loop.passed = sorted(needed - known, key=str)  # the helpers take these sizes
    loop.checkpoint = SETTINGS["checkpoint"]
    graph.loops.append(loop)
    ops.LOOPS[state.key] = loop
    run = session.structural(ops.loop_run(loop), [])
    results = {}
    for i, c in enumerate(carries):
        part = session.structural(ops.LoopPart(run.expr, loop.key, 0, i), [run])
        results[c.name] = part
    values = [results.get(n, LoopLocal(n, state.line)) for n in state.names]
    return (LoopLocal(loop.index, state.line), *values)


def _constant(value):
    from gradgen.traced import constant

    return constant(value)


def _reads(body, sym) -> bool:
    return any(n.expr is not None and sym in n.expr.free_symbols for n in body)
