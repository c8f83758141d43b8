"""Random indexing, slicing, joining and reshaping for the random model programs: the part of
``program_exprs.Expressions`` that draws an expression of a wanted shape from an array of
another shape.

``x[0]``, ``X[:, -1]`` (constant indices; any index of an integer dimension, 0 or -1 of a
named one), slices with constant bounds and steps (``x[1:]``, ``x[:-1]``, ``x[::2]``,
``X[1:3, :]``, ``x[::-1]``; of a named dimension ``x[::-1]``, ``x[-2::-1]`` and
``x[:0:-1]``), ``np.concatenate``, ``np.stack`` and ``np.array`` of scalars,
``reshape``/``np.reshape``/``ravel``/``flatten``, ``np.expand_dims``, ``x[:, None]``,
``np.squeeze``, ``np.atleast_1d/2d``. Slicing and joining change a dimension's size: an
integer dimension gives another integer one, a named one a derived dimension ("n-1" for
x[1:], "n+k" for a concatenation, "n*d" for a flattened array; ``program_values.dim_range``).
No parameter has a derived dimension: ``derive`` builds an expression of such a shape from
arrays of named dimensions. ``np.squeeze`` without an axis is only drawn where every
dimension is an integer: a named size may be 1 when the model runs.
"""

from __future__ import annotations

import itertools

import hypothesis.strategies as st

import program_values as pv
from program_values import ATOM, Val

NAMED = ("n", "d", "k")
INTS = (1, 2, 3, 4, 5)  # integer dimensions of the arrays being indexed and sliced


def _wrap(v: Val) -> str:
    return pv._wrap(v, ATOM)


def _bound(b) -> str:
    return "" if b is None else str(b)


def slice_text(s: slice) -> str:
    text = f"{_bound(s.start)}:{_bound(s.stop)}"
    return text if s.step is None else f"{text}:{s.step}"


def _slices_of_length(size: int, length: int) -> list[str]:
    """Constant slices of an axis of ``size`` that select ``length`` entries, simplest
    first."""
    found = []
    bounds = (None, 0, 1, 2, -1, -2, -3)
    for step, start, stop in itertools.product((None, 2, -1, -2), bounds, bounds):
        s = slice(start, stop, step)
        if len(range(size)[s]) == length and s != slice(0, None, None):
            found.append(s)
    found.sort(key=lambda s: sum(b is not None for b in (s.start, s.stop, s.step)))
    return [slice_text(s) for s in found]


def slice_options(dim) -> list[tuple]:
    """(dimension sliced, slice text) pairs whose slice has ``dim`` entries."""
    if isinstance(dim, int):
        # sizes past INTS occur too (a (2, 3) array flattened is (6,)): slice those whole
        sizes = sorted(set(INTS) | {dim})
        options = [(d, t) for d in sizes if d >= dim for t in _slices_of_length(d, dim)]
        if dim == 1:
            options += [(x, t) for x in NAMED for t in (":1", "-1:", "0:1")]
        return options
    parts = pv.derived_parts(dim)
    if parts is not None and parts[1:] == ("-", 1):
        return [(parts[0], t) for t in ("1:", ":-1", "-2::-1", ":0:-1")]
    return [(dim, ":")] + ([(dim, "::-1")] if parts is None else [])


def slices_of(dim) -> list[tuple]:
    """(slice text, the size it selects) pairs for an axis of size ``dim``, simplest
    first."""
    if isinstance(dim, int):
        return [
            (t, m) for m in range(dim, 0, -1) for t in _slices_of_length(dim, m)[:4]
        ]
    options = [(":", dim), (":1", 1), ("-1:", 1)]
    if pv.derived_parts(dim) is None:
        options += [("1:", f"{dim}-1"), (":-1", f"{dim}-1"), ("::-1", dim)]
        options += [("-2::-1", f"{dim}-1")]
    return options


def _hull(values) -> tuple[float, float]:
    return min(v.lo for v in values), max(v.hi for v in values)


class ArrayExpressions:
    """Indexing, slicing, joining and reshaping (a mixin of ``Expressions``)."""

    def index_dim(self):
        return self.weighted([(d, 2) for d in NAMED] + [(d, 1) for d in INTS])

    def _index(self, scope, shape, depth):
        """``a[i]``, ``A[i, :]``, ``A[:, i]`` or ``A[..., i]``: one rank fewer."""
        pos = self.draw(st.integers(0, len(shape)))
        dim = self.index_dim()
        i = self.pick([0, -1] if isinstance(dim, str) else range(-dim, dim))
        a = self.expr(scope, shape[:pos] + (dim,) + shape[pos:], depth)
        if not shape:
            key = str(i)
        elif pos == 0:
            key = self.pick([str(i), f"{i}, :"])
        else:
            key = self.pick([f":, {i}", f"..., {i}"])
        return Val(f"{_wrap(a)}[{key}]", shape, a.lo, a.hi)

    def _slice(self, scope, shape, depth):
        """A constant slice along one axis, giving that axis's size."""
        axis = self.draw(st.integers(0, len(shape) - 1))
        dim, text = self.pick(slice_options(shape[axis]))
        in_shape = shape[:axis] + (dim,) + shape[axis + 1 :]
        a = self.expr(scope, in_shape, depth)
        if len(shape) == 1:
            key = text
        elif axis == 0:
            key = self.pick([text, f"{text}, :"])
        else:
            key = f":, {text}"
        return Val(f"{_wrap(a)}[{key}]", shape, a.lo, a.hi)

    # --- joining ---------------------------------------------------------------------------
    def join_options(self, shape) -> list:
        options = []
        for axis, dim in enumerate(shape):
            parts = pv.derived_parts(dim)
            if isinstance(dim, int) and dim >= 2 or parts and parts[1] == "+":
                options.append(("concatenate", axis))
            if dim in (1, 2, 3):
                options.append(("stack", axis))
        return options

    def _join(self, scope, shape, depth):
        kind, axis = self.pick(self.join_options(shape))
        if kind == "concatenate":
            return self.concatenate(scope, shape, axis, depth)
        count = shape[axis]
        part = shape[:axis] + shape[axis + 1 :]
        values = [self.expr(scope, part, depth) for _ in range(count)]
        items = ", ".join(v.text for v in values)
        if not part and self.maybe(30):
            return Val(f"np.array([{items}])", shape, *_hull(values))
        axis_text = self.axis_text(axis, len(shape))
        return Val(f"np.stack([{items}]{axis_text})", shape, *_hull(values))

    def axis_text(self, axis: int, ndim: int) -> str:
        """``, axis=...`` (maybe negative), or nothing for axis 0."""
        options = [f", axis={axis}", f", axis={axis - ndim}"]
        return self.pick(([""] if axis == 0 else []) + options)

    def concatenate(self, scope, shape, axis: int, depth) -> Val:
        dim = shape[axis]
        if isinstance(dim, int):
            count = self.draw(st.integers(2, min(dim, 3)))
            cuts = sorted(self.draw(st.permutations(range(1, dim)))[: count - 1])
            sizes = [b - a for a, b in zip([0] + cuts, cuts + [dim])]
        else:
            a, _, b = pv.derived_parts(dim)
            sizes = [a, b] if self.maybe(70) else [b, a]
        values = [
            self.expr(scope, shape[:axis] + (s,) + shape[axis + 1 :], depth)
            for s in sizes
        ]
        items = ", ".join(v.text for v in values)
        bracket = f"[{items}]" if self.maybe(70) else f"({items})"
        text = f"np.concatenate({bracket}{self.axis_text(axis, len(shape))})"
        return Val(text, shape, *_hull(values))

    # --- reshaping ---------------------------------------------------------------------------
    def reshape_options(self, scope, shape) -> list[tuple]:
        """(operand shape, texts with {} for the operand) pairs giving ``shape``."""
        flat = ["{}.ravel()", "np.ravel({})", "{}.reshape(-1)", "np.reshape({}, (-1,))"]
        flat.append("{}.flatten()")
        if not shape:
            return [((1,), ["np.squeeze({})"]), ((1, 1), ["np.squeeze({})"])]
        if len(shape) == 1:
            (s,) = shape
            squeezable = isinstance(s, int) and s != 1
            options = [
                ((s, 1), ["np.squeeze({}, axis=1)", "np.squeeze({}, -1)"] + flat),
                ((1, s), ["np.squeeze({}, axis=0)", "np.squeeze({}, 0)"] + flat),
            ]
            if squeezable:
                options += [((s, 1), ["np.squeeze({})"]), ((1, s), ["np.squeeze({})"])]
            if s == 1:
                options.append(((), ["np.atleast_1d({})"]))
            parts = pv.derived_parts(s)
            if parts and parts[1] == "*":
                options.append(((parts[0], parts[2]), flat))
            if s in (4, 6):
                options += [((2, s // 2), flat), ((s // 2, 2), flat)]
            return options
        p, q = shape
        options = []
        if q == 1:
            column = ["np.expand_dims({}, 1)", "np.expand_dims({}, axis=-1)"]
            options.append(((p,), column + ["{}[:, None]", "{}.reshape(-1, 1)"]))
        if p == 1:
            row = ["np.expand_dims({}, 0)", "{}[None, :]", "{}[None]"]
            options.append(((q,), row + ["np.atleast_2d({})", "{}.reshape(1, -1)"]))
        if p == q == 1:
            options.append(((), ["np.atleast_2d({})"]))
        reads = [
            f"{v.text}.shape[{i}]"
            for v in scope.pool
            for i, d in enumerate(v.shape)
            if d == p
        ][:2]
        if p in NAMED and q in NAMED and reads:
            forms = [f"{{}}.reshape({r}, -1)" for r in reads]
            forms += [f"np.reshape({{}}, ({r}, -1))" for r in reads]
            options.append(((f"{p}*{q}",), forms))
        if isinstance(p, int) and isinstance(q, int) and p * q > 1:
            forms = [f"{{}}.reshape({p}, {q})", f"np.reshape({{}}, ({p}, {q}))"]
            forms += [f"{{}}.reshape({p}, -1)", f"{{}}.reshape((-1, {q}))"]
            options.append(((p * q,), forms))
            if p != q:
                options.append(((q, p), forms))
        return options

    def _reshape(self, scope, shape, depth):
        in_shape, forms = self.pick(self.reshape_options(scope, shape))
        a = self.expr(scope, in_shape, depth)
        form = self.pick(forms)
        text = form.format(a.text if form.startswith("np.") else _wrap(a))
        return Val(text, shape, a.lo, a.hi)

    # --- shapes no parameter has -------------------------------------------------------------
    def derive(self, scope, shape, depth) -> Val:
        """An expression of a shape holding a derived dimension, built from arrays whose
        dimensions are names: a slice ("n-1"), a concatenation ("n+k", "d+1") or a
        flattened array ("n*d")."""
        axis = next(i for i, d in enumerate(shape) if pv.derived_parts(d))
        a, op, b = pv.derived_parts(shape[axis])
        depth = max(depth, 0)
        if op == "-":
            text = self.pick(slice_options(shape[axis]))[1]
            in_shape = shape[:axis] + (a,) + shape[axis + 1 :]
            v = self.expr(scope, in_shape, depth)
            key = (
                text
                if len(shape) == 1
                else (f"{text}, :" if axis == 0 else f":, {text}")
            )
            return Val(f"{_wrap(v)}[{key}]", shape, v.lo, v.hi)
        if op == "+":
            return self.concatenate(scope, shape, axis, depth)
        if len(shape) == 1:
            v = self.expr(scope, (a, b), depth)
            return Val(f"{_wrap(v)}.reshape(-1)", shape, v.lo, v.hi)
        other = shape[1 - axis]
        if other == 1:
            v = self.expr(scope, (a, b), depth)
            form = "(-1, 1)" if axis == 0 else "(1, -1)"
            return Val(f"np.reshape({v.text}, {form})", shape, v.lo, v.hi)
        column = tuple(1 if i != axis else d for i, d in enumerate(shape))
        row = tuple(1 if i == axis else d for i, d in enumerate(shape))
        return pv.binary(
            "*", self.expr(scope, column, depth), self.expr(scope, row, depth)
        )
