"""Integer data made inside a model: ``Arange`` (``np.arange``), ``ArgMax`` / ``ArgMin``
(``np.argmax``, ``x.argmin()``), ``ArgSort`` (``np.argsort``; ``np.sort`` is a gather by
it, in ``gather``), and ``AsFloat``, integer data as floats where it meets
them (``y.astype(dtype)``). Integers are data: these operations have no derivative and
a zero tangent, and their results index arrays (``gather``). Each operation in one place:
shape, rules, code, text and LaTeX, and how it traces.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.ir import ShapeError
from gradgen.ops.tracing import axis as read_axis
from gradgen.ops.tracing import static_int
from gradgen.traced import indicator


class _Integers(ir.Structural):
    """Integer data made from other values: no derivative, zero tangent. Printed as the
    NumPy call ``np.<numpy_name>(<_arguments>)``, in formulas without ``np.``."""

    numpy_name = ""

    @staticmethod
    def vjp(g, ans, *args, shape):
        return (None,) * len(args)

    @staticmethod
    def jvp(t, ans, *args, shape):
        return None

    def _arguments(self, p, array_api: bool = False) -> str:
        raise NotImplementedError

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p.np}.{self.numpy_name}({self._arguments(p, p.array_api)})"

    def _gradgen_text(self, p, **kwargs):
        return f"{self.numpy_name}({self._arguments(p)})"

    def _gradgen_latex(self, p, **kwargs):
        return rf"\operatorname{{{self.numpy_name}}}\left({self._arguments(p)}\right)"


class AsFloat(ir.Structural):
    """Integer data as floats of the function's float type (``y.astype(dtype)``), where
    it meets floats: NumPy would make float32 times an int64 array float64. Data: no
    derivative."""

    nargs = 2  # the array, and 1 when it has axes (a number is dtype.type(k))
    vjp = staticmethod(_Integers.vjp)
    jvp = staticmethod(_Integers.jvp)

    def out_shape(self, shapes):
        return shapes[0]

    def _gradgen_numpy(self, p, **kwargs):
        a, axes = self.args
        if axes:
            if p.array_api:
                return f"{p.np}.astype({p._print(a)}, {p.dtype})"
            return f"{p.postfix(a)}.astype({p.dtype})"
        return p.typed(p._print(a))

    def _gradgen_text(self, p, **kwargs):  # a number is a number in the formulas
        return p._print(self.args[0])

    _gradgen_latex = _gradgen_text


class Arange(_Integers):
    """``np.arange(start, stop, step)``: integers; the arguments are sizes."""

    nargs = 3
    array_args = 0
    numpy_name = "arange"

    def out_shape(self, shapes):
        start, stop, step = self.args
        if all(v.is_Integer for v in self.args):
            return (sp.Integer(len(range(int(start), int(stop), int(step)))),)
        if step != 1:
            raise ShapeError("np.arange with a step needs bounds of fixed size")
        return (sp.expand(stop - start),)

    def _arguments(self, p, array_api: bool = False) -> str:
        start, stop, step = self.args
        shown = [stop] if start == 0 and step == 1 else [start, stop]
        shown += [step] if step != 1 else []
        return ", ".join(p._print(v) for v in shown)


class ArgMax(_Integers):
    """``np.argmax(a, axis)``: the position of the largest entry (the first of equal
    ones); ``axis`` -1 for the position in the flattened array."""

    nargs = 2
    numpy_name = "argmax"

    def out_shape(self, shapes):
        axis = int(self.args[1])
        return () if axis < 0 else shapes[0][:axis] + shapes[0][axis + 1 :]

    def _arguments(self, p, array_api: bool = False) -> str:
        axis = int(self.args[1])
        return p._print(self.args[0]) + ("" if axis < 0 else f", axis={axis}")


class ArgMin(ArgMax):
    """``np.argmin(a, axis)``: the position of the smallest entry."""

    numpy_name = "argmin"


class ArgSort(_Integers):
    """``np.argsort(a, axis, kind)``: the positions that sort ``a`` along ``axis``, with
    NumPy's ``kind`` as written ("" for its default) so that equal entries come in the
    same order as in the model's NumPy."""

    nargs = 3
    numpy_name = "argsort"

    def out_shape(self, shapes):
        return shapes[0]

    def _arguments(self, p, array_api: bool = False) -> str:
        a, axis, kind = self.args
        text = f"{p._print(a)}, axis={int(axis)}"
        if array_api:  # the Array API's argsort is stable unless told otherwise
            return text
        return text + (f", kind={str(kind.name)!r}" if kind.name else "")


# --- tracing ---------------------------------------------------------------------------


def arange_of(session, start, stop, step):
    values = [
        sp.sympify(int(v) if isinstance(v, np.integer) else v)
        for v in (start, stop, step)
    ]
    return session.structural(Arange(*values), [], integer=True)


@dispatch.creation(
    "arange",
    (
        "Creating arrays",
        "np.arange",
        "bounds of integers and sizes: integer data (indices); dtype=float: floats",
    ),
)
def _arange(session):
    def arange(start, stop=None, step=1, dtype=None):
        if stop is None:
            start, stop = 0, start
        for v in (start, stop, step):
            if not static_int(v):
                raise session.error(
                    f"np.arange({v!r}): the bounds of np.arange are integers or sizes",
                    "np.arange(n) with n = x.shape[0] gives the integers 0 to n - 1",
                )
        if step == 0 or not sp.sympify(step).is_Integer:
            raise session.error("np.arange needs a nonzero integer step")
        made = arange_of(session, start, stop, step)
        try:
            kind = np.dtype(dtype).kind if dtype is not None else "i"
        except TypeError:
            kind = None
        if kind == "f":  # floats: no longer indices
            return dispatch.METHODS["astype"](made, float)
        if kind not in ("i", "u"):
            raise session.error(
                f"np.arange with dtype={getattr(dtype, '__name__', dtype)!s}",
                "leave dtype out (integers), or give dtype=float",
            )
        return made

    return arange


def _arg_extreme(cls):
    def impl(a, axis=None, out=None, keepdims=False):
        if out is not None or keepdims:
            raise a.session.error(
                f"np.{cls.numpy_name}: out= and keepdims= are not supported"
            )
        k = -1 if axis is None else read_axis(a, axis, len(a.shape_))
        s = a.session
        return s.structural(cls(s.materialise(a), sp.Integer(k)), [a], integer=True)

    return impl


SORT_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def argsort_of(a, axis, kind, order, stable, name: str):
    """``np.argsort(a, axis, kind)`` traced: integers; ``axis=None`` sorts the flattened
    array. ``name`` is the call the model wrote (np.sort, np.argsort), for errors."""
    if order is not None or stable is not None:
        raise a.session.error(f"{name}: order= and stable= are not supported", "use kind=")
    if kind not in SORT_KINDS:
        raise a.session.error(f"{name}: kind={kind!r} is not one of NumPy's sorts")
    if axis is None:
        a, axis = dispatch.METHODS["reshape"](a, (-1,)), 0
    if not a.shape_:
        raise a.session.error(f"{name} needs an array", "sort an array's entries")
    k = read_axis(a, axis, len(a.shape_))
    s = a.session
    node = ArgSort(s.materialise(a), sp.Integer(k), sp.Symbol(kind or ""))
    return a, k, s.structural(node, [a], integer=True)


@dispatch.method("argsort")
@dispatch.numpy(
    np.argsort,
    note="axis (None: of the flattened array), kind; integers (data): usable as indices",
    section="Reductions and products",
)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    return argsort_of(a, axis, kind, order, stable, "np.argsort")[2]


@dispatch.method("astype")
def astype(a, dtype, copy=True):
    """``x.astype(float)``: integer data as floats; a comparison as a number (1 where it
    holds, else 0; also .astype(int), whose 0 and 1 are computed as floats); floats stay
    floats (the generated code computes in the arguments' float type); .astype(bool)
    true where not 0. Floats made integers would have no derivative: refused."""
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        raise a.session.error(
            f".astype({getattr(dtype, '__name__', dtype)!s}) is not supported",
            "write .astype(float), or leave it out",
        ) from None
    if kind == "f":
        if a.is_condition:
            return a._new(indicator(a.expr), a.shape_)
        if not a.integer:
            return a._new(a.expr, a.shape_)
        s = a.session
        node = AsFloat(s.materialise(a), sp.Integer(bool(a.shape_)))
        return s.structural(node, [a])
    if kind in "iu" and a.integer:
        return a._new(a.expr, a.shape_, integer=True)
    if kind in "iu" and a.is_condition:
        # 1 where it holds, else 0: whole numbers, computed as floats (not indices)
        made = a._new(indicator(a.expr), a.shape_)
        made.whole = True
        return made
    if kind == "b":  # as NumPy: true where not 0
        return a._new(a.expr, a.shape_, True) if a.is_condition else a != 0
    raise a.session.error(
        f".astype({np.dtype(dtype).name}) of {'integers' if a.integer else 'floats'}",
        "floats made integers have no derivative: compute indices from integer data "
        "(Array['n', int], np.arange, np.argmax)",
    )


argmax = dispatch.numpy(
    np.argmax,
    note="integers (data): usable as indices",
    section="Reductions and products",
)(_arg_extreme(ArgMax))
argmin = dispatch.numpy(
    np.argmin,
    note="integers (data): usable as indices",
    section="Reductions and products",
)(_arg_extreme(ArgMin))
dispatch.METHODS.update(argmax=argmax, argmin=argmin)
