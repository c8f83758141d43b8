"""Random expressions for the random model programs (``programs.py``): the choices, and
an expression of a wanted shape built from the operations gradgen supports.

``Expressions.expr(scope, shape, depth)`` returns a ``program_values.Val`` of exactly that
shape: a leaf (a value the scope has named, a new parameter, a constant, a size read from
``x.shape``) or an operation on smaller expressions whose shapes are chosen so the result is
well typed: broadcasting operands (bias vectors, columns, scalars), reductions with axis and
keepdims, 1-D and 2-D matrix products, transposes, ``np.where`` on comparisons, maxima and
minima, powers, elementwise functions, helper calls. ``fit`` maps a value into a function's
safe domain when its interval is not already inside it. Every choice is one hypothesis
draw, and shrinks towards the first, simplest option.
"""

from __future__ import annotations

import itertools
import math

import hypothesis.strategies as st

import program_values as pv
from program_arrays import ArrayExpressions
from program_numerics import NumericExpressions
from program_ops import OpsExpressions
from program_values import CAP, EXP_ARG, POSITIVE, Val

NAMED_DIMS = ("n", "d", "k")
DIMS = NAMED_DIMS + (1, 2)
DERIVED_DIMS = ("n-1", "n+k", "d+1", "n*d")  # sizes of slices, joins, flattened arrays
PLAIN, POSITIVE_PARAM = (-1.0, 1.0), (0.5, 2.0)  # parameter domains
CONSTANTS = (2.0, 0.5, 1.0, 3, 1.5, -1.0, 0.1, 2, math.pi, -0.5, 0.25, 10.0)
FUNCTIONS = ("tanh", "exp", "sin", "cos", "log", "sqrt", "abs", "square")
FUNCTIONS += ("arctan", "sinh", "cosh", "tan", "arcsin", "arccos", "negate")
FUNCTIONS += ("log2", "log10", "exp2", "arcsinh", "arccosh", "arctanh", "sign")
FUNCTIONS += ("deg2rad", "rad2deg", "radians", "degrees")
# the operations of program_ops: each a kind of its own with every_kind (the long profile)
MORE_KINDS = [
    ("reduce_more", 1),
    ("elementwise", 1),
    ("product", 1),
    ("shaping", 1),
    ("linalg", 1),
    ("gather", 1),
]
MORE_CAP = 2
COMPARISONS = (">", "<", ">=", "<=", "==", "!=")
UFUNCS = ("greater", "less", "greater_equal", "less_equal", "equal", "not_equal")
COMPARISON_UFUNCS = dict(zip(COMPARISONS, UFUNCS))
PARAM_BASES = {0: ("s", "alpha", "c"), 1: ("b", "u", "v"), 2: ("W", "X", "A")}
HELPER_PARAMS = ("a", "b", "x", "z", "p", "q", "r", "w")


class Scope:
    """One function being generated: the target or a helper."""

    def __init__(self, kind: str):
        self.kind = kind
        self.pool: list[Val] = []  # values bound to names (parameters and locals)
        self.params: list[tuple] = []  # (name, shape, domain)
        self.lines: list[str] = []
        self.taken: set = set()
        self.read: set = set()  # names read since they were last bound
        self.count = itertools.count(1)

    def bind(self, name: str, value: Val) -> None:
        self.pool = [v for v in self.pool if v.text != name]
        self.read.discard(name)
        self.pool.append(pv.name(name, value.shape, value.lo, value.hi))
        self.taken.add(name)


class Expressions(ArrayExpressions, NumericExpressions, OpsExpressions):
    """Random expressions; every random choice goes through hypothesis's ``draw``. The
    program builder (``programs.Builder``) adds helpers (``_helper``) and statements.
    Indexing and reshaping come from ``program_arrays``, stable forms and undefined
    branches from ``program_numerics``."""

    def __init__(self, draw, every_kind: bool = True):
        self.draw = draw
        # every kind of expression at its weight; otherwise (the default profile's budget)
        # the operations of program_ops are one rare kind, at most MORE_CAP times a
        # program, on leaves
        self.every_kind = every_kind
        self.more_left = MORE_CAP
        self.nesting = 0  # helpers being generated inside helpers
        self.imports: set = set()  # names from gradgen.functions the model uses
        self.branch_nans = False  # whether a branch not taken may compute nan
        self.min_sizes: dict = {}  # dimension name -> smallest size the program needs

    # --- choices (each shrinks towards its first, simplest option) -------------------------
    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def maybe(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def weighted(self, table):
        total = sum(w for _, w in table if w)
        k = self.draw(st.integers(0, total - 1))
        for option, w in table:
            if k < w:
                return option
            k -= w
        raise AssertionError("unreachable")

    def shape(self, derived: bool = True) -> tuple:
        """A random shape; ``derived``: it may hold dimensions no parameter has."""
        rank = self.weighted([(1, 3), (2, 4), (0, 2)])
        table = [(d, 6) for d in NAMED_DIMS] + [(1, 2), (2, 2), (3, 1)]
        table += [(d, 1 if derived else 0) for d in DERIVED_DIMS]
        return tuple(self.weighted(table) for _ in range(rank))

    def split(self, shape: tuple, k: int) -> list[tuple]:
        """``k`` shapes that broadcast together to exactly ``shape``."""
        r = len(shape)
        parts = []
        for _ in range(k):
            drop = self.draw(st.integers(0, r)) if self.maybe(40) else 0
            parts.append(
                [
                    shape[i] if shape[i] == 1 or not self.maybe(30) else 1
                    for i in range(drop, r)
                ]
            )
        for i, d in enumerate(shape):
            if d != 1 and not any(len(p) >= r - i and p[i - r] == d for p in parts):
                part = parts[self.draw(st.integers(0, k - 1))]
                part[:0] = [1] * (r - i - len(part))
                part[i - r] = d
        if r and max(len(p) for p in parts) < r:
            part = parts[self.draw(st.integers(0, k - 1))]
            part[:0] = [1] * (r - len(part))
        out = [tuple(p) for p in parts]
        assert pv.broadcast(*out) == shape, (shape, out)
        return out

    # --- leaves ------------------------------------------------------------------------------
    def new_param(self, scope: Scope, shape: tuple) -> Val:
        if scope.kind == "helper":
            name = next(
                n
                for n in HELPER_PARAMS + tuple(f"a{i}" for i in range(99))
                if n not in scope.taken
            )
        else:
            name = f"{self.pick(PARAM_BASES[len(shape)])}{next(scope.count)}"
        domain = POSITIVE_PARAM if self.maybe(25) else PLAIN
        scope.params.append((name, shape, domain))
        value = pv.name(name, shape, *domain)
        scope.pool.insert(0, value)
        scope.taken.add(name)
        return value

    def leaf(self, scope: Scope, shape: tuple, const_ok: bool) -> Val:
        same = [v for v in reversed(scope.pool) if v.shape == shape]
        arrays = [v for v in scope.pool if v.shape]
        kind = self.weighted(
            [
                ("pool", 8 if same else 0),
                ("param", 1 if same else 3),
                ("constant", 3 if const_ok and shape == () else 0),
                ("dim", 2 if const_ok and shape == () and arrays else 0),
            ]
        )
        if kind == "pool":
            value = self.pick(same)
            scope.read.add(value.text)
            return value
        if kind == "constant":
            return pv.constant(self.pick(CONSTANTS))
        if kind == "dim":
            v = self.pick(arrays)
            return pv.dim_read(v, self.draw(st.integers(0, len(v.shape) - 1)))
        if any(pv.derived_parts(d) for d in shape):
            return self.derive(scope, shape, 0)  # no parameter has this shape
        return self.new_param(scope, shape)

    # --- expressions -----------------------------------------------------------------------------
    def expr(
        self, scope: Scope, shape: tuple, depth: int, const_ok: bool = False
    ) -> Val:
        """An expression of exactly ``shape``; ``const_ok`` allows a constant (it must depend
        on a parameter otherwise)."""
        for d in shape:
            parts = pv.derived_parts(d)
            if parts and parts[1] == "-":
                self.min_sizes[parts[0]] = 2  # x[1:] of an empty x has no meaning
        if depth <= 0:
            return self.leaf(scope, shape, const_ok)
        rank = len(shape)
        kind = self.weighted(
            [
                ("leaf", 3),
                ("unary", 3),
                ("binary", 4),
                ("matmul", 2),
                ("reduce", 2 if rank < 2 or 1 in shape else 0),
                ("transpose", 2 if rank == 2 else 1 if rank == 1 else 0),
                ("where", 1),
                ("extremum", 1),
                ("power", 1),
                ("helper", 1 if self.nesting < 2 else 0),
                ("trace", 1 if rank == 0 else 0),
                ("index", 1 if rank < 2 else 0),
                ("slice", 1 if rank else 0),
                ("join", 1 if self.join_options(shape) else 0),
                ("reshape", 1 if self.reshape_options(scope, shape) else 0),
                ("stable", 1),
                ("guarded", 1),
                ("choice", 1),
            ]
            + (
                MORE_KINDS
                if self.every_kind
                else [("more", 1 if self.more_left else 0)]
            )
        )
        if kind == "leaf":
            return self.leaf(scope, shape, const_ok)
        value = getattr(self, f"_{kind}")(scope, shape, depth - 1)
        assert value.shape == shape, (kind, shape, value)
        if value.mag > CAP:
            value = self.fit(value, -CAP, CAP)
        return value

    def _more(self, scope, shape, depth):
        """One of the operations of ``program_ops``, at depth 0 (on leaves): the default
        profile's rare kind."""
        self.more_left -= 1
        kind = self.pick([k for k, _ in MORE_KINDS])
        return getattr(self, f"_{kind}")(scope, shape, 0)

    def fit(self, v: Val, lo: float, hi: float) -> Val:
        """``v``, or ``v`` passed through a function that maps it into [lo, hi]."""
        if v.within(lo, hi):
            return v
        options = []
        if lo <= -1 and hi >= 1:
            options += [pv.call("tanh", v), pv.call("sin", v), pv.call("cos", v)]
            if lo < 0 < hi and v.mag < 1e4:
                scale = 10.0 ** math.ceil(math.log10(v.mag / min(-lo, hi)))
                options.append(pv.binary("/", v, pv.constant(scale)))
        if lo >= 0:
            small = v if v.within(-2, 2) else pv.call("tanh", v)
            options += [
                pv.binary("+", pv.power(v, 2), pv.constant(1.0)),
                pv.call("exp", small),
                pv.call("cosh", small),
                pv.binary("+", pv.constant(2.0), pv.call("sin", v)),
                pv.binary("+", pv.call("abs", v), pv.constant(0.5)),
            ]
        options.append(self.squash(v, lo, hi))
        return self.pick([o for o in options if o.within(lo, hi)])

    @staticmethod
    def squash(v: Val, lo: float, hi: float) -> Val:
        """``centre + radius * np.tanh(v)`` inside [lo, hi], over at most 10 around 0."""
        width = min(hi - lo, 10.0)
        centre = min(max(0.0, lo + width / 2), hi - width / 2)
        radius = math.floor(45 * width) / 100  # 0.9 of the half width, rounded down
        squashed = pv.binary("*", pv.constant(radius), pv.call("tanh", v))
        if centre == 0:
            return squashed
        return pv.binary("+", pv.constant(round(centre, 2)), squashed)

    def _unary(self, scope, shape, depth):
        fn = self.pick(FUNCTIONS)
        a = self.expr(scope, shape, depth)
        if fn == "negate":
            return pv.negate(a)
        domain = pv.FUNCTIONS[fn][0]
        return pv.call(fn, self.fit(a, *domain) if domain else a)

    def _binary(self, scope, shape, depth):
        op = self.pick("+-*/")
        sa, sb = self.split(shape, 2)
        const_left = op in "-/" and self.maybe(20)
        a = self.expr(scope, sa, depth, const_ok=const_left)
        b = self.expr(scope, sb, depth, const_ok=not const_left)
        if op == "/":
            b = self.fit(b, *POSITIVE)
        forms = ["op", "ufunc"] + (["dot"] if op == "*" and () in (sa, sb) else [])
        form = self.pick(forms) if self.maybe(20) else "op"
        return pv.binary(op, a, b, form)

    def _power(self, scope, shape, depth):
        kind = self.pick(["integer", "real", "traced", "base"])
        if kind == "integer":
            base = self.expr(scope, shape, depth)
            return pv.power(base, self.pick([2, 3]), self.maybe(20))
        if kind == "real":
            base = self.fit(self.expr(scope, shape, depth), *POSITIVE)
            return pv.power(base, self.pick([0.5, -1.0, 1.5, -0.5]), self.maybe(20))
        if kind == "base":
            return pv.exp_base(2.0, self.fit(self.expr(scope, shape, depth), *EXP_ARG))
        sa, sb = self.split(shape, 2)
        base = self.fit(self.expr(scope, sa, depth), 0.5, 2.0)
        return pv.traced_power(base, self.fit(self.expr(scope, sb, depth), -2.0, 2.0))

    def _matmul(self, scope, shape, depth):
        m = self.weighted([(d, 3 if d in NAMED_DIMS else 1) for d in DIMS])
        if len(shape) == 2:
            sa, sb = (shape[0], m), (m, shape[1])
        elif len(shape) == 1:
            sa, sb = ((shape[0], m), (m,)) if self.maybe(50) else ((m,), (m, shape[0]))
        else:
            sa, sb = (m,), (m,)
        a, b = self.expr(scope, sa, depth), self.expr(scope, sb, depth)
        return pv.matmul(a, b, self.pick(["@", "dot", "matmul"]))

    def _transpose(self, scope, shape, depth):
        a = self.expr(scope, tuple(reversed(shape)), depth)
        return pv.transpose(a, self.pick([".T", "np.transpose", ".transpose()"]))

    def _trace(self, scope, shape, depth):
        m = self.pick(DIMS)
        return pv.trace(self.expr(scope, (m, m), depth))

    def _extremum(self, scope, shape, depth):
        sa, sb = self.split(shape, 2)
        a, b = self.expr(scope, sa, depth), self.expr(scope, sb, depth, const_ok=True)
        return pv.extremum(self.pick(["maximum", "minimum"]), a, b)

    def _reduce(self, scope, shape, depth):
        fn = self.pick(["sum", "mean", "max"])
        in_shape, axes, keepdims = self.reduction(shape)
        a = self.expr(scope, in_shape, depth)
        return pv.reduce(
            fn, a, self.axis_argument(axes, len(in_shape)), keepdims, self.maybe(25)
        )

    def reduction(self, shape: tuple) -> tuple:
        """(operand shape, axes, keepdims) of a reduction that gives ``shape``."""
        ones = [i for i, d in enumerate(shape) if d == 1]
        keepdims = bool(ones) and (len(shape) == 2 or self.maybe(30))
        if keepdims:
            axes = [i for i in ones if self.maybe(60)] or [self.pick(ones)]
            in_shape = tuple(
                self.pick(DIMS) if i in axes else d for i, d in enumerate(shape)
            )
        else:
            rank = self.draw(st.integers(len(shape) + 1, 2))
            axes = sorted(self.draw(st.permutations(range(rank)))[: rank - len(shape)])
            kept = iter(shape)
            in_shape = tuple(
                self.pick(DIMS) if i in axes else next(kept) for i in range(rank)
            )
        return in_shape, axes, keepdims

    def axis_argument(self, axes: list, ndim: int):
        """How ``axis=`` is written: None for all axes, an int (maybe negative), a tuple."""
        options = [tuple(axes)]
        if len(axes) == ndim:
            options.insert(0, None)
        if len(axes) == 1:
            options[:0] = [axes[0], axes[0] - ndim]
        return self.pick(options)

    def _where(self, scope, shape, depth):
        sc, sa, sb = self.split(shape, 3)
        cond = self.condition(scope, sc, depth)
        const_a = self.maybe(30)
        a = self.expr(scope, sa, depth, const_ok=const_a)
        b = self.expr(scope, sb, depth, const_ok=not const_a)
        return pv.where(cond, a, b)

    def condition(self, scope, shape, depth) -> Val:
        """A comparison, or comparisons combined with ``&``, ``|``, ``~``. Not ``~`` of a
        scalar condition: on Python floats a comparison is a Python bool, and ~True is -2.
        """
        negate = 1 if shape else 0
        kind = self.weighted([("compare", 6), ("and", 1), ("or", 1), ("not", negate)])
        if kind == "not":
            return pv.logic("~", self.condition(scope, shape, depth - 1))
        if kind in ("and", "or"):
            parts = self.split(shape, 2)
            op = "&" if kind == "and" else "|"
            return pv.logic(op, *[self.condition(scope, s, depth - 1) for s in parts])
        sa, sb = self.split(shape, 2)
        a, b = self.expr(scope, sa, depth), self.expr(scope, sb, depth, const_ok=True)
        op = self.weighted(
            [
                (c, 4 if c in "<>" else 2 if len(c) == 2 and c[0] in "<>" else 1)
                for c in COMPARISONS
            ]
        )
        ufunc = COMPARISON_UFUNCS[op] if self.maybe(15) else None
        return pv.compare(op, a, b, ufunc)

    # --- Python conditions: if statements and conditional expressions -----------------------
    def python_condition(self, scope, depth) -> Val:
        """A condition on scalars for a Python ``if``: comparisons, maybe joined with
        ``and``/``or``, negated with ``not``, or chained (``0.1 < a < 0.5``)."""
        kind = self.weighted([("compare", 6), ("and", 1), ("or", 1), ("not", 1)])
        kind = self.weighted([(kind, 6), ("chain", 1)]) if kind == "compare" else kind
        if kind in ("and", "or"):
            a, b = (self.python_condition(scope, depth - 1) for _ in range(2))
            return Val(f"{a.text} {kind} {b.text}", (), 0, 1, pv.CMP - 1)
        if kind == "not":
            a = self.python_condition(scope, depth - 1)
            text = f"not ({a.text})" if a.prec < pv.CMP else f"not {a.text}"
            return Val(text, (), 0, 1, pv.CMP - 1)
        a = self.expr(scope, (), depth)
        if kind == "chain":
            lo, hi = sorted(round(a.lo + (a.hi - a.lo) * f, 2) for f in (0.2, 0.6))
            return Val(f"{lo!r} < {pv._wrap(a, pv.ADD)} < {hi!r}", (), 0, 1, pv.CMP)
        op = self.pick(["<", ">", "<=", ">=", "==", "!="][: self.pick([4, 4, 6])])
        return pv.compare(op, a, self.expr(scope, (), depth, const_ok=True))

    def _choice(self, scope, shape, depth):
        """``a if cond else b`` on a scalar condition."""
        cond = self.python_condition(scope, depth)
        a, b = self.expr(scope, shape, depth), self.expr(scope, shape, depth)
        text = f"({a.text} if {cond.text} else {b.text})"
        return Val(text, shape, min(a.lo, b.lo), max(a.hi, b.hi))
