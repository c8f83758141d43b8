"""The traced value: a SymPy expression over IR symbols, with its shape.

Python operators, NumPy ufuncs (``__array_ufunc__``) and NumPy functions
(``__array_function__``) on a ``Tracer`` build new tracers; the NumPy calls, ufuncs and array
methods it understands are in the ``dispatch`` tables, which the operations of
``gradgen.ops`` fill. Anything else is refused with the user's file:line. Knows no calculus.
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.errors import GradgenError
from gradgen.ir import PARTIAL, PARTIAL_HINT, ShapeError
from gradgen.selects import indicator

OPS_HINT = "`gradgen ops` lists the supported operations"


def constant(value) -> sp.Expr:
    """A Python or NumPy number as an exact SymPy number where that is exact and short."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return sp.Integer(int(value))
    v = float(value)
    if not math.isfinite(v):
        raise GradgenError(
            f"the constant {v} is not finite",
            hint="a model's constants are finite numbers; for a starting value or a "
            "mask, use a large finite one such as -1e300, or np.where",
        )
    if v == math.pi:
        return sp.pi
    if v.is_integer() and abs(v) < 2**53:
        return sp.Integer(int(v))
    num, den = v.as_integer_ratio()
    if den <= 1024:
        return sp.Rational(num, den)
    return sp.Float(v)


def numpy_name(func) -> str:
    if isinstance(func, np.ufunc):
        return f"np.{func.__name__}"
    module = getattr(func, "__module__", None) or "numpy"
    module = "np" + module[len("numpy") :] if module.startswith("numpy") else module
    return f"{module}.{getattr(func, '__name__', repr(func))}"


class Tracer:
    """A traced value: a SymPy expression over node symbols, with its shape."""

    # base: for a view (a slice, transpose or reshape), what it views; written: set when
    # an in-place operation on a view wrote through to its array; integer: it holds
    # integers (data: labels, indices), never differentiated.
    __slots__ = tuple(
        "expr shape_ session site is_condition base written integer partial whole".split()
    )
    __array_priority__ = 1000
    # Above SymPy's Expr (10): a dimension size (a SymPy symbol, from x.shape[i]) on the
    # left of an operator then defers to the Tracer's reflected method (n - x).
    _op_priority = 20.0

    def __init__(
        self, expr, shape, session, site: ir.Site, is_condition=False, integer=False
    ):
        self.expr = expr
        self.shape_ = tuple(shape)
        self.session = session
        self.site = site
        self.is_condition = is_condition
        self.base = None
        self.written = None
        self.integer = integer
        # partial: infinite or undefined where a condition fails (1 / (x > 0)), for
        # np.where to pick from; no other operation takes it (x - x would drop the nan)
        self.partial = False
        # whole: NumPy holds it as integers (np.zeros(n, dtype=int)) though gradgen
        # computes it as floats; what is written into it is made whole, as NumPy does
        self.whole = False

    # --- operands ---------------------------------------------------------------
    def _operand(self, value, partial=False):
        if isinstance(value, Tracer):
            if value.partial and not partial:
                raise self.session.error(PARTIAL, PARTIAL_HINT)
            if value.is_condition:  # as NumPy's booleans: 1 where true, else 0
                return indicator(value.expr), value.shape_
            return value.expr, value.shape_
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)):
            raise self.session.error(
                "a boolean is used as a number", "write 1.0 or 0.0"
            )
        if isinstance(value, (int, float, np.integer, np.floating)):
            try:
                return constant(value), ()
            except GradgenError as exc:
                raise exc.located(
                    self.session.model.path, self.session.user_line()
                ) from None
        if ir.of_sizes(value):
            return value, ()
        if isinstance(value, np.ndarray):  # a constant array: a node of its own
            return self._operand(dispatch.OPERANDS[np.ndarray](self, value))
        raise self.session.error(
            f"a {type(value).__name__} cannot be used in a traced " "computation",
            OPS_HINT,
        )

    def _new(self, expr, shape, is_condition=False, integer=False) -> "Tracer":
        if _undefined(expr):  # SymPy folded x/0 or log(0): no number is right
            raise self.session.error(
                "this value is infinite or undefined for every input (a division by "
                "zero, or the log of zero)",
                "divide by, or take the log of, a value that is not always zero",
            )
        site = self.session.site()
        made = Tracer(expr, shape, self.session, site, is_condition, integer)
        made.partial = expr.has(sp.zoo, sp.nan)
        return made

    def _broadcast(self, *shapes):
        try:
            return ir.broadcast_shapes(*shapes)
        except ShapeError as exc:
            raise self.session.error(
                str(exc), "give equal sizes the same dimension name"
            ) from None

    def _elementwise(self, fn, *values, is_condition=False, integral=False) -> "Tracer":
        """``fn`` of ``values``, broadcast; ``integral``: integers give an integer
        (+, -, *), so the result of integer values and Python ints is integer data."""
        if integral and all(_integral(v) for v in values):
            parts = [self._operand(v) for v in values]
            shape = self._broadcast(*[s for _, s in parts])
            return self._new(fn(*[e for e, _ in parts]), shape, integer=True)
        if not is_condition and sum(map(is_boolean, values)) > 1:
            # NumPy's bool + bool is their or, bool * bool their and, bool - bool an error
            raise self.session.error(
                "arithmetic on two comparisons (other than + and *, their or and and)",
                "combine them with & or |, or make each a number first with "
                ".astype(float)",
            )
        if not is_condition:  # integer data meets floats: of the floats' type
            values = [_as_float(v) for v in values]
        parts = [self._operand(v) for v in values]
        shape = self._broadcast(*[s for _, s in parts])
        if fn is sp.Abs and _nonnegative_power(parts[0][0]):
            # |b**e| is b**e for b >= 0 and a real e; SymPy, unsure that tanh(log(s + 2))
            # is real, writes |b|**re(e), expanded into re, im and arg, which NumPy code
            # cannot print
            return self._new(parts[0][0], shape, is_condition)
        return self._new(fn(*[e for e, _ in parts]), shape, is_condition)

    def _logic(self, fn, *values) -> "Tracer":
        values = [_mask(self, v) for v in values]
        for v in values:
            if not (isinstance(v, Tracer) and v.is_condition):
                raise self.session.error(
                    "&, |, ^ and ~ combine comparisons and boolean masks only",
                    "compare first, e.g. (x > 0) & (x < 1)",
                )
        shape = self._broadcast(*[v.shape_ for v in values])
        return self._new(fn(*[v.expr for v in values]), shape, True)

    # --- Python operators ---------------------------------------------------------
    # NumPy's bool + bool is their or, bool * bool their and
    def __add__(self, o):
        if is_boolean(self) and is_boolean(o):
            return self._logic(sp.Or, self, o)
        return self._elementwise(lambda a, b: a + b, self, o, integral=True)

    def __radd__(self, o):
        if is_boolean(self) and is_boolean(o):
            return self._logic(sp.Or, o, self)
        return self._elementwise(lambda a, b: a + b, o, self, integral=True)

    def __sub__(self, o):
        return self._elementwise(lambda a, b: a - b, self, o, integral=True)

    def __rsub__(self, o):
        return self._elementwise(lambda a, b: a - b, o, self, integral=True)

    def __mul__(self, o):
        if is_boolean(self) and is_boolean(o):
            return self._logic(sp.And, self, o)
        return self._elementwise(lambda a, b: a * b, self, o, integral=True)

    def __rmul__(self, o):
        if is_boolean(self) and is_boolean(o):
            return self._logic(sp.And, o, self)
        return self._elementwise(lambda a, b: a * b, o, self, integral=True)

    def __truediv__(self, o):
        return self._elementwise(lambda a, b: a / b, self, o)

    def __rtruediv__(self, o):
        return self._elementwise(lambda a, b: a / b, o, self)

    def __mod__(self, o):
        return self._elementwise(dispatch.METHODS["__mod__"], self, o)

    def __rmod__(self, o):
        return self._elementwise(dispatch.METHODS["__mod__"], o, self)

    def __floordiv__(self, o):
        return self._elementwise(dispatch.METHODS["__floordiv__"], self, o)

    def __rfloordiv__(self, o):
        return self._elementwise(dispatch.METHODS["__floordiv__"], o, self)

    def __pow__(self, o):
        self._integer_power(self, o)
        return self._elementwise(dispatch.METHODS["__pow__"], self, o)

    def __rpow__(self, o):
        self._integer_power(o, self)
        return self._elementwise(dispatch.METHODS["__pow__"], o, self)

    def _integer_power(self, base, exponent) -> None:
        """NumPy refuses integers to negative integer powers (y ** -1 of integer data)."""
        if (
            isinstance(base, Tracer)
            and base.integer
            and isinstance(exponent, (int, np.integer))
            and not isinstance(exponent, bool)
            and exponent < 0
        ):
            raise self.session.error(
                "integers to a negative integer power (NumPy refuses it)",
                "make them floats first: y.astype(float) ** -1",
            )

    def __neg__(self):
        if self.is_condition:  # NumPy refuses -bool
            raise self.session.error(
                "the negative of a comparison",
                "~(cond) is its negation; -(cond).astype(float) is -1 where it holds",
            )
        return self._elementwise(lambda a: -a, self, integral=True)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._elementwise(sp.Abs, self)

    def __matmul__(self, o):
        return dispatch.METHODS["__matmul__"](self, o)

    def __rmatmul__(self, o):
        return dispatch.METHODS["__matmul__"](o, self)

    def __gt__(self, o):
        return self._elementwise(sp.Gt, self, o, is_condition=True)

    def __ge__(self, o):
        return self._elementwise(sp.Ge, self, o, is_condition=True)

    def __lt__(self, o):
        return self._elementwise(sp.Lt, self, o, is_condition=True)

    def __le__(self, o):
        return self._elementwise(sp.Le, self, o, is_condition=True)

    def __eq__(self, o):
        return self._elementwise(sp.Eq, self, o, is_condition=True)

    def __ne__(self, o):
        return self._elementwise(sp.Ne, self, o, is_condition=True)

    def __and__(self, o):
        return self._logic(sp.And, self, o)

    def __or__(self, o):
        return self._logic(sp.Or, self, o)

    def __xor__(self, o):
        return self._logic(sp.Xor, self, o)

    def __rand__(self, o):
        return self._logic(sp.And, o, self)

    def __ror__(self, o):
        return self._logic(sp.Or, o, self)

    def __rxor__(self, o):
        return self._logic(sp.Xor, o, self)

    def __invert__(self):
        return self._logic(sp.Not, self)

    __hash__ = object.__hash__

    def __bool__(self):
        raise self.session.error(
            "a Python if, while, and/or or comparison chain depends on a traced value",
            "use np.where(cond, a, b); the branch taken cannot depend on the data",
        )

    def _no_conversion(self, *args):
        raise self.session.error(
            "a traced value is converted to a Python number "
            "(float(), int() or a math.* function)",
            "use the np.* function instead",
        )

    __float__ = __int__ = __index__ = __complex__ = _no_conversion

    def __array__(self, *args, **kwargs):
        raise self.session.error(
            "a traced value is turned into a NumPy array "
            "(an unsupported call, or a list of traced values)",
            "make a list of traced values an array with np.stack first; " + OPS_HINT,
        )

    def __getitem__(self, key):
        return dispatch.METHODS["__getitem__"](self, key)

    def __setitem__(self, key, value):
        dispatch.METHODS["__setitem__"](self, key, value)

    def __iter__(self):
        return dispatch.METHODS["__iter__"](self)

    def __len__(self):
        if self.shape_ and self.shape_[0].is_Integer:
            return int(self.shape_[0])
        raise self.session.error(
            "len() of an array whose first dimension is symbolic",
            "use x.shape[0], which is the symbolic size",
        )

    def __iadd__(self, o):
        return dispatch.METHODS["__iadd__"](self, o)

    def __isub__(self, o):
        return dispatch.METHODS["__isub__"](self, o)

    def __imul__(self, o):
        return dispatch.METHODS["__imul__"](self, o)

    def __itruediv__(self, o):
        return dispatch.METHODS["__itruediv__"](self, o)

    def __ipow__(self, o):
        return dispatch.METHODS["__ipow__"](self, o)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if (
            name in dispatch.METHODS
        ):  # an array method an operation registered (x.cumsum)
            return functools.partial(dispatch.METHODS[name], self)
        hint = dispatch.REWRITES.get(f"x.{name}", OPS_HINT)
        raise self.session.error(
            f"the array attribute or method .{name} is not supported", hint
        )

    def __repr__(self):
        return f"Tracer({self.expr}, shape={self.shape_})"

    # --- array attributes and methods -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(int(d) if d.is_Integer else d for d in self.shape_)

    @property
    def ndim(self) -> int:
        return len(self.shape_)

    @property
    def size(self):
        size = ir.size_of(self.shape_)
        return int(size) if size.is_Integer else size

    @property
    def T(self):
        return dispatch.METHODS["transpose"](self)

    def reshape(self, *shape, order="C"):
        return dispatch.METHODS["reshape"](
            self, shape[0] if len(shape) == 1 else shape, order
        )

    def ravel(self):
        return dispatch.METHODS["reshape"](self, (-1,))

    flatten = ravel

    def squeeze(self, axis=None):
        return dispatch.METHODS["squeeze"](self, axis)

    def copy(self):
        return dispatch.METHODS["copy"](self)

    def transpose(self, *axes):
        return dispatch.METHODS["transpose"](self, axes or None)

    def sum(self, axis=None, keepdims=False):
        return dispatch.METHODS["sum"](self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return dispatch.METHODS["mean"](self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return dispatch.METHODS["max"](self, axis, keepdims)

    def dot(self, other):
        return dispatch.METHODS["dot"](self, other)

    def _stable(self, name: str, *args):
        """A function of ``gradgen.functions`` applied to this traced value."""
        return dispatch.STABLE[name](self, *args)

    # --- NumPy protocols ----------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = numpy_name(ufunc)
        if method != "__call__":
            raise self._refused(f"{name}.{method}")
        if kwargs:
            raise self.session.error(
                f"{name}: argument {next(iter(kwargs))}= is not supported",
                "call it with positional arrays only",
            )
        if ufunc is np.matmul:
            return dispatch.METHODS["__matmul__"](*inputs)
        if ufunc is _POWER and len(inputs) == 2:
            self._integer_power(*inputs)
        if ufunc in dispatch.ELEMENTWISE:
            if ufunc in _NO_BOOLEAN_LOOP and is_boolean(inputs[0]):
                raise self.session.error(  # as NumPy, which has no loop for booleans
                    f"{name} of a comparison or mask",
                    "make it a number first with .astype(float)",
                )
            made = self._elementwise(dispatch.ELEMENTWISE[ufunc], *inputs)
            # NumPy's np.floor, np.ceil and np.abs of booleans are booleans
            return kept_mask(inputs, made) if ufunc in _BOOLEAN_KEPT else made
        if ufunc in dispatch.COMPARISONS:
            return self._elementwise(
                dispatch.COMPARISONS[ufunc], *inputs, is_condition=True
            )
        if ufunc in dispatch.LOGIC:
            return self._logic(dispatch.LOGIC[ufunc], *inputs)
        if ufunc in (np.add, np.multiply) and all(map(is_boolean, inputs)):
            return self._logic(sp.Or if ufunc is np.add else sp.And, *inputs)
        raise self._refused(name)

    def _refused(self, name: str) -> GradgenError:
        """The error for a NumPy call not traced, with a rewrite where there is one."""
        hint = dispatch.REWRITES.get(name, OPS_HINT)
        return self.session.error(f"{name} is not supported", hint)

    def __array_function__(self, func, types, args, kwargs):
        name = numpy_name(func)
        impl = dispatch.FUNCTIONS.get(func)
        if impl is None:
            raise self._refused(name)
        try:
            inspect.signature(impl).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.session.error(
                f"{name}: {exc}",
                "only the arguments listed by " "`gradgen ops` are supported",
            ) from None
        return impl(*args, **kwargs)


def _undefined(expr) -> bool:
    """Whether ``expr`` is infinite or undefined for every input: SymPy folded a division
    by zero or the log of zero into it (zoo, nan) other than in a branch of a select (a
    value with such a branch is ``partial``)."""
    if isinstance(expr, sp.Piecewise):
        return all(_undefined(e) for e, _ in expr.args)
    if expr in (sp.zoo, sp.nan):
        return True
    return any(_undefined(a) for a in expr.args if isinstance(a, sp.Basic))


# NumPy's own ufuncs (while a model runs, the names in np are the tracer's wrappers)
_POWER = np.power
_BOOLEAN_KEPT = (np.floor, np.ceil, np.absolute)  # np.fabs: float16
_NO_BOOLEAN_LOOP = (np.negative, np.positive, np.sign)


def kept_mask(inputs, result: Tracer) -> Tracer:
    """``result`` of an operation that keeps booleans booleans in NumPy (np.triu, np.pad,
    np.outer, np.max of masks): a mask where every input is one, so that + and * of it
    are or and and, as NumPy's; as it is otherwise."""
    if inputs and all(map(is_boolean, inputs)) and not result.is_condition:
        return result != 0
    return result


def is_boolean(value) -> bool:
    """A comparison, or a boolean constant: NumPy's bool + bool is their or."""
    return _is_condition(value) or (
        isinstance(value, (bool, np.bool_, np.ndarray))
        and np.asarray(value).dtype.kind == "b"
    )


def _mask(t: Tracer, value):
    """A boolean constant (a mask the model holds) as a condition; anything else as it
    is."""
    if not isinstance(value, Tracer) and is_boolean(value):
        return dispatch.OPERANDS[np.ndarray](t, np.asarray(value))
    return value


def _as_float(value):
    """Integer data as floats (``y.astype(dtype)``); anything else as it is."""
    if isinstance(value, Tracer) and value.integer:
        return dispatch.METHODS["astype"](value, float)
    return value


def _integral(value) -> bool:
    """An integer: integer data, a Python or NumPy int, a dimension size."""
    if isinstance(value, Tracer):
        return value.integer
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return ir.of_sizes(value) and value.is_integer is True


def _is_condition(value) -> bool:
    return isinstance(value, Tracer) and value.is_condition


def _nonnegative_power(expr: sp.Expr) -> bool:
    return isinstance(expr, sp.Pow) and bool(expr.base.is_extended_nonnegative)
