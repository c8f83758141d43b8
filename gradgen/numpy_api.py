"""The NumPy calls the tracer understands, beyond elementwise arithmetic: their
implementations on tracers, and the tables ``Tracer`` dispatches through.

``ELEMENTWISE`` and ``COMPARISONS`` map NumPy ufuncs to SymPy functions; ``FUNCTIONS`` maps
NumPy functions to implementations that build structural IR nodes. ``supported_operations``
lists all of it for ``gradgen ops`` and error hints. Knows no calculus.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.core.parameters import distribute

from . import ir, numpy_arrays
from .special import Sigmoid, Softplus, expm1, log1p
from . import tracer as _tracer  # the module: Tracer is read at call time
from .numpy_arrays import any_tracer as _any_tracer
from .numpy_arrays import as_tracer as _as_tracer
from .numpy_arrays import is_tracer as _is_tracer


def matmul(a, b):
    t = _any_tracer(a, b)
    a, b = _as_tracer(a, t), _as_tracer(b, t)
    if not a.shape_ or not b.shape_:
        raise t.session.error("matmul (@) of a scalar", "use * to multiply by a scalar")
    if len(a.shape_) > 2 or len(b.shape_) > 2:
        raise t.session.error(
            "matmul of arrays with more than 2 dimensions is not supported"
        )
    s = t.session
    return s.structural(ir.MatMul(s.materialise(a), s.materialise(b)), [a, b])


def dot(a, b):
    t = _any_tracer(a, b)
    a, b = _as_tracer(a, t), _as_tracer(b, t)
    if not a.shape_ or not b.shape_:
        return a * b
    return matmul(a, b)


def transpose(a, axes=None):
    if a.ndim > 2:
        raise a.session.error(
            "transpose of arrays with more than 2 dimensions is not supported"
        )
    if axes is not None and tuple(axes) not in ((1, 0), (0, 1), (0,), ()):
        raise a.session.error(f"np.transpose with axes={tuple(axes)} is not supported")
    if a.ndim < 2 or (axes is not None and tuple(axes) == (0, 1)):
        return a
    s = a.session
    return s.structural(ir.Transpose(s.materialise(a)), [a])


def _axes(a, axis) -> list[int]:
    ndim = len(a.shape_)
    if axis is None:
        return list(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for item in items:
        if not isinstance(item, (int, np.integer)) or isinstance(item, bool):
            raise a.session.error(
                f"axis={axis!r} must be an integer or a tuple of integers"
            )
        k = int(item) + ndim if item < 0 else int(item)
        if not 0 <= k < ndim or k in out:
            raise a.session.error(
                f"axis {item} is out of range (or repeated) for an array of "
                f"shape {ir.shape_str(a.shape_)}"
            )
        out.append(k)
    return out


def _reduce(cls, a, axis, keepdims):
    if not isinstance(keepdims, (bool, np.bool_)):
        raise a.session.error("keepdims must be True or False")
    axes = _axes(a, axis)
    if not axes:
        return a
    s = a.session
    expr = ir.reduce(cls, s.materialise(a), axes, len(a.shape_), bool(keepdims))
    return s.structural(expr, [a])


def sum_(a, axis=None, keepdims=False):
    return _reduce(ir.ReduceSum, a, axis, keepdims)


def mean(a, axis=None, keepdims=False):
    return _reduce(ir.ReduceMean, a, axis, keepdims)


def max_(a, axis=None, keepdims=False):
    return _reduce(ir.ReduceMax, a, axis, keepdims)


def trace(a):
    if len(a.shape_) != 2:
        raise a.session.error(
            f"np.trace needs a 2-D array, got shape {ir.shape_str(a.shape_)}"
        )
    s = a.session
    return s.structural(ir.TraceOp(s.materialise(a)), [a])


def logsumexp(a, axis=None, keepdims=False):
    return _reduce(ir.LogSumExp, a, axis, keepdims)


def log_softmax(a, axis=-1):
    s = a.session
    axes = _axes(a, axis)
    expr = ir.LogSoftmax(s.materialise(a), ir.static(axes), ir.static(len(a.shape_)))
    return s.structural(expr, [a])


# gradgen.functions, traced: the stable forms the numerics stage would make
STABLE = {
    "sigmoid": lambda a: a._elementwise(Sigmoid, a),
    "softplus": lambda a: a._elementwise(Softplus, a),
    "logsumexp": logsumexp,
    "log_softmax": log_softmax,
}


def _outside_structural(expr: sp.Basic):
    """The subexpressions of ``expr`` not inside a structural operation, outermost first."""
    yield expr
    if not isinstance(expr, ir.Structural):
        for arg in expr.args:
            yield from _outside_structural(arg)


def untangled(cond: sp.Basic) -> sp.Basic:
    """``cond`` without selects inside it: a comparison of a select, f(where(c, a, b)) < t,
    as ITE(c, f(a) < t, f(b) < t). SymPy would fold and simplify it when it builds the
    select on it, and its simplification can recurse without end (log(p - 0.69) < h);
    written by hand because piecewise_fold always simplifies."""
    if not cond.has(sp.Piecewise):
        return cond
    if isinstance(cond, sp.core.relational.Relational):
        # Not a select inside @ or a sum: its condition may be an array (structural
        # operations are nodes while tracing, so none is here)
        select = next(
            (e for e in _outside_structural(cond) if isinstance(e, sp.Piecewise)), None
        )
        if select is None:
            return cond
        (a, c), rest = select.args[0], select.args[1:]
        other = rest[0][0] if len(rest) == 1 else sp.Piecewise(*rest)
        return sp.ITE(
            untangled(c),
            untangled(_compared(cond, {select: a})),
            untangled(_compared(cond, {select: other})),
        )
    return cond.func(*[untangled(arg) for arg in cond.args])


def _compared(cond: sp.Basic, mapping: dict) -> sp.Basic:
    """The comparison ``cond`` with ``mapping`` put in. A side that is then not real
    (log(-1/2), where a select's branch meets a value its condition rules out) is nan in
    NumPy, and compares as nan does: false, and true for ``!=``. SymPy refuses to build
    a comparison of a non-real."""
    lhs, rhs = cond.lhs.xreplace(mapping), cond.rhs.xreplace(mapping)
    if any(side is sp.nan or side.is_extended_real is False for side in (lhs, rhs)):
        return sp.true if isinstance(cond, sp.Ne) else sp.false
    return cond.func(lhs, rhs)


def where(condition, x, y):
    if not (_is_tracer(condition) and condition.is_condition):
        t = _any_tracer(condition, x, y)
        raise t.session.error(
            "np.where needs a comparison of traced values as its condition",
            "e.g. np.where(x > 0, x, 0.1 * x)",
        )
    cond, cond_shape = untangled(condition.expr), condition.shape_
    a, sa = condition._operand(x)
    b, sb = condition._operand(y)
    shape = condition._broadcast(cond_shape, sa, sb)
    return condition._new(sp.Piecewise((a, cond), (b, True)), shape)


def power(a, b):
    """``a**b``. A power of exp(-x - 1) takes |-x - 1| (Pow._eval_power), and SymPy's Abs
    negates its argument: with distribution off (as while compiling), -(-x - 1) stays
    -1*(-x - 1), which Abs negates again, without end (as for functions,
    Tracer._elementwise)."""
    with distribute(True):
        return a**b


ELEMENTWISE = {
    np.add: lambda a, b: a + b,
    np.subtract: lambda a, b: a - b,
    np.multiply: lambda a, b: a * b,
    np.divide: lambda a, b: a / b,
    np.power: power,
    np.negative: lambda a: -a,
    np.positive: lambda a: a,
    np.square: lambda a: power(a, 2),
    np.exp: sp.exp,
    np.log: sp.log,
    np.log1p: log1p,
    np.expm1: expm1,
    np.logaddexp: lambda a, b: a + Softplus(b - a),
    np.sqrt: lambda a: power(a, sp.Rational(1, 2)),
    np.sin: sp.sin,
    np.cos: sp.cos,
    np.tan: sp.tan,
    np.tanh: sp.tanh,
    np.sinh: sp.sinh,
    np.cosh: sp.cosh,
    np.arcsin: sp.asin,
    np.arccos: sp.acos,
    np.arctan: sp.atan,
    np.absolute: sp.Abs,
    np.maximum: sp.Max,
    np.minimum: sp.Min,
}

COMPARISONS = {
    np.greater: sp.Gt,
    np.greater_equal: sp.Ge,
    np.less: sp.Lt,
    np.less_equal: sp.Le,
    np.equal: sp.Eq,
    np.not_equal: sp.Ne,
}


def _is_size(value) -> bool:
    return ir.of_sizes(value) and bool(value.free_symbols)


class _SizeUfunc:
    """A NumPy ufunc, while a model is traced, that also takes dimension sizes.

    NumPy dispatches a ufunc to a tracer (``__array_ufunc__``) but not to a size read from
    ``x.shape`` (a SymPy expression over dimension symbols): ``np.sin(x.shape[0])`` would
    reach NumPy's object loop and fail. Each size becomes a 0-d traced constant first, so
    the call goes through ``Tracer.__array_ufunc__`` like any other; everything else
    (``np.add.reduce``, ``np.sin.__name__``) is the ufunc's own."""

    def __init__(self, ufunc, session):
        self._ufunc, self._session = ufunc, session

    def __call__(self, *inputs, **kwargs):
        if any(_is_size(v) for v in inputs):
            s = self._session
            inputs = [
                _tracer.Tracer(v, (), s, s.site()) if _is_size(v) else v for v in inputs
            ]
        return self._ufunc(*inputs, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ufunc, name)


def size_ufuncs(session) -> dict:
    """Replacements, by NumPy name, for the ufuncs the tracer knows (see ``_SizeUfunc``)."""
    return {name: _SizeUfunc(ufunc, session) for name, ufunc in _KNOWN_UFUNCS.items()}


# every NumPy name of a ufunc in the tables (np.abs and np.absolute are one ufunc)
_KNOWN_UFUNCS = {
    name: obj
    for name, obj in sorted(vars(np).items())
    if isinstance(obj, np.ufunc) and obj in ELEMENTWISE.keys() | COMPARISONS.keys()
}

FUNCTIONS = {
    np.sum: sum_,
    np.mean: mean,
    np.max: max_,
    np.amax: max_,
    np.dot: dot,
    np.transpose: transpose,
    np.trace: trace,
    np.where: where,
    **numpy_arrays.FUNCTIONS,
}


NOTES = {
    np.sum: "axis (an int, negative, or a tuple), keepdims; also of a list of arrays",
    np.mean: "axis, keepdims",
    np.max: "axis, keepdims; ties share the gradient equally",
    np.amax: "as np.max",
    np.dot: "1-D and 2-D arrays",
    np.transpose: "2-D arrays",
    np.trace: "2-D arrays",
    np.where: "np.where(condition, a, b); the branch not taken adds 0 to gradients",
    np.concatenate: "a list or tuple of arrays, axis",
    np.stack: "a list or tuple of arrays (or numbers), axis",
    np.reshape: "one dimension may be -1",
    np.squeeze: "axis, or every axis of size 1",
    np.expand_dims: "axis (an int or a tuple)",
    np.linalg.norm: "the 2-norm (Frobenius), axis, keepdims; gradient 0 at 0",
    np.logaddexp: "as log(exp(a) + exp(b)), without overflow",
    np.maximum: "ties send the gradient to both",
    np.minimum: "ties send the gradient to both",
}

SYNTAX = [
    ("+ - * / ** and unary -", "with NumPy broadcasting; also abs()"),
    ("@", "matmul of 1-D and 2-D arrays"),
    ("> >= < <= == != & | ~", "comparisons: conditions of np.where and of if"),
    ("+= -= *= /= **=", "in place, also on a slice (x[1:] += v)"),
    ("x[i], x[1:], x[::2], X[:, 0], x[..., None]", "constant indices and slices"),
    ("y[key] = v", "writes into an array (not into a view of one)"),
    ("if / elif / else on a traced comparison", "both branches run: np.where selects"),
    ("a if cond else b, and, or, not, 0 < x < 1", "in conditions, as for if"),
    ("for over range(...), a tuple, or an array of fixed length", "unrolled"),
    ("len(x), x.shape[i]", "the fixed size, or the dimension's name"),
    ("np.pi, Python numbers", "constants"),
]


def _name(f) -> str:
    return _tracer.numpy_name(f)


def supported_operations() -> list[tuple[str, str, str]]:
    """(section, call, note) for every NumPy call, operator and array attribute the tracer
    accepts, read from the dispatch tables themselves (so the list cannot drift from
    them)."""
    from . import functions

    rows = [("Python syntax", call, note) for call, note in SYNTAX]
    rows += [("Elementwise", _name(f), NOTES.get(f, "")) for f in ELEMENTWISE]
    rows += [("Elementwise", "np.matmul", "as @")]
    rows += [("Comparisons", _name(f), "a condition") for f in COMPARISONS]
    for f in FUNCTIONS:
        section = "Arrays" if f in numpy_arrays.FUNCTIONS else "Reductions and products"
        rows.append((section, _name(f), NOTES.get(f, "")))
    rows += [
        ("Creating arrays", f"np.{n}", "shapes of integers and dimension names")
        for n in sorted(numpy_arrays.CREATION)
        if n not in ("sum",)
    ]
    internal = set(_tracer.Tracer.__slots__)
    for n in dir(_tracer.Tracer):
        if not n.startswith("_") and n not in internal:
            rows.append(("Array attributes and methods", f"x.{n}", ""))
    rows += [
        (
            "gradgen.functions",
            f"gradgen.functions.{n}",
            "stable; plain NumPy at run time",
        )
        for n in functions.__all__
    ]
    seen, out = set(), []
    for row in rows:
        if row[1] not in seen:
            seen.add(row[1])
            out.append(row)
    return out


def operations_source() -> str:
    """The text of ``gradgen/operations.py``: ``supported_operations()`` as a literal, so
    that ``gradgen ops`` prints it without importing NumPy, SymPy or the tracer (a test
    checks the committed file against the tables)."""
    from .format import format_source

    doc = (
        "The supported operations, (section, call, note), as ``gradgen ops`` prints "
        "them.\n\nGenerated from gradgen's dispatch tables; do not edit. Regenerate "
        "with:\n\n    python -m gradgen.numpy_api > gradgen/operations.py\n"
    )
    return format_source(f'"""{doc}"""\n\nROWS = {supported_operations()!r}\n')


if __name__ == "__main__":
    print(operations_source(), end="")
