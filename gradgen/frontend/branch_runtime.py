"""What code rewritten by ``branches.transform`` calls while a model is traced.

An ``if`` on a traced comparison runs as: ``enter`` (remember every local, and the state of
every traced array, so writes into arrays are seen too), the then-branch, ``switch``
(remember what it did, put the arrays back), ``restore`` (rebind the names it assigned),
the else-branch, and ``merge``: each name or array that differs becomes
``np.where(cond, then, else)``. A plain Python condition takes the ``if`` as written.
Knows no calculus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradgen.errors import GradgenError
from gradgen.frontend.loop_runtime import (  # noqa: F401 - the loop rewrite calls them
    loop_begin,
    loop_enter,
    loop_exit,
    range_,
    rows_of,
)


def _tracer_type():
    from gradgen.traced import Tracer

    return Tracer


class Unset:
    """A name the other branch of a traced ``if`` binds and this one does not."""

    def __init__(self, name: str):
        self.name = name

    def message(self) -> tuple[str, str]:
        return (
            f"{self.name!r} is assigned in only one branch of an if on traced data",
            f"assign {self.name} in both branches (or before the if)",
        )

    def refuse(self, *args, **kwargs):
        message, hint = self.message()
        raise GradgenError(message, hint=hint)

    def __getattr__(self, attr):
        self.refuse()


for _method in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__pow__ __rpow__ __neg__ __matmul__ __rmatmul__ __bool__ __getitem__ __setitem__ "
    "__lt__ __le__ __gt__ __ge__ __array__ __array_ufunc__ __array_function__ __iter__ "
    "__len__ __float__"
).split():
    setattr(Unset, _method, Unset.refuse)


@dataclass
class State:
    """One traced ``if``: its condition, the names it assigns and what they held, and the
    traced arrays that were live (their state before, and after the then-branch)."""

    cond: object
    names: tuple
    before: dict
    arrays: dict  # id -> (tracer, (expr, site, shape) before)
    then: dict = field(default_factory=dict)
    then_arrays: dict = field(default_factory=dict)


def _snapshot(t) -> tuple:
    return t.expr, t.site, t.shape_


def traced(cond) -> bool:
    """Whether an ``if`` condition is a traced comparison (then both branches run)."""
    if not isinstance(cond, _tracer_type()):
        if type(cond).__module__.startswith("sympy"):  # a comparison of named sizes
            raise GradgenError(
                f"the condition {cond} depends on a dimension whose size is a name",
                hint="annotate that dimension with an integer size, or write code that "
                "works for every size",
            )
        return False
    if not cond.is_condition:
        raise cond.session.error(
            "an if tests a traced number, not a comparison",
            "compare it, e.g. if x > 0:",
        )
    return True


def enter(cond, local_vars: dict, names: tuple) -> State:
    tracer = _tracer_type()
    before = {n: local_vars.get(n, Unset(n)) for n in names}
    arrays = {
        id(v): (v, _snapshot(v))
        for v in list(local_vars.values()) + list(before.values())
        if isinstance(v, tracer)
    }
    return State(cond, names, before, arrays)


def _put_back(t, snapshot) -> None:
    t.expr, t.site, t.shape_ = snapshot


def switch(state: State, local_vars: dict) -> None:
    state.then = {n: local_vars.get(n, Unset(n)) for n in state.names}
    for key, (t, before) in state.arrays.items():
        state.then_arrays[key] = _snapshot(t)
        _put_back(t, before)


def restore(state: State) -> tuple:
    return tuple(state.before[n] for n in state.names)


def merge(state: State, local_vars: dict, live: tuple) -> tuple:
    """The value of each name after the if; a name not ``live`` (never read after it)
    is left unset."""
    for t, before in state.arrays.values():
        then, other = state.then_arrays[id(t)], _snapshot(t)
        if then[0] != other[0]:
            _put_back(t, select(state.cond, _view(t, then), _view(t, other))[:3])
    return tuple(
        (
            _merge_value(state.cond, n, state.then[n], local_vars.get(n, Unset(n)))
            if n in live
            else Unset(n)
        )
        for n in state.names
    )


def _view(t, snapshot):
    """A tracer holding a recorded state of ``t``."""
    expr, site, shape = snapshot
    out = t._new(expr, shape)
    out.site = site
    return out


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an array compared elementwise, or no comparison at all
        return False


def _merge_value(cond, name: str, then, other):
    if then is other or _same(then, other):
        return then
    if isinstance(then, Unset) or isinstance(other, Unset):
        return Unset(name)  # an error if used after the if
    numeric = (int, float, np.integer, np.floating, _tracer_type())
    if all(isinstance(v, numeric) and not isinstance(v, bool) for v in (then, other)):
        return select(cond, then, other)[3]
    raise cond.session.error(
        f"{name!r} takes values other than numbers and arrays in the branches of an if "
        "on traced data",
        "only numbers and arrays can differ between the branches",
    )


def _shape(value) -> tuple:
    return value.shape_ if isinstance(value, _tracer_type()) else ()


def select(cond, then, other) -> tuple:
    """np.where(cond, then, other) for the branches' values: (expr, site, shape, tracer).
    They must have one shape, as the code after the if sees one value or the other; only
    an element-wise condition may mix a scalar with arrays of its own shape."""
    from gradgen.dispatch import FUNCTIONS
    from gradgen.ir import shape_str

    a, b = _shape(then), _shape(other)
    elementwise = (a == () and b == cond.shape_) or (b == () and a == cond.shape_)
    if a != b and not elementwise:
        raise cond.session.error(
            f"the branches of an if on traced data give shapes {shape_str(a)} "
            f"and {shape_str(b)}",
            "make both branches give the same shape",
        )
    result = FUNCTIONS[np.where](cond, then, other)
    return result.expr, result.site, result.shape_, result


def ifexp(cond, then, other):
    if traced(cond):
        return select(cond, then(), other())[3]
    return then() if cond else other()


def and_(first, second):
    if not traced(first):
        return first and second()
    value = second()
    if isinstance(value, _tracer_type()):
        return first & value
    return first if value else value


def or_(first, second):
    if not traced(first):
        return first or second()
    value = second()
    if isinstance(value, _tracer_type()):
        return first | value
    return value if value else first


def not_(value):
    return ~value if traced(value) else not value


def loop_test(value):
    if isinstance(value, _tracer_type()):
        raise value.session.error(
            "a while loop whose condition depends on traced data",
            "loop over a fixed range(...) and select values with np.where",
        )
    return value


def refuse_jump():
    raise GradgenError(
        "a return, break or continue inside an if on traced data, within a loop",
        hint="assign the result to a variable in both branches and return after the loop",
    )
