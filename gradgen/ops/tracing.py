"""What the operations' tracing functions share: telling tracers from constants, reading
axes and shapes the way NumPy does, reporting shape errors at the user's line; and, for
the trace, the NumPy functions swapped in while a model runs.

Takes tracers and NumPy-style arguments; returns tracers, axes and shapes. Knows no
calculus (the ``Tracer`` and the dispatch tables only).
"""

from __future__ import annotations

import contextlib

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.ir import ShapeError
from gradgen.traced import Tracer


def is_tracer(value) -> bool:
    return isinstance(value, Tracer)


def as_tracer(value, like: Tracer) -> Tracer:
    """``value`` as a tracer (a constant becomes one), in ``like``'s trace."""
    if is_tracer(value):
        return value
    expr, shape = like._operand(value)
    return like._new(expr, shape)


def any_tracer(*values) -> Tracer:
    return next(v for v in values if is_tracer(v))


def holds_tracer(items) -> bool:
    """Whether a (nested) list or tuple holds a tracer."""
    return any(
        is_tracer(i) or isinstance(i, (list, tuple)) and holds_tracer(i) for i in items
    )


def shape_error(t: Tracer, exc: ShapeError):
    return t.session.error(str(exc), "give equal sizes the same dimension name")


def static_int(b) -> bool:
    """An integer, or a size read from ``x.shape``: a constant of the model."""
    if isinstance(b, (bool, np.bool_)):
        return False
    if isinstance(b, (int, np.integer)):
        return True
    return ir.of_sizes(b)


def axis(t: Tracer, value, ndim: int) -> int:
    """One axis of ``ndim`` dimensions, negative counting from the end."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise t.session.error(f"axis={value!r} must be an integer")
    k = int(value) + ndim if value < 0 else int(value)
    if not 0 <= k < ndim:
        raise t.session.error(f"axis {value} is out of range for {ndim} dimensions")
    return k


def axes(a: Tracer, value) -> list[int]:
    """The axes of a reduction's ``axis=``: None (all), an int, or a tuple of ints."""
    ndim = len(a.shape_)
    if value is None:
        return list(range(ndim))
    items = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for item in items:
        if not isinstance(item, (int, np.integer)) or isinstance(item, bool):
            raise a.session.error(
                f"axis={value!r} must be an integer or a tuple of integers"
            )
        k = int(item) + ndim if item < 0 else int(item)
        if not 0 <= k < ndim or k in out:
            raise a.session.error(
                f"axis {item} is out of range (or repeated) for an array of "
                f"shape {ir.shape_str(a.shape_)}"
            )
        out.append(k)
    return out


def dims(session, shape) -> tuple:
    """A shape argument (``(n, 3)``, ``n``) as SymPy sizes; -1 stays for reshape."""
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    for d in items:
        if not static_int(d) or (isinstance(d, (int, np.integer)) and d < -1):
            raise session.error(
                f"the shape {shape!r} is not a tuple of sizes and dimension names"
            )
    return tuple(sp.sympify(int(d) if isinstance(d, np.integer) else d) for d in items)


# --- while a model runs ----------------------------------------------------------------


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
            inputs = [Tracer(v, (), s, s.site()) if _is_size(v) else v for v in inputs]
        return self._ufunc(*inputs, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ufunc, name)


def _size_ufuncs(session) -> dict:
    """Replacements, by NumPy name, for the ufuncs the tracer knows (np.abs and
    np.absolute are one ufunc): see ``_SizeUfunc``."""
    known = dispatch.ELEMENTWISE.keys() | dispatch.COMPARISONS.keys()
    return {
        name: _SizeUfunc(obj, session)
        for name, obj in sorted(vars(np).items())
        if isinstance(obj, np.ufunc) and obj in known
    }


@contextlib.contextmanager
def patched(session, model_globals: dict | None = None):
    """NumPy's functions that NumPy cannot dispatch to a tracer (``np.zeros``, a ufunc of
    a size), replaced by traced ones while a model runs: in NumPy's namespace and, for
    ``from numpy import zeros, r_``, under the model's own names in ``model_globals``."""
    replacements = {name: make(session) for name, make in dispatch.CREATION.items()}
    replacements.update(_size_ufuncs(session))
    saved = {name: getattr(np, name) for name in replacements}
    by_id = {id(fn): replacements[name] for name, fn in saved.items()}
    imported = {
        name: value
        for name, value in (model_globals or {}).items()
        if id(value) in by_id and value is not np
    }
    try:
        for name, fn in replacements.items():
            setattr(np, name, fn)
        for name, value in imported.items():
            model_globals[name] = by_id[id(value)]
        yield
    finally:
        for name, fn in saved.items():
            setattr(np, name, fn)
        if imported:
            model_globals.update(imported)
