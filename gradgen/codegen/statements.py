"""Statements: what a generated function writes for one statement of the IR, and what it
returns.

Takes a target name and an expression, with the module's printer (``printer.ModuleText``),
and returns the lines ``(left, operator, right)`` that compute it (``assignments``): a sum
of ``Scatter``s as zeros with slots written, an ``Update`` as a copy with one slot
written, in NumPy or Array API form; ``returned`` gives the results as new arrays, and
``fresh`` says whether an expression computes a new array.
"""

from __future__ import annotations

import sympy as sp

from gradgen import ir, ops
from gradgen.ops import Index, Reshape, Scatter, Update

# Values that may share memory with their operand: written into only after a copy. A
# gather is one where its indices are single integers (p[np.argmin(q)] is a row of p).
_VIEWS = (
    sp.Symbol,
    Index,
    ops.Gather,
    Reshape,
    ops.Transpose,
    ops.Permute,
    ops.ExpandDims,
    ops.BroadcastTo,
)


def fresh(expr: sp.Expr) -> bool:
    """Whether NumPy computes ``expr`` into a new array (np.zeros and np.full are new)."""
    if isinstance(expr, ops.BroadcastTo):
        return ir.of_sizes(expr.args[0])
    return not isinstance(expr, _VIEWS)


def returned(text, results: list, stmts: list, inputs: set, shapes: dict) -> list[str]:
    """The results as a function returns them: each array a new one, never an argument,
    a view of one, or another result, so that ``W -= lr * dW`` changes nothing else
    (a copy where it could be: ``dy = x`` returns ``x.copy()``). ``text`` prints."""
    defined = {s.target: s.expr for s in stmts}
    out, seen = [], set()
    for r in results:
        printed = text.value(r)
        array = ir.shape_of(r, shapes) != ()
        expr = defined.get(r, r) if isinstance(r, sp.Symbol) else r
        shared = r in inputs or r in seen or not fresh(expr)
        if array and shared and not r.is_Number:
            printed = text.copied(printed)
        seen.add(r)
        out.append(printed)
    return out


def _slot_value(value: sp.Expr) -> sp.Expr:
    """What to write into a slot: a constant array is written as its number (NumPy
    broadcasts it)."""
    return value.args[0] if isinstance(value, ops.BroadcastTo) else value


def _scatter_terms(expr: sp.Expr) -> list:
    """The terms of a sum, with numbers multiplying Scatters (or sums holding them) moved
    into the values scattered: SymPy adds equal Scatters into 2 * Scatter(v, like, key)
    (the gradient of a[:-1] * a[:-1]), and keeps -(g - Scatter(...)) undistributed."""
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in _scatter_terms(a)]
    if isinstance(expr, sp.Mul) and expr.has(Scatter):
        numbers = [a for a in expr.args if a.is_Number]
        rest = [a for a in expr.args if not a.is_Number]
        if len(rest) == 1 and isinstance(rest[0], (sp.Add, Scatter)):
            c = sp.Mul(*numbers)
            return [_scaled(c, t) for t in _scatter_terms(rest[0])]
    return [expr]


def _scaled(c: sp.Expr, term: sp.Expr) -> sp.Expr:
    if isinstance(term, Scatter):
        value, like, key = term.args
        return Scatter(c * value, like, key)
    return c * term


def _span(k) -> tuple | None:
    """The positions [start, stop) an integer or a slice of step 1 picks along its axis,
    when they count from the start (no negative bound); stop None is the end."""
    if isinstance(k, sp.Integer) and k >= 0:
        return int(k), int(k) + 1
    if isinstance(k, slice) and k.step in (None, 1):
        start, stop = k.start or 0, k.stop
        if isinstance(start, (int, sp.Integer)) and start >= 0:
            if stop is None or (isinstance(stop, sp.Integer) and stop >= 0):
                return int(start), None if stop is None else int(stop)
    return None


def disjoint(a: sp.Tuple, b: sp.Tuple) -> bool:
    """Whether the index keys ``a`` and ``b`` provably pick no element in common: along
    some axis (before anything but integers and slices) their positions do not meet.
    False when that cannot be told from the keys alone (negative positions, steps,
    names)."""
    for x, y in zip(ops.decode_key(a), ops.decode_key(b)):
        if not all(isinstance(k, (slice, sp.Integer)) for k in (x, y)):
            return False  # a new axis, an ellipsis or an array of indices
        u, v = _span(x), _span(y)
        if u is None or v is None:
            continue
        if (u[1] is not None and u[1] <= v[0]) or (v[1] is not None and v[1] <= u[0]):
            return True
    return False


def assignments(
    target: str, expr: sp.Expr, text, shape, in_place: bool = False
) -> list[tuple[str, str, str]]:
    """The statements ``(left, operator, right)`` that compute ``target = expr``. A sum of
    ``Scatter``s becomes zeros with slots filled in (``t[1:] += v``; values for the same
    slot are added first), an ``Update`` a copy with one slot written; ``shape(e)`` is
    the shape of an expression; ``text`` prints an expression. In place, the target
    already holds the array written into."""
    if isinstance(expr, Update):
        base, value, key = expr.args
        start = text(base) if fresh(base) else text.copied(text(base))
        value = _slot_value(value)
        slot = _slot(target, key, value, text, "=", (shape(base), shape(value)))
        return [slot] if in_place else [(target, "=", start), slot]
    terms = _scatter_terms(expr)
    slots: dict = {}  # key -> the values scattered there, in order
    for t in terms:
        if isinstance(t, Scatter):
            slots.setdefault(t.args[2], []).append(t.args[0])
    if not slots:
        return [(target, "=", text.value(expr))]
    rest = sp.Add(*[t for t in terms if not isinstance(t, Scatter)])
    like = next(t for t in terms if isinstance(t, Scatter)).args[1]
    whole = shape(like)
    if isinstance(like, ops.BroadcastTo):  # a constant (x - x folded to 0): new zeros
        zeros = text(ops.BroadcastTo(0, like.args[1]))
    else:
        zeros = f"{text.np}.zeros_like({text(like)})"
    if rest == 0:
        start = zeros
    elif shape(rest) == whole:
        start = text(rest) if fresh(rest) else text.copied(text(rest))
    else:
        start = f"{zeros} + {text(rest)}"
    lines = [] if in_place else [(target, "=", start)]
    written: list = []  # the keys written so far
    for key, values in slots.items():
        zero = rest == 0 and not in_place and all(disjoint(key, w) for w in written)
        op = "=" if zero else "+="  # a slot still zero is assigned
        written.append(key)
        value = _slot_value(sp.Add(*values))
        shapes = (whole, shape(value))
        if text.array_api and zero and len(written) == 1:
            every = _every_element(key, value, text, shapes)
            if every is not None:  # no zeros, written over
                lines = [(target, "=", every)]
                continue
        lines.append(_slot(target, key, value, text, op, shapes))
    return lines


def _every_element(key, value, text, shapes) -> str | None:
    """In the Array API, a first write into zeros that writes every element with a value
    of the target's whole shape, ``dx[::-1] = v``: that value as a new array
    (``xp.flip(v, axis=0)``), as a statement of its own; None for any other write.
    (Besides reading better than zeros written over, this keeps XLA from a reversal of
    a scatter into a constant, which aborts JAX's compile under ``jax.jit``.)"""
    written, printed, squeezed = _array_api_slot(key, value, text, shapes)
    if squeezed != tuple(shapes[0]) or any(
        k != slice(None) for k in ops.decode_key(written)
    ):
        return None
    return printed if fresh(value) else text.copied(printed)


def _array_api_slot(key, value, text, shapes) -> tuple[sp.Tuple, str, tuple]:
    """The Array API form of the write ``[key] = value`` (``ops.array_api_slot``): the
    key written at, the value printed, and the shape of the value written."""
    key, squeeze, flip = ops.array_api_slot(key, shapes[0], len(shapes[1]))
    printed = text(value)
    for name, axes in (("squeeze", squeeze), ("flip", flip)):
        if axes:
            axis = axes[0] if len(axes) == 1 else tuple(axes)
            printed = f"{text.np}.{name}({printed}, axis={axis})"
    squeezed = tuple(d for i, d in enumerate(shapes[1]) if i not in squeeze)
    return key, printed, squeezed


def _slot(target: str, key, value, text, op: str, shapes) -> tuple[str, str, str]:
    """``target[key] op value`` (``text.write``: in the Array API a functional update,
    at a key without new axes or negative steps, ``ops.array_api_slot``:
    ``dx[:, ...] = xp.squeeze(v, axis=1)`` for ``dx[:, None] = v``,
    ``dx[1::2, ...] = xp.flip(v, axis=0)`` for ``dx[::-2] = v`` of a 6-vector).
    ``shapes``: the shapes of ``target`` and of ``value``."""
    if not text.array_api:
        return text.write(target, f"[{text.key(key)}]", text(value), op)
    key, printed, _ = _array_api_slot(key, value, text, shapes)
    return text.write(target, f"[{text.key(key)}]", printed, op)
