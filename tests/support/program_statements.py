"""Random statements that write into arrays or branch on data, for the random model programs:
the part of ``programs.Builder`` that draws them.

``write_block``: a fresh array (``np.zeros_like(a)``, ``a * 1.0``, ``np.copy(a)``,
``a.copy()``, ``np.zeros((h.shape[0], 3))``) then one to three writes into it: ``y[key] = v``,
``y[key] += v`` (also -= and *=) with the keys of ``program_arrays`` and a value of the
selected shape or one that broadcasts to it, ``y += v``, ``y[mask] = v`` and
``y[np.arange(n), labels] = v`` (a number; labels integer data), sometimes reading ``y`` itself
(``y[1:] += y[:-1]``), or an ``if`` writing in each branch. Nothing else names the array
while it is written, so the intervals stay sound. autograd cannot run such a program
(``Builder.writes``).

``branch``: ``if``/``elif``/``else`` on a scalar condition, every branch assigning the same
new names with values of the same shapes, or an ``if`` without ``else`` assigning a name
bound before it; a branch may compute ``np.log(s - t + 0.1)`` under ``if s > t`` (undefined
where the branch is not taken: ``Expressions.branch_nans``). ``early_return``: ``if c:
return v`` before the end of the target; ``returning_helper``: a helper ending in returns
from ``if``/``elif``/``else``.
"""

from __future__ import annotations

import hypothesis.strategies as st

import program_values as pv
from program_arrays import INTS, slices_of
from program_values import CAP, POSITIVE, Val


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


class Statements:
    """Writes and branches (a mixin of ``programs.Builder``)."""

    # --- writing into arrays ------------------------------------------------------------------
    def creation(self, scope, shape, depth) -> Val:
        """A fresh array of ``shape`` that no other name refers to."""
        pool = [v for v in scope.pool if v.shape == shape]
        readable = [
            (v, i) for v in scope.pool for i, d in enumerate(v.shape) if d in shape
        ]
        kind = self.weighted(
            [("zeros_like", 2), ("times_one", 3), ("copy", 1), ("zeros", 1)]
        )
        if kind == "zeros" and all(
            isinstance(d, int) or any(v.shape[i] == d for v, i in readable)
            for d in shape
        ):
            dims = [
                (
                    str(d)
                    if isinstance(d, int)
                    else next(
                        f"{v.text}.shape[{i}]" for v, i in readable if v.shape[i] == d
                    )
                )
                for d in shape
            ]
            text = f"np.zeros(({', '.join(dims)}{',' if len(dims) == 1 else ''}))"
            return Val(text, shape, 0.0, 0.0)
        a = (
            self.pick(pool)
            if pool and self.maybe(50)
            else self.expr(scope, shape, depth)
        )
        if kind in ("zeros", "zeros_like"):
            return Val(f"np.zeros_like({a.text})", shape, 0.0, 0.0)
        if kind == "times_one":
            return Val(f"{pv._wrap(a, pv.MUL)} * 1.0", shape, a.lo, a.hi, pv.MUL)
        form = self.pick(["np.copy({})", "{}.copy()"])
        text = form.format(a.text if form.startswith("np.") else pv._wrap(a, pv.ATOM))
        return Val(text, shape, a.lo, a.hi)

    def write_key(self, shape) -> tuple[str, tuple]:
        """A key to write at, and the shape it selects."""
        axis = self.draw(st.integers(0, len(shape) - 1))
        dim = shape[axis]
        if self.maybe(40):
            i = self.pick([0, -1] if not isinstance(dim, int) else range(-dim, dim))
            key, selected = str(i), shape[:axis] + shape[axis + 1 :]
        else:
            key, size = self.pick(slices_of(dim))
            selected = shape[:axis] + (size,) + shape[axis + 1 :]
        if len(shape) == 2 and axis == 1:
            key = f":, {key}"
        elif len(shape) == 2 and self.maybe(50):
            key = f"{key}, :"
        return key, selected

    def masked_write(self, scope, name: str, target: Val, depth) -> Val:
        """``y[mask] = v`` (a mask of y's shape), or ``y[np.arange(n), labels] = v``
        through integer data: a value written into the selected slots (through integer
        data a constant, as gradgen writes nothing else there)."""
        shape = target.shape
        plain = not any(pv.derived_parts(d) for d in shape)
        if len(shape) == 2 and plain and scope.kind == "target" and self.maybe(40):
            labels = self.int_param(scope, shape[:1], shape[1])
            rows = f"np.arange({self.size_text(scope, shape[0], target)})"
            key = f"{rows}, {labels.text}"
            value = pv.constant(self.pick([0.0, 1.0, -0.5, 2]))
        else:
            value = self.expr(scope, (), depth, const_ok=True)
            key = self.condition(scope, shape, depth).text
        scope.lines.append(f"{name}[{key}] = {value.text}")
        lo, hi = min(target.lo, value.lo), max(target.hi, value.hi)
        return Val(name, target.shape, lo, hi)

    def write(self, scope, name: str, target: Val, depth) -> Val:
        """One write into ``name``; returns its new value."""
        if self.maybe(15):
            return self.masked_write(scope, name, target, depth)
        op = self.weighted([("=", 3), ("+=", 3), ("-=", 1), ("*=", 1)])
        whole = self.maybe(25)
        key, selected = ("", target.shape) if whole else self.write_key(target.shape)
        if whole and op == "=":
            op = "+="
        if selected and self.maybe(30):
            selected = (
                selected[1:] if self.maybe(50) else ()
            )  # broadcast into the slots
        value = self.expr(scope, selected, depth, const_ok=True)
        if op == "*=":
            value = self.fit(value, -2.0, 2.0)
        lhs = name if whole else f"{name}[{key}]"
        scope.lines.append(f"{lhs} {op} {value.text}")
        if op == "=":
            new = (value.lo, value.hi)
        else:
            scalar = [Val("", (), v.lo, v.hi) for v in (target, value)]
            new = pv.binary(op[0], *scalar)
            new = (new.lo, new.hi)
        lo, hi = min(target.lo, *new), max(target.hi, *new)
        return Val(name, target.shape, lo, hi)

    def write_block(self, scope, shape, depth) -> None:
        """A fresh array and writes into it; the name is bound after each write."""
        if not shape:
            shape = (self.pick(INTS[1:]),)
        name = self.fresh_name(scope)
        created = self.creation(scope, shape, depth)
        scope.lines.append(f"{name} = {created.text}")
        scope.bind(name, created)
        value = pv.name(name, shape, created.lo, created.hi)
        for _ in range(self.draw(st.integers(1, 3))):
            if self.maybe(15):
                value = self.branch_of_writes(scope, name, value, depth)
            else:
                value = self.write(scope, name, value, depth)
            if value.mag > CAP:
                fitted = self.fit(value, -CAP, CAP)
                scope.lines.append(f"{name} = {fitted.text}")
                value = Val(name, shape, fitted.lo, fitted.hi)
            scope.bind(name, value)
        self.writes = True

    def branch_of_writes(self, scope, name, value, depth) -> Val:
        cond = self.python_condition(scope, depth)
        scope.lines.append(f"if {cond.text}:")
        arms = []
        for arm in range(2 if self.maybe(60) else 1):
            if arm:
                scope.lines.append("else:")
            start = len(scope.lines)
            arms.append(self.write(scope, name, value, depth))
            scope.lines[start:] = _indent(scope.lines[start:])
        lo, hi = min(a.lo for a in arms + [value]), max(a.hi for a in arms + [value])
        return Val(name, value.shape, lo, hi)

    def fresh_name(self, scope) -> str:
        while True:
            name = self.local_name(scope)
            if name not in scope.taken:
                return name

    # --- branches -------------------------------------------------------------------------------
    def guarded_condition(self, scope, depth):
        """``s > t`` and, for each arm, a term defined only there: ``np.log(s - t + 0.1)``,
        ``np.sqrt(t - s + 0.1)``."""
        a = self.expr(scope, (), depth)
        if a.hi - a.lo < 0.2 or a.mag > 10:
            a = self.squash(a, -1.0, 1.0)
        t = round(a.lo + (a.hi - a.lo) * self.pick([0.5, 0.3, 0.7]), 2)
        c = pv.constant(t)
        above = pv.binary("+", pv.binary("-", a, c), pv.constant(0.1))
        below = pv.binary("+", pv.binary("-", c, a), pv.constant(0.1))
        terms = []
        for arg in (above, below):
            arg = Val(arg.text, (), POSITIVE[0], max(arg.hi, POSITIVE[0]), arg.prec)
            terms.append(pv.call(self.pick(["log", "sqrt"]), arg))
        self.branch_nans = True
        return pv.compare(">", a, c), terms

    def conditions(self, scope, depth) -> tuple:
        """The conditions of an if/elif chain, and the terms each branch adds when the
        condition guards an undefined value (None otherwise)."""
        if self.maybe(30):
            cond, terms = self.guarded_condition(scope, depth)
            return [cond], terms
        conds = [self.python_condition(scope, depth)]
        if self.maybe(30):
            conds.append(self.python_condition(scope, depth))
        return conds, None

    def branch(self, scope, depth) -> None:
        """if/elif/else assigning the same new names in every branch, or an if without else
        rebinding a name bound before it."""
        if scope.pool and self.maybe(25):
            return self.one_armed(scope, depth)
        conds, terms = self.conditions(scope, depth)
        count = self.draw(st.integers(1, 2))
        shapes = [
            self.pick([v.shape for v in scope.pool] or [()]) for _ in range(count)
        ]
        names = []
        for _ in shapes:
            names.append(self.fresh_name(scope))
            scope.taken.add(names[-1])
        arms: list = []
        for arm, cond in enumerate(conds + [None]):
            header = (
                "else:" if cond is None else f"{'elif' if arm else 'if'} {cond.text}:"
            )
            scope.lines.append(header)
            values = []
            for k, (name, shape) in enumerate(zip(names, shapes)):
                value = self.expr(scope, shape, depth)
                if terms and k == 0:
                    value = pv.binary(self.pick("+*"), terms[arm], value)
                    value = self.fit(value, -CAP, CAP) if value.mag > CAP else value
                scope.lines.append(f"    {name} = {value.text}")
                values.append(value)
            arms.append(values)
        for k, (name, shape) in enumerate(zip(names, shapes)):
            lo, hi = min(a[k].lo for a in arms), max(a[k].hi for a in arms)
            scope.bind(name, Val(name, shape, lo, hi))

    def one_armed(self, scope, depth) -> None:
        old = self.pick(scope.pool)
        cond = self.python_condition(scope, depth)
        value = self.expr(scope, old.shape, depth)
        scope.lines += [f"if {cond.text}:", f"    {old.text} = {value.text}"]
        lo, hi = min(old.lo, value.lo), max(old.hi, value.hi)
        scope.bind(old.text, Val(old.text, old.shape, lo, hi))

    def early_return(self, scope, shape, depth) -> None:
        """``if cond: return value`` before the target's last statement."""
        cond = self.python_condition(scope, depth)
        value = self.expr(scope, shape, depth)
        scope.lines += [f"if {cond.text}:", f"    return {value.text}"]

    def returning_tail(self, scope, shape, depth) -> Val:
        """A helper's end: ``if c: return a`` [``elif c2: return b``] ``[else:] return c``;
        returns the interval of all the results."""
        conds, terms = self.conditions(scope, depth)
        values = []
        final_else = self.maybe(50)
        for arm, cond in enumerate(conds + [None]):
            value = self.expr(scope, shape, depth)
            if terms:
                value = pv.binary(self.pick("+*"), terms[arm], value)
                value = self.fit(value, -CAP, CAP) if value.mag > CAP else value
            values.append(value)
            if cond is None:
                lines = ["else:", f"    return {value.text}"] if final_else else []
                scope.lines += lines or [f"return {value.text}"]
            else:
                scope.lines += [f"{'elif' if arm else 'if'} {cond.text}:"]
                scope.lines += [f"    return {value.text}"]
        lo, hi = min(v.lo for v in values), max(v.hi for v in values)
        return Val("", shape, lo, hi)
