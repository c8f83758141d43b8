"""More operations for the random model programs: the part of ``program_exprs.Expressions``
that draws the reductions, elementwise functions, products, shape operations, ``np.linalg``
and integer data beyond the basic ones.

Reductions (``_reduce_more``): ``np.min``/``np.amin``/``.min``/``np.amax``, ``np.prod``,
``np.var``/``np.std`` (``ddof``, ``axis``, ``keepdims``), ``np.cumsum``/``np.cumprod``,
``np.diff`` (``n``, ``axis``). Elementwise (``_elementwise``): ``np.clip`` (constant bounds,
one maybe ``None``, or a traced lower bound), ``np.arctan2``, ``np.hypot``,
``np.fmin``/``np.fmax``, ``%``/``np.remainder``, ``np.logaddexp``/``np.logaddexp2``, and a
comparison used as a number (``x * (a > b)``, ``(a > b).astype(float)``, ``np.sum(a > b)``);
the unary ones (``np.log2``, ``np.sign``, ``np.arccosh``, ...) are in ``FUNCTIONS`` of
``program_exprs``. Products (``_product``): ``np.einsum``, ``np.tensordot``, ``np.inner``,
``np.outer``, ``np.kron``, ``np.cross``, ``@`` of stacks of matrices (3-D operands,
reduced or indexed back to 2-D). Shapes (``_shaping``): ``np.transpose`` with axes,
``np.swapaxes``, ``np.moveaxis``, ``np.diag``, ``np.tril``/``np.triu``, ``np.tri``,
``np.tile``, ``np.repeat``, ``np.pad``, ``np.vstack``/``np.hstack``,
``np.split``/``np.array_split``, ``np.broadcast_to``. ``np.linalg`` (``_linalg``):
``solve``, ``inv``, ``det``, ``slogdet``, ``cholesky``, ``eigh``, ``eigvalsh``, ``pinv``,
``svd`` and ``norm`` with every ``ord``. Integer data (``_gather``): parameters annotated
``Array["n", int]`` or ``int`` whose values index an axis (``p[np.arange(n), y]``,
``E[idx]``, ``np.take``, ``np.take_along_axis``, ``np.eye(c)[y]``; drawn with repeats),
``np.argmax``/``np.argmin`` as indices.

Domains. Where an operation is not smooth the drawing keeps away: ``np.std`` and the
singular values of a matrix see a parameter (never equal entries, never a rank-deficient
product); every matrix ``np.linalg`` inverts or factors is ``A @ A.T + I`` with A in
[-1, 1] (eigenvalues in [1, 1 + size]); ``np.hypot`` and ``np.arctan2`` get a second
argument at least 0.1; the divisor of ``%`` is a constant or in [0.5, 2]. Kinks a random
point meets only by rounding (clip bounds, ties of min, sign near 0, argmax of near-equal
entries, ``%`` near a multiple) are watched by ``ties.py``: the checker moves to another
point.
"""

from __future__ import annotations

import itertools
import math

import hypothesis.strategies as st

import program_values as pv
from program_values import ATOM, CAP, MUL, POSITIVE, Val

NAMED = ("n", "d", "k")
SMALL = (1, 2, 3)
LINALG_DIMS = NAMED + (1, 2, 3)


def _wrap(v: Val, prec: int = ATOM) -> str:
    return pv._wrap(v, prec)


def _products(*vals: Val) -> tuple[float, float]:
    corners = [math.prod(c) for c in itertools.product(*[(v.lo, v.hi) for v in vals])]
    return min(corners), max(corners)


def _sized(lo: float, hi: float, dims) -> tuple[float, float]:
    """The interval of a sum of between 1 and count_range(dims) terms in [lo, hi]."""
    low, high = pv.summed(lo, hi, dims)
    return min(low, lo), max(high, hi)


def _powers(v: Val, counts: tuple) -> tuple[float, float]:
    """The interval of a product of between counts[0] and counts[1] values in v."""
    if v.lo >= 0:
        values = [x**c for x in (v.lo, v.hi) for c in counts]
        return min(values + [0.0] if v.lo < 1 else values), max(values)
    bound = max(v.mag ** counts[0], v.mag ** counts[1])
    return -bound, bound


def _dim_text(d) -> str | None:
    return str(d) if isinstance(d, int) else None


class OpsExpressions:
    """More reductions, functions, products, shapes, linear algebra and integer data (a
    mixin of ``Expressions``)."""

    # --- helpers of the helpers ----------------------------------------------------------------
    def size_text(self, scope, dim, *values: Val) -> str:
        """The size ``dim`` as a model writes it: a number, or read from an array's
        shape (a named value of the scope, or one of ``values``)."""
        if isinstance(dim, int):
            return str(dim)
        for v in list(scope.pool) + list(values):
            for i, d in enumerate(v.shape):
                if d == dim:
                    return f"{_wrap(v)}.shape[{i}]"
        raise AssertionError(f"no array has the size {dim}")

    def bounded(self, v: Val, bound: float) -> Val:
        return self.fit(v, -bound, bound) if v.mag > bound else v

    def away_from_zero(self, v: Val) -> Val:
        if v.lo < POSITIVE[0] and v.hi > -POSITIVE[0]:
            return self.fit(v, *POSITIVE)
        return v

    def generic_param(self, scope, shape) -> Val:
        """A parameter of ``shape`` (new, or one the scope has): entries drawn
        independently, so no two are equal and no matrix of it is rank-deficient."""
        if any(pv.derived_parts(d) for d in shape):  # no parameter has such a shape
            return self.derive(scope, shape, 0)
        params = {p for p, _, _ in scope.params}
        known = [v for v in scope.pool if v.shape == shape and v.text in params]
        if known and self.maybe(50):
            value = self.pick(known)
            scope.read.add(value.text)
            return value
        return self.new_param(scope, shape)

    def need(self, dim, size: int) -> None:
        """A named dimension must have at least ``size`` entries."""
        if isinstance(dim, str) and pv.derived_parts(dim) is None:
            self.min_sizes[dim] = max(self.min_sizes.get(dim, 1), size)

    # --- reductions ------------------------------------------------------------------------------
    def _reduce_more(self, scope, shape, depth):
        kinds = ["min", "prod", "var", "std"] if len(shape) < 2 or 1 in shape else []
        if shape:
            kinds += ["cumsum", "cumprod", "diff"]
        kind = self.pick(kinds)
        if kind in ("cumsum", "cumprod"):
            return self.cumulative(scope, shape, depth, kind)
        if kind == "diff":
            options = self.diff_options(shape)
            if options:
                return self.diff(scope, shape, depth, options)
            kind = "min" if len(shape) < 2 or 1 in shape else "cumsum"
            if kind == "cumsum":
                return self.cumulative(scope, shape, depth, kind)
        in_shape, axes, keepdims = self.reduction(shape)
        if kind in ("var", "std"):
            in_shape = tuple(
                self.pick(NAMED + (2, 3)) if i in axes else d
                for i, d in enumerate(in_shape)
            )
            for i in axes:
                self.need(in_shape[i], 2)
        axis = self.axis_argument(axes, len(in_shape))
        options = "".join(f", {o}" for o in pv.reduce_options(axis, keepdims))
        dims = [in_shape[i] for i in axes]
        if kind == "min":
            fn = self.pick(["min", "amin", "amax", "min_method"])
            a = self.expr(scope, in_shape, depth)
            if fn == "min_method":
                text = f"{_wrap(a)}.min({options[2:]})"
            else:
                text = f"np.{fn}({a.text}{options})"
            return Val(text, shape, a.lo, a.hi)
        if kind == "prod":
            a = self.bounded(self.expr(scope, in_shape, depth), 1.5)
            return Val(
                f"np.prod({a.text}{options})",
                shape,
                *_powers(a, pv.count_range(dims)),
            )
        ddof = self.pick([0, 1])
        ddof_text = self.pick(["", ", ddof=0"]) if ddof == 0 else ", ddof=1"
        if kind == "var":
            a = self.bounded(self.expr(scope, in_shape, depth), 10.0)
        else:
            # no two entries equal: the derivative of std is infinite where all are
            a = self.generic_param(scope, in_shape)
            if self.maybe(40):
                a = pv.call("tanh", a)
        spread = (a.hi - a.lo) ** 2 / 4 * (2 if ddof else 1)
        # not the method forms: autograd's reference would run its own var, whose
        # forward mode fails
        if kind == "var":
            lo, hi = 0.0, spread
        else:
            lo, hi = 0.0, math.sqrt(spread)
        return Val(f"np.{kind}({a.text}{options}{ddof_text})", shape, lo, hi)

    def cumulative(self, scope, shape, depth, kind):
        rank = len(shape)
        flat = rank == 1 and self.maybe(30)
        axis = None if flat else self.draw(st.integers(0, rank - 1))
        a = self.expr(scope, shape, depth)
        count = pv.count_range([shape[0 if axis is None else axis]])
        if kind == "cumprod":
            a = self.bounded(a, 1.3)
            lo, hi = _powers(a, (1, count[1]))
        else:
            lo, hi = _sized(a.lo, a.hi, [shape[0 if axis is None else axis]])
        if axis is None:
            text = f"np.{kind}({a.text})"
        else:
            written = self.pick([axis, axis - rank])
            if kind == "cumsum" and self.maybe(25):
                text = f"{_wrap(a)}.cumsum(axis={written})"
            else:
                text = f"np.{kind}({a.text}, axis={written})"
        return Val(text, shape, lo, hi)

    def diff_options(self, shape) -> list:
        """(axis, n, the input's size along it) of a np.diff giving ``shape``."""
        options = []
        for axis, dim in enumerate(shape):
            if isinstance(dim, int):
                options += [(axis, 1, dim + 1), (axis, 2, dim + 2)]
            parts = pv.derived_parts(dim)
            if parts and parts[1:] == ("-", 1):
                options.append((axis, 1, parts[0]))
        return options

    def diff(self, scope, shape, depth, options):
        axis, n, size = self.pick(options)
        in_shape = shape[:axis] + (size,) + shape[axis + 1 :]
        a = self.bounded(self.expr(scope, in_shape, depth), 40.0)
        spread = (a.hi - a.lo) * n
        args = [a.text]
        if n != 1 or self.maybe(20):
            args.append(f"n={n}")
        if axis != len(shape) - 1 or self.maybe(20):
            args.append(f"axis={self.pick([axis, axis - len(shape)])}")
        return Val(f"np.diff({', '.join(args)})", shape, -spread, spread)

    # --- elementwise ----------------------------------------------------------------------------
    def _elementwise(self, scope, shape, depth):
        kind = self.weighted(
            [
                ("clip", 3),
                ("arctan2", 1),
                ("hypot", 1),
                ("fminmax", 1),
                ("remainder", 1),
                ("logaddexp", 1),
                ("mask", 3),
            ]
        )
        if kind == "mask":
            return self.mask_number(scope, shape, depth)
        if kind == "clip":
            return self.clip(scope, shape, depth)
        if kind == "remainder" and self.maybe(50):
            a = self.expr(scope, shape, depth)
            c = self.pick([1.5, 2.0, 0.7, 1])
            return Val(f"{_wrap(a, MUL)} % {c!r}", shape, 0.0, float(c), MUL)
        sa, sb = self.split(shape, 2)
        a = self.expr(scope, sa, depth)
        if kind == "remainder":
            b = self.fit(self.expr(scope, sb, depth), 0.5, 2.0)
            return Val(f"np.remainder({a.text}, {b.text})", shape, 0.0, b.hi)
        b = self.expr(scope, sb, depth, const_ok=kind == "fminmax")
        if kind == "fminmax":
            fn = self.pick(["fmax", "fmin"])
            pick = max if fn == "fmax" else min
            return Val(
                f"np.{fn}({a.text}, {b.text})",
                shape,
                pick(a.lo, b.lo),
                pick(a.hi, b.hi),
            )
        if kind == "logaddexp":
            fn = self.pick(["logaddexp", "logaddexp2"])
            top = max(a.hi, b.hi) + (math.log(2) if fn == "logaddexp" else 1.0)
            return Val(f"np.{fn}({a.text}, {b.text})", shape, max(a.lo, b.lo), top)
        b = self.fit(b, *POSITIVE)  # away from the origin, where neither is smooth
        if kind == "hypot":
            top = math.hypot(a.mag, b.mag)
            return Val(f"np.hypot({a.text}, {b.text})", shape, b.lo, top)
        ratios = _products(a, Val("", (), 1 / b.hi, 1 / b.lo))
        lo, hi = math.atan(ratios[0]), math.atan(ratios[1])
        return Val(f"np.arctan2({a.text}, {b.text})", shape, lo, hi)

    def clip(self, scope, shape, depth):
        a = self.expr(scope, shape, depth)
        if a.hi - a.lo < 0.2 or a.mag > 10:
            a = self.squash(a, -1.0, 1.0)
        if self.maybe(20):  # a traced lower bound
            sb = self.split(shape, 1)[0]
            b = self.expr(scope, sb, depth, const_ok=True)
            return Val(
                f"np.clip({a.text}, {b.text}, None)",
                shape,
                max(a.lo, b.lo),
                max(a.hi, b.hi),
            )
        span = a.hi - a.lo
        low = round(a.lo + span * self.pick([0.3, 0.2, 0.1]), 2)
        high = round(a.lo + span * self.pick([0.7, 0.8, 0.9]), 2)
        kind = self.pick(["both", "low", "high", "method"][: 4 if shape else 3])
        if kind == "low":
            return Val(f"np.clip({a.text}, {low!r}, None)", shape, low, a.hi)
        if kind == "high":
            return Val(f"np.clip({a.text}, None, {high!r})", shape, a.lo, high)
        if kind == "method":
            return Val(f"{_wrap(a)}.clip({low!r}, {high!r})", shape, low, high)
        return Val(f"np.clip({a.text}, {low!r}, {high!r})", shape, low, high)

    def mask_number(self, scope, shape, depth):
        """A comparison used as a number: times a value, as floats, or counted."""
        kind = self.pick(["times", "astype", "count"] if shape else ["times", "count"])
        if kind == "count":
            in_shape = self.pick([(d,) for d in NAMED] + [(d, 2) for d in NAMED])
            cond = self.condition(scope, in_shape, depth)
            count = pv.count_range(in_shape)[1]
            value = Val(f"np.sum({cond.text})", (), 0.0, float(count))
            # times a value: a count alone is an integer, no derivative to check
            return pv.binary("*", self.expr(scope, shape, depth), value)
        cond = self.condition(scope, shape, depth)
        if kind == "astype":
            text = f"({cond.text}).astype(float)" if cond.prec < ATOM else cond.text
            if cond.prec >= ATOM:
                text = f"{text}.astype(float)"
            return Val(text, shape, 0.0, 1.0)
        sa = self.split(shape, 1)[0]
        a = self.expr(scope, sa, depth)
        mask = Val(cond.text, cond.shape, 0.0, 1.0, cond.prec)
        return pv.binary("*", a, mask) if self.maybe(50) else pv.binary("*", mask, a)

    # --- products -----------------------------------------------------------------------------
    def _product(self, scope, shape, depth):
        rank = len(shape)
        kinds = ["einsum", "tensordot", "inner"]
        if rank == 2:
            kinds.append("outer")
            if not any(pv.derived_parts(d) for d in shape):
                kinds += ["batched", "batched"]
        if rank and shape[-1] == 3:
            kinds.append("cross")
        if self.kron_options(shape):
            kinds.append("kron")
        kind = self.pick(kinds)
        return getattr(self, f"product_{kind}")(scope, shape, depth)

    def contraction_dim(self):
        return self.weighted([(d, 3) for d in NAMED] + [(d, 1) for d in SMALL])

    def einsum_specs(self, rank: int) -> list[str]:
        if rank == 0:
            return ["i,i->", "ij,ij->", "ii->", "ij->", "ij,ji->"]
        if rank == 1:
            return ["ij,j->i", "ji,j->i", "ij->i", "ij,ij->i", "i,i->i", "ii->i"]
        return [
            "ij,jk->ik",
            "ik,jk->ij",
            "i,j->ij",
            "ji->ij",
            "ij,ij->ij",
            "...j,jk->...k",
        ]

    def product_einsum(self, scope, shape, depth):
        spec = self.pick(self.einsum_specs(len(shape)))
        inputs, output = spec.split("->")
        letters = output.replace("...", "")
        sizes = {}
        if "..." in output:
            sizes["."] = shape[0]
            sizes.update(zip(letters, shape[1:]))
        else:
            sizes.update(zip(letters, shape))
        operands = []
        for part in inputs.split(","):
            dims = []
            for letter in part.replace("...", "."):
                if letter not in sizes:
                    sizes[letter] = self.contraction_dim()
                dims.append(sizes[letter])
            operands.append(self.bounded(self.expr(scope, tuple(dims), depth), 10.0))
        contracted = [
            sizes[x]
            for x in set(inputs.replace(",", "").replace("...", "")) - set(output)
        ]
        lo, hi = _products(*operands)
        lo, hi = pv.summed(lo, hi, contracted)
        if any(len(set(p)) < len(p) for p in inputs.split(",")) and not contracted:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        items = ", ".join(v.text for v in operands)
        return Val(f'np.einsum("{spec}", {items})', shape, lo, hi)

    def product_tensordot(self, scope, shape, depth):
        rank = len(shape)
        m = self.contraction_dim()
        if rank == 0:
            q = self.contraction_dim()
            sa = sb = (m, q)
            axes = self.pick(["2", "([0, 1], [0, 1])"])
            dims = [m, q]
        elif rank == 1:
            sa, sb, dims = (m,), (m, shape[0]), [m]
            axes = self.pick(["1", "([0], [0])"])
        else:
            kind = self.pick(["1", "([1], [0])", "([0], [0])", "0"])
            axes = kind
            if kind == "0":
                return self.product_outer(scope, shape, depth, "tensordot")
            if kind == "([0], [0])":
                sa, sb = (m, shape[0]), (m, shape[1])
            else:
                sa, sb = (shape[0], m), (m, shape[1])
            dims = [m]
        a = self.bounded(self.expr(scope, sa, depth), 10.0)
        b = self.bounded(self.expr(scope, sb, depth), 10.0)
        lo, hi = pv.summed(*_products(a, b), dims)
        return Val(f"np.tensordot({a.text}, {b.text}, axes={axes})", shape, lo, hi)

    def product_inner(self, scope, shape, depth):
        m = self.contraction_dim()
        rank = len(shape)
        if rank == 0:
            sa, sb = (m,), (m,)
        elif rank == 1:
            sa, sb = (shape[0], m), (m,)
        else:
            sa, sb = (shape[0], m), (shape[1], m)
        a = self.bounded(self.expr(scope, sa, depth), 10.0)
        b = self.bounded(self.expr(scope, sb, depth), 10.0)
        lo, hi = pv.summed(*_products(a, b), [m])
        return Val(f"np.inner({a.text}, {b.text})", shape, lo, hi)

    def product_outer(self, scope, shape, depth, form="outer"):
        a = self.expr(scope, (shape[0],), depth)
        b = self.expr(scope, (shape[1],), depth)
        tail = ", axes=0" if form == "tensordot" else ""
        return Val(f"np.{form}({a.text}, {b.text}{tail})", shape, *_products(a, b))

    def product_cross(self, scope, shape, depth):
        # operands of the result's shape: autograd's gradient of np.cross fails on operands
        # that broadcast ((2, 3) and (1, 3): long profile, seed 92), which the per-op model
        # cross_ checks by central differences
        a = self.bounded(self.expr(scope, shape, depth), 10.0)
        b = self.bounded(self.expr(scope, shape, depth), 10.0)
        lo, hi = _products(a, b)
        top = 2 * max(abs(lo), abs(hi))
        return Val(f"np.cross({a.text}, {b.text})", shape, -top, top)

    def kron_options(self, shape) -> list:
        if len(shape) == 1:
            (m,) = shape
            parts = pv.derived_parts(m)
            if parts and parts[1] == "*":
                return [((parts[0],), (parts[2],))]
            if isinstance(m, int):
                return [((p,), (m // p,)) for p in (1, 2, 3) if m % p == 0 and m > p]
            return []
        if len(shape) == 2 and all(isinstance(d, int) for d in shape):
            p, q = shape
            return [
                ((a, b), (p // a, q // b))
                for a in (1, 2, 3)
                for b in (1, 2, 3)
                if p % a == 0 and q % b == 0 and (a, b) != (p, q) and (a, b) != (1, 1)
            ]
        return []

    def product_kron(self, scope, shape, depth):
        sa, sb = self.pick(self.kron_options(shape))
        a = self.bounded(self.expr(scope, sa, depth), 10.0)
        b = self.bounded(self.expr(scope, sb, depth), 10.0)
        return Val(f"np.kron({a.text}, {b.text})", shape, *_products(a, b))

    def batch_operand(self, scope, shape, depth) -> Val:
        """A 3-D operand: a parameter of that shape, a function of one, a sum with a
        broadcast 2-D value, or a transposed 3-D parameter."""
        kind = self.weighted(
            [("param", 3), ("unary", 1), ("broadcast", 2), ("axes", 1)]
        )
        if kind == "axes":
            b, p, q = shape
            order = self.pick([(1, 0, 2), (0, 2, 1), (2, 1, 0)])
            inverse = tuple(order.index(i) for i in range(3))
            inner = tuple(shape[i] for i in order)
            v = self.batch_param(scope, inner)
            form = self.pick(["transpose", "swapaxes", "moveaxis"])
            if form == "transpose" or order == (2, 1, 0):
                text = f"np.transpose({v.text}, {inverse})"
            elif form == "swapaxes":
                pair = [i for i in range(3) if order[i] != i]
                text = f"np.swapaxes({v.text}, {pair[0]}, {pair[1]})"
            else:
                pair = [i for i in range(3) if order[i] != i]
                text = f"np.moveaxis({v.text}, {pair[0]}, {pair[1]})"
            return Val(text, shape, v.lo, v.hi)
        v = self.batch_param(scope, shape)
        if kind == "unary":
            return pv.call(self.pick(["tanh", "sin", "cos"]), v)
        if kind == "broadcast":
            w = self.bounded(self.expr(scope, shape[1:], max(depth - 1, 0)), 10.0)
            return pv.binary(self.pick("+*"), v, w)
        return v

    def batch_param(self, scope, shape) -> Val:
        """A 3-D parameter; not put in the scope's pool (statements are 2-D at most)."""
        known = [(p, s, d) for p, s, d in scope.params if s == shape]
        if known and self.maybe(30):
            p, _, d = self.pick(known)
            return pv.name(p, shape, *d)
        if scope.kind == "helper":
            name = next(
                f"t{i}" for i in itertools.count() if f"t{i}" not in scope.taken
            )
        else:
            name = f"T{next(scope.count)}"
        domain = (-1.0, 1.0)
        scope.params.append((name, shape, domain))
        scope.taken.add(name)
        return pv.name(name, shape, *domain)

    def product_batched(self, scope, shape, depth):
        """``A @ B`` of stacks of matrices, brought back to 2-D."""
        p, q = shape
        b = self.pick(NAMED + (2, 3))
        m = self.contraction_dim()
        a = self.batch_operand(scope, (b, p, m), depth)
        second = self.pick(["3d", "3d", "2d", "one"])
        if second == "2d":
            c = self.bounded(self.expr(scope, (m, q), depth), 10.0)
        else:
            c = self.batch_operand(scope, (b if second == "3d" else 1, m, q), depth)
        lo, hi = pv.summed(*_products(a, c), [m])
        form = self.pick(["@", "matmul", "einsum"])
        if form == "@":
            product = f"{_wrap(a, MUL)} @ {_wrap(c, MUL + 1)}"
        elif form == "matmul":
            product = f"np.matmul({a.text}, {c.text})"
        else:
            spec = "bij,bjk->bik" if second != "2d" else "bij,jk->bik"
            if second == "one":
                spec = "bij,cjk->bik"  # c is 1: summing over it is a no-op
            product = f'np.einsum("{spec}", {a.text}, {c.text})'
        back = self.pick(["sum", "mean", "max", "first", "last"])
        if back in ("first", "last"):
            index = 0 if back == "first" else -1
            return Val(f"({product})[{index}]", shape, lo, hi)
        if back == "sum":
            lo, hi = pv.summed(lo, hi, [b])
        return Val(f"np.{back}({product}, axis=0)", shape, lo, hi)

    # --- shapes -------------------------------------------------------------------------------
    def _shaping(self, scope, shape, depth):
        rank = len(shape)
        table = [
            ("axes", 2 if rank == 2 else 0),
            ("diag", 2 if rank in (1, 2) else 0),
            ("tri", 1 if rank == 2 else 0),
            ("tile", 1 if self.tile_options(shape) else 0),
            ("pad", 1 if self.pad_options(shape) else 0),
            ("stack", 1 if self.stack_options(shape) else 0),
            ("split", 1 if self.split_options(shape) else 0),
            ("broadcast", 2 if rank else 0),
        ]
        if not any(w for _, w in table):
            return self.expr(scope, shape, depth)
        kind = self.weighted(table)
        return getattr(self, f"shape_{kind}")(scope, shape, depth)

    def shape_axes(self, scope, shape, depth):
        a = self.expr(scope, tuple(reversed(shape)), depth)
        form = self.pick(
            [
                "np.transpose({}, (1, 0))",
                "np.transpose({}, axes=(1, 0))",
                "{w}.transpose((1, 0))",
                "np.swapaxes({}, 0, 1)",
                "np.swapaxes({}, -1, 0)",
                "{w}.swapaxes(0, 1)",
                "np.moveaxis({}, 0, 1)",
                "np.moveaxis({}, -1, 0)",
            ]
        )
        return Val(form.format(a.text, w=_wrap(a)), shape, a.lo, a.hi)

    def shape_diag(self, scope, shape, depth):
        if len(shape) == 2:
            p, q = shape
            options = []
            if p == q:
                options.append((p, 0))
            if isinstance(p, int) and p == q and p >= 2:
                options += [(p - 1, 1), (p - 1, -1)]
            if not options:
                return self.shape_tri(scope, shape, depth)
            m, k = self.pick(options)
            v = self.expr(scope, (m,), depth)
            ktext = "" if k == 0 else self.pick([f", k={k}", f", {k}"])
            return Val(
                f"np.diag({v.text}{ktext})", shape, min(v.lo, 0.0), max(v.hi, 0.0)
            )
        (m,) = shape
        options = [((m, m), 0)]
        if isinstance(m, int):
            options += [((m, m + 1), 1), ((m + 1, m), -1), ((m + 1, m + 1), 1)]
        in_shape, k = self.pick(options)
        a = self.expr(scope, in_shape, depth)
        form = self.pick(["np.diag({}{k})", "np.diagonal({}{k})"][:1])
        ktext = "" if k == 0 else f", k={k}"
        return Val(form.format(a.text, k=ktext), shape, a.lo, a.hi)

    def shape_tri(self, scope, shape, depth):
        a = self.expr(scope, shape, depth)
        k = self.pick([0, -1, 1])
        lo, hi = min(a.lo, 0.0), max(a.hi, 0.0)
        form = self.pick(["tril", "triu", "tri"])
        if form == "tri":
            p = self.size_text(scope, shape[0], a)
            q = self.size_text(scope, shape[1], a)
            ktext = "" if k == 0 else f", k={k}"
            tri = f"np.tri({p}, {q}{ktext})"
            return Val(f"{tri} * {_wrap(a, MUL + 1)}", shape, lo, hi, MUL)
        ktext = "" if k == 0 else self.pick([f", k={k}", f", {k}"])
        return Val(f"np.{form}({a.text}{ktext})", shape, lo, hi)

    def tile_options(self, shape) -> list:
        """(operand shape, text with {} for the operand) pairs: np.tile and np.repeat."""
        options = []
        if len(shape) == 1 and isinstance(shape[0], int) and shape[0] >= 2:
            (m,) = shape
            for r in (2, 3):
                if m % r == 0:
                    options.append(((m // r,), f"np.tile({{}}, {r})"))
                    options.append(((m // r,), f"np.repeat({{}}, {r})"))
        if len(shape) == 2:
            p, q = shape
            if isinstance(p, int):
                options.append(((q,), f"np.tile({{}}, ({p}, 1))"))
                for r in (2, 3):
                    if p % r == 0:
                        options.append(((p // r, q), f"np.tile({{}}, ({r}, 1))"))
                        options.append(((p // r, q), f"np.repeat({{}}, {r}, axis=0)"))
            if isinstance(q, int):
                options.append(((p, 1), f"np.repeat({{}}, {q}, axis=1)"))
                for r in (2, 3):
                    if q % r == 0:
                        options.append(((p, q // r), f"np.tile({{}}, (1, {r}))"))
                        options.append(((p, q // r), f"np.repeat({{}}, {r}, axis=-1)"))
        return options

    def shape_tile(self, scope, shape, depth):
        in_shape, form = self.pick(self.tile_options(shape))
        a = self.expr(scope, in_shape, depth)
        return Val(form.format(a.text), shape, a.lo, a.hi)

    def pad_options(self, shape) -> list:
        """(axis, before, after, the operand's size along it)."""
        options = []
        for axis, dim in enumerate(shape):
            if isinstance(dim, int) and dim >= 2:
                options += [(axis, 1, 0, dim - 1), (axis, 0, 1, dim - 1)]
                if dim >= 3:
                    options.append((axis, 1, 1, dim - 2))
            parts = pv.derived_parts(dim)
            if parts and parts[1:] == ("+", 1):
                options += [(axis, 1, 0, parts[0]), (axis, 0, 1, parts[0])]
        return options

    def shape_pad(self, scope, shape, depth):
        axis, before, after, size = self.pick(self.pad_options(shape))
        in_shape = shape[:axis] + (size,) + shape[axis + 1 :]
        a = self.expr(scope, in_shape, depth)
        if len(shape) == 1:
            widths = self.pick([f"({before}, {after})", f"[{before}, {after}]"])
        else:
            pairs = ["(0, 0)"] * len(shape)
            pairs[axis] = f"({before}, {after})"
            widths = f"({', '.join(pairs)})"
        value = self.pick([None, 0.0, 1.0, -0.5])
        if value is None:
            return Val(
                f"np.pad({a.text}, {widths})", shape, min(a.lo, 0.0), max(a.hi, 0.0)
            )
        extra = self.pick(
            [f", constant_values={value!r}", f", 'constant', constant_values={value!r}"]
        )
        return Val(
            f"np.pad({a.text}, {widths}{extra})",
            shape,
            min(a.lo, value),
            max(a.hi, value),
        )

    def stack_options(self, shape) -> list:
        options = []
        if len(shape) == 2 and shape[0] in SMALL:
            options.append(("vstack_rows", None))
        if len(shape) == 2 and isinstance(shape[0], int) and shape[0] >= 2:
            options.append(("vstack", 0))
        if len(shape) == 2 and isinstance(shape[1], int) and shape[1] >= 2:
            options.append(("hstack", 1))
        if len(shape) == 1 and isinstance(shape[0], int) and shape[0] >= 2:
            options.append(("hstack", 0))
        return options

    def shape_stack(self, scope, shape, depth):
        kind, axis = self.pick(self.stack_options(shape))
        if kind == "vstack_rows":
            values = [self.expr(scope, shape[1:], depth) for _ in range(shape[0])]
        else:
            dim = shape[axis]
            count = self.draw(st.integers(2, min(dim, 3)))
            cuts = sorted(self.draw(st.permutations(range(1, dim)))[: count - 1])
            sizes = [b - a for a, b in zip([0] + cuts, cuts + [dim])]
            values = [
                self.expr(scope, shape[:axis] + (s,) + shape[axis + 1 :], depth)
                for s in sizes
            ]
        fn = "hstack" if kind == "hstack" else "vstack"
        items = ", ".join(v.text for v in values)
        bracket = f"[{items}]" if self.maybe(70) or len(values) == 1 else f"({items})"
        lo, hi = min(v.lo for v in values), max(v.hi for v in values)
        return Val(f"np.{fn}({bracket})", shape, lo, hi)

    def split_options(self, shape) -> list:
        """(axis, operand size, arguments, piece) of an np.split or np.array_split whose
        piece has ``shape``."""
        options = []
        for axis, dim in enumerate(shape):
            if isinstance(dim, int):
                options += [(axis, 2 * dim, "2", i, "split") for i in (0, 1)]
                options += [(axis, 3 * dim, "3", 2, "split")]
                options += [(axis, dim + 1, f"[{dim}]", 0, "split")]
                options += [(axis, dim + 2, f"[1, {dim + 1}]", 1, "split")]
                # array_split of dim + (dim - 1) entries in 2: the first has dim
                if dim >= 2:
                    options += [(axis, 2 * dim - 1, "2", 0, "array_split")]
                if dim == 1:
                    options += [(axis, x, "[1]", 0, "split") for x in NAMED]
            parts = pv.derived_parts(dim)
            if parts and parts[1:] == ("-", 1):
                options.append((axis, parts[0], "[1]", 1, "split"))
        return options

    def shape_split(self, scope, shape, depth):
        axis, size, args, piece, fn = self.pick(self.split_options(shape))
        in_shape = shape[:axis] + (size,) + shape[axis + 1 :]
        a = self.expr(scope, in_shape, depth)
        axis_text = (
            "" if axis == 0 else f", axis={self.pick([axis, axis - len(shape)])}"
        )
        return Val(f"np.{fn}({a.text}, {args}{axis_text})[{piece}]", shape, a.lo, a.hi)

    def shape_broadcast(self, scope, shape, depth):
        rank = len(shape)
        drop = self.draw(st.integers(0, rank))
        small = tuple(
            d if self.maybe(60) or i == drop else 1
            for i, d in enumerate(shape)
            if i >= drop
        )
        if small == shape:
            small = shape[1:]
        a = self.expr(scope, small, depth)
        same = [v for v in scope.pool if v.shape == shape]
        if same and self.maybe(50):
            target = f"{_wrap(self.pick(same))}.shape"
        else:
            texts = [self.size_text_or_none(scope, d) for d in shape]
            if None in texts:
                return self.expr(scope, shape, depth)
            target = f"({', '.join(texts)}{',' if rank == 1 else ''})"
        return Val(f"np.broadcast_to({a.text}, {target})", shape, a.lo, a.hi)

    def size_text_or_none(self, scope, dim):
        try:
            return self.size_text(scope, dim)
        except AssertionError:
            return None

    # --- np.linalg ----------------------------------------------------------------------------
    def spd(self, scope, m, depth, distinct=False) -> tuple[Val, float]:
        """``A @ A.T + I``, symmetric positive definite with eigenvalues in [1, 1 + m r],
        and its largest eigenvalue bound. ``distinct``: A a square parameter, so that the
        eigenvalues differ (eigenvectors have no derivative where two are equal, as in
        I + u u.T)."""
        if distinct:
            r, a = m, self.generic_param(scope, (m, m))
        else:
            r = self.pick(LINALG_DIMS)
            a = self.fit(self.expr(scope, (m, r), depth), -1.0, 1.0)
        size = self.size_text(scope, m, a)
        square = pv.matmul(a, pv.transpose(a))
        top = 1.0 + pv.count_range([m])[1] * pv.count_range([r])[1] * a.mag**2
        eye = f"np.eye({size})"
        text = f"{square.text} + {eye}"
        return Val(text, (m, m), min(square.lo, 0.0), square.hi + 1.0, pv.ADD), top

    def _linalg(self, scope, shape, depth):
        rank = len(shape)
        kinds = ["norm"]
        if rank == 0:
            kinds += ["det", "slogdet"]
        if rank == 1 and shape[0] in LINALG_DIMS:
            kinds += ["solve", "eigh", "svd"]
        if rank == 2 and shape[0] in LINALG_DIMS:
            kinds += ["solve"]
            if shape[0] == shape[1]:
                kinds += ["inv", "cholesky", "pinv", "eigvecs"]
        kind = self.pick(kinds)
        if kind == "norm":
            return self.norm(scope, shape, depth)
        if kind == "svd":
            return self.singular_values(scope, shape, depth)
        m = shape[0] if rank else self.pick(LINALG_DIMS)
        s, top = self.spd(scope, m, depth, distinct=kind in ("eigh", "eigvecs"))
        count = pv.count_range([m])
        if kind == "det":
            return Val(f"np.linalg.det({s.text})", (), 1.0, top ** count[1])
        if kind == "slogdet":
            form = self.pick(["[1]", "[0] * {}"])
            logdet = (0.0, count[1] * math.log(top))
            if form == "[1]":
                return Val(f"np.linalg.slogdet({s.text})[1]", (), *logdet)
            return Val(
                f"np.linalg.slogdet({s.text})[0] * np.linalg.slogdet({s.text})[1]",
                (),
                *logdet,
                MUL,
            )
        if kind == "solve":
            b = self.bounded(self.expr(scope, shape, depth), 10.0)
            bound = math.sqrt(count[1]) * b.mag
            if rank == 2:
                bound *= math.sqrt(pv.count_range([shape[1]])[1])
            return Val(f"np.linalg.solve({s.text}, {b.text})", shape, -bound, bound)
        if kind in ("inv", "pinv"):
            return Val(f"np.linalg.{kind}({s.text})", shape, -1.0, 1.0)
        if kind == "cholesky":
            root = math.sqrt(top)
            return Val(f"np.linalg.cholesky({s.text})", shape, -root, root)
        if kind == "eigh":
            form = self.pick(
                [
                    "np.linalg.eigh({})[0]",
                    "np.linalg.eigvalsh({})",
                    "np.linalg.eigh({})[0]",
                ]
            )
            return Val(form.format(s.text), shape, 1.0, top)
        # eigenvectors: squared, so their signs do not matter
        return Val(f"np.linalg.eigh({s.text})[1] ** 2", shape, 0.0, 1.0, pv.POWER)

    def singular_values(self, scope, shape, depth):
        (m,) = shape
        if isinstance(m, int) and self.maybe(60):
            q = self.pick([x for x in (1, 2, 3, 4) if x >= m])
            a = self.generic_param(scope, self.pick([(m, q), (q, m)]))
        else:
            a = self.generic_param(scope, (m, m))
        top = math.sqrt(pv.count_range(a.shape)[1]) * a.mag
        form = self.pick(["compute_uv=False", "full_matrices=False"])
        if form == "compute_uv=False":
            return Val(f"np.linalg.svd({a.text}, compute_uv=False)", shape, 0.0, top)
        return Val(f"np.linalg.svd({a.text}, full_matrices=False)[1]", shape, 0.0, top)

    def norm(self, scope, shape, depth):
        rank = len(shape)
        if rank == 0 and self.maybe(50):
            # a matrix norm: of a parameter (no rank deficiency, no ties)
            m = self.pick(NAMED + SMALL)
            q = self.pick(NAMED + SMALL)
            ord_ = self.pick(
                ["'fro'", "'nuc'", "1", "-1", "np.inf", "-np.inf", "2", "-2"]
            )
            if ord_ in ("'nuc'", "2", "-2") and isinstance(m, str):
                q = m  # singular values: the smaller side must be known
            elif ord_ in ("'nuc'", "2", "-2") and isinstance(q, str):
                q = self.pick(SMALL)
            a = self.generic_param(scope, (m, q))
            count = pv.count_range((m, q))[1]
            top = count * a.mag
            return Val(f"np.linalg.norm({a.text}, {ord_})", (), 0.0, top)
        if rank == 0:
            m = self.pick(NAMED + SMALL + (4,))
            in_shape, axis_text = (m,), ""
        else:
            if len(shape) == 2 and 1 not in shape:
                return self.expr(scope, shape, depth)
            in_shape, axes, keepdims = self.reduction(shape)
            if len(axes) != 1:
                return self.expr(scope, shape, depth)
            axis_text = f", axis={self.pick([axes[0], axes[0] - len(in_shape)])}"
            if keepdims:
                axis_text += ", keepdims=True"
        ord_ = self.pick(["1", "2", "np.inf", "-np.inf", "3", "None"])
        a = self.bounded(self.expr(scope, in_shape, depth), 10.0)
        if ord_ in ("1", "2", "3", "None"):
            a = self.away_from_zero(a)
        top = pv.count_range(in_shape)[1] * a.mag
        return Val(f"np.linalg.norm({a.text}, {ord_}{axis_text})", shape, 0.0, top)

    # --- integer data -----------------------------------------------------------------------------
    def int_param(self, scope, shape, bound) -> Val:
        """An integer parameter of ``shape`` whose entries index an axis of size
        ``bound`` (0 up to it, drawn with repeats)."""
        known = [
            (p, s, d)
            for p, s, d in scope.params
            if s == shape and d == ("index", bound)
        ]
        if known and self.maybe(40):
            return pv.name(known[0][0], shape, 0, 0)
        base = "i" if shape == () else self.pick(["y", "idx", "labels"])
        name = f"{base}{next(scope.count)}"
        scope.params.append((name, shape, ("index", bound)))
        scope.taken.add(name)
        return pv.name(name, shape, 0, 0)

    def _gather(self, scope, shape, depth):
        rank = len(shape)
        if any(pv.derived_parts(d) for d in shape):  # no parameter has such a shape
            return self.expr(scope, shape, depth)
        c = self.pick(NAMED + SMALL)
        kinds = ["embed"] + (["argmax"] if rank < 2 else [])
        if rank == 1:
            kinds += ["pick", "pick", "take", "argmax_pick"]
        if rank == 2:
            kinds += ["take", "along", "onehot"]
        if scope.kind == "helper":  # integer parameters belong to the target
            kinds = [k for k in kinds if k in ("argmax", "argmax_pick")]
            if not kinds:
                return self.expr(scope, shape, depth)
        kind = self.pick(kinds)
        if kind == "pick":
            (m,) = shape
            p = self.expr(scope, (m, c), depth)
            y = self.int_param(scope, (m,), c)
            rows = f"np.arange({self.size_text(scope, m, p)})"
            return Val(f"{_wrap(p)}[{rows}, {y.text}]", shape, p.lo, p.hi)
        if kind == "argmax_pick":
            (m,) = shape
            p = self.expr(scope, (m, c), depth)
            q = self.generic_param(scope, (m, c))
            fn = self.pick(["argmax", "argmin"])
            rows = f"np.arange({self.size_text(scope, m, p)})"
            return Val(
                f"{_wrap(p)}[{rows}, np.{fn}({q.text}, axis=1)]", shape, p.lo, p.hi
            )
        if kind == "argmax":
            # a vector indexed by the position of its largest (smallest) entry
            e = self.expr(scope, (c,) + shape, depth)
            q = self.generic_param(scope, (c,))
            fn = self.pick(["argmax", "argmin"])
            return Val(f"{_wrap(e)}[np.{fn}({q.text})]", shape, e.lo, e.hi)
        if kind == "embed":
            if rank == 0:
                e = self.expr(scope, (c,), depth)
                i = self.int_param(scope, (), c)
                return Val(f"{_wrap(e)}[{i.text}]", shape, e.lo, e.hi)
            if rank == 1 or self.maybe(50):
                e = self.expr(scope, (c,) + shape[1:], depth)
                idx = self.int_param(scope, shape[:1], c)
                form = self.pick(
                    ["{e}[{i}]", "np.take({}, {i}, axis=0)", "{e}[{i}, :]"]
                )
                if rank == 1 and form == "{e}[{i}, :]":
                    form = "{e}[{i}]"
            else:
                e = self.expr(scope, (c,), depth)
                idx = self.int_param(scope, shape, c)
                form = self.pick(["{e}[{i}]", "np.take({}, {i})"])
            return Val(form.format(e.text, e=_wrap(e), i=idx.text), shape, e.lo, e.hi)
        if kind == "take":
            if rank == 1:
                (m,) = shape
                flat = isinstance(c, int)  # np.take of a 2-D array: of it flattened
                x = self.expr(scope, (c, 2) if flat else (c,), depth)
                idx = self.int_param(scope, (m,), c * 2 if flat else c)
                return Val(f"np.take({x.text}, {idx.text})", shape, x.lo, x.hi)
            p, m = shape
            x = self.expr(scope, (p, c), depth)
            idx = self.int_param(scope, (m,), c)
            form = self.pick(
                ["np.take({}, {i}, axis=1)", "{w}[:, {i}]", "np.take({}, {i}, axis=-1)"]
            )
            return Val(form.format(x.text, w=_wrap(x), i=idx.text), shape, x.lo, x.hi)
        if kind == "along":
            p, m = shape
            x = self.expr(scope, (p, c), depth)
            idx = self.int_param(scope, (p, m), c)
            return Val(
                f"np.take_along_axis({x.text}, {idx.text}, axis=1)", shape, x.lo, x.hi
            )
        # one-hot rows of labels, times a value
        m, k = shape
        y = self.int_param(scope, (m,), k)
        a = self.expr(scope, shape, depth)
        size = self.size_text(scope, k, a)
        onehot = Val(f"np.eye({size})[{y.text}]", shape, 0.0, 1.0)
        return (
            pv.binary("*", onehot, a) if self.maybe(50) else pv.binary("*", a, onehot)
        )
