"""NumPy calls traced as compositions of other operations: ``np.var`` and ``np.std`` (the
mean of the squared deviations from the mean) and ``np.diff`` (a difference of two
slices). Their derivatives, code, text and LaTeX are those of the parts.

Takes tracers and NumPy's arguments; returns tracers.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradgen import dispatch
from gradgen.ops.tracing import axes as axes_of
from gradgen.ops.tracing import axis as axis_of


def _whole(t, value, what: str) -> int:
    """An integer argument (``ddof``, ``n``): a whole number, at least 0."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or float(value) != int(value) or value < 0:
        raise t.session.error(
            f"{what}={value!r} must be a whole number, at least 0", f"e.g. {what}=1"
        )
    return int(value)


def _variance(a, axis, ddof, keepdims):
    if not isinstance(keepdims, (bool, np.bool_)):
        raise a.session.error("keepdims must be True or False")
    ddof = _whole(a, ddof, "ddof")
    count = sp.Mul(*[a.shape_[i] for i in axes_of(a, axis)])
    if count.is_Integer and count <= ddof:
        raise a.session.error(
            f"np.var with ddof={ddof} of {count} values divides by zero",
            "use a smaller ddof",
        )
    deviation = a - dispatch.METHODS["mean"](a, axis, True)
    total = dispatch.METHODS["sum"](deviation**2, axis, bool(keepdims))
    return total / (count - ddof)


@dispatch.method("var")
@dispatch.numpy(
    np.var,
    note="axis, ddof, keepdims; as the mean of the squared deviations from the mean",
    section="Reductions and products",
)
def var(a, axis=None, *, ddof=0, keepdims=False):
    return _variance(a, axis, ddof, keepdims)


@dispatch.method("std")
@dispatch.numpy(
    np.std,
    note="axis, ddof, keepdims; the square root of np.var (its derivative is "
    "infinite where all the values are equal)",
    section="Reductions and products",
)
def std(a, axis=None, *, ddof=0, keepdims=False):
    return _variance(a, axis, ddof, keepdims) ** 0.5


@dispatch.numpy(
    np.diff,
    note="n, axis; as x[1:] - x[:-1] along the axis, n times",
    section="Reductions and products",
)
def diff(a, n=1, axis=-1):
    n = _whole(a, n, "n")
    k = axis_of(a, axis, len(a.shape_))
    before = (slice(None),) * k
    for _ in range(n):
        a = a[before + (slice(1, None),)] - a[before + (slice(None, -1),)]
    return a
