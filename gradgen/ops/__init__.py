"""The operations gradgen compiles, one module per family, each operation in one place.

A structural operation (an ``ir.Structural`` class: an opaque array operation whose result
gets its own node) holds, together:

- ``out_shape(shapes)``: its result's shape, or a ``ShapeError``;
- ``vjp(g, ans, *args, shape)`` and ``jvp(t, ans, *args, shape)``: its reverse- and
  forward-mode rules (``ad/partials.py`` says how they are called; ``Linear``, ``Bilinear`` and
  ``arrays.LinearInAll`` give the common JVPs);
- ``_gradgen_numpy(printer)``, ``_gradgen_text(printer)``, ``_gradgen_latex(printer)``: how
  it prints as NumPy code, as plain text and as LaTeX (SymPy's printers call these by
  their ``printmethod``).

An elementwise function (a ``sympy.Function``: its derivative comes from ``fdiff`` through
``sympy.diff``) holds the same three print methods. ``STRUCTURAL`` and ``ELEMENTWISE``
list them all; tests/test_registry.py checks that none lacks a part.

Each family module also registers, in ``gradgen.dispatch``, the NumPy calls that trace to
its operations, with their ``gradgen ops`` notes; importing this package is what makes
them traceable. The families: ``elementwise`` (NumPy's ufuncs, one line each, np.where,
np.clip) with ``scalar`` (the functions SymPy lacks: floor, remainder, clip...),
``arrays`` (made from numbers, broadcast), ``indexing`` (read and write part of an
array), ``reductions``, ``prods`` (np.prod, np.cumprod), ``composed`` (np.var, np.std,
np.diff, from the others), ``shapes`` (reshape, joins, axis orders), ``linear``
(products), ``einsum`` (contractions of N-D arrays, and the tracing of ``@``),
``assembled`` (masks, tiles, pads, splits: compositions of the others), ``rearranged``
(flips, rolls, rotations, more joins and splits, np.gradient: compositions too), ``linalg`` and
``spectral`` and ``svd`` (``np.linalg``), ``stable`` (the numerically stable forms),
``gather`` (reading by integer arrays), ``integers`` (the integer data that indexes:
np.arange, np.argmax); ``gradgen/cli/catalog.py`` lists them all for ``gradgen ops``.
"""

from __future__ import annotations

import numpy
import sympy

from gradgen.errors import GradgenError
from gradgen.ops import (  # noqa: F401 - they register
    composed,
    elementwise,
    rearranged,
    rewrites,
)
from gradgen.ops.arrays import (
    ArrayConstant,
    BroadcastCondition,
    BroadcastTo,
    Eye,
    FullLike,
    broadcast_to,
    zeros,
)
from gradgen.ops.assembled import Linspace, Tri
from gradgen.ops.einsum import Einsum
from gradgen.ops.gather import Gather, PutAt, ScatterAdd
from gradgen.ops.indexing import (
    OMITTED,
    Index,
    Scatter,
    Update,
    array_api_slot,
    decode_key,
    encode_key,
    index_shape,
    key_text,
    reversed_first,
    statement_level,
)
from gradgen.ops.integers import Arange, ArgMax, ArgMin, AsFloat
from gradgen.ops.linalg import Cholesky, Det, DetSign, Inv, LogAbsDet, Pinv, Solve
from gradgen.ops.loops import (
    LOOPS,
    LoopBack,
    LoopBackDot,
    LoopDot,
    LoopPart,
    LoopRun,
    LoopSeed,
    loop_run,
    untaped,
)
from gradgen.ops.linear import MatMul, Outer, TraceOp, Transpose, Vdot
from gradgen.ops.prods import CumProd, ReduceProd
from gradgen.ops.reductions import (
    CumSum,
    ExpandDims,
    IsEqual,
    LogSumExp,
    ReduceMax,
    ReduceMean,
    ReduceMin,
    ReduceSum,
    Reduction,
    expand_dims,
    reduce,
)
from gradgen.ops.scalar import (
    Ceil,
    Clip,
    Floor,
    Hypot,
    Log2,
    Log10,
    Remainder,
    TracedPower,
    ZeroPower,
)
from gradgen.ops.shapes import Concat, Permute, Reshape, Stack, reshape_shape
from gradgen.ops.spectral import EighValues, EighVectors
from gradgen.ops.stable import (
    ComplementOf,
    ComplementOfScalar,
    ExpNegAbs,
    LogSoftmax,
    LogSoftmaxGrad,
    NormRoot,
    ReciprocalOrZero,
    Sigmoid,
    SigmoidAbs,
    SigmoidNegAbs,
    SigmoidOf,
    SigmoidOfScalar,
    Softplus,
    expm1,
    log1p,
)
from gradgen.ops.svd import SvdPart

STRUCTURAL = (
    LoopRun,
    LoopPart,
    LoopBack,
    LoopDot,
    LoopBackDot,
    BroadcastTo,
    BroadcastCondition,
    FullLike,
    Eye,
    Tri,
    Linspace,
    ArrayConstant,
    Index,
    Scatter,
    Update,
    Gather,
    ScatterAdd,
    PutAt,
    Arange,
    AsFloat,
    ArgMax,
    ArgMin,
    ReduceSum,
    ReduceMean,
    ReduceMax,
    ReduceMin,
    ReduceProd,
    LogSumExp,
    CumSum,
    CumProd,
    ExpandDims,
    IsEqual,
    Reshape,
    Concat,
    Stack,
    Permute,
    MatMul,
    Outer,
    Transpose,
    TraceOp,
    Vdot,
    Einsum,
    Solve,
    Inv,
    Det,
    LogAbsDet,
    DetSign,
    Cholesky,
    Pinv,
    EighValues,
    EighVectors,
    SvdPart,
    LogSoftmax,
    LogSoftmaxGrad,
)

ELEMENTWISE = (
    Sigmoid,
    Softplus,
    NormRoot,
    ReciprocalOrZero,
    ExpNegAbs,
    SigmoidAbs,
    SigmoidNegAbs,
    SigmoidOf,
    ComplementOf,
    SigmoidOfScalar,
    ComplementOfScalar,
    Floor,
    Ceil,
    Remainder,
    Log2,
    Log10,
    Hypot,
    Clip,
    ZeroPower,
    TracedPower,
)


STRUCTURAL_PARTS = (
    "out_shape",
    "vjp",
    "jvp",
    "_gradgen_numpy",
    "_gradgen_text",
    "_gradgen_latex",
)
ELEMENTWISE_PARTS = ("_eval_evalf", "_gradgen_numpy", "_gradgen_text", "_gradgen_latex")
# made after differentiation (optimize.share_sigmoids), so never differentiated
LOWERED = (ExpNegAbs, SigmoidAbs, SigmoidNegAbs, SigmoidOf)


def missing_parts() -> list[str]:
    """``Class.part`` for every part an operation lacks: each structural one needs all of
    ``STRUCTURAL_PARTS``; each elementwise one ``ELEMENTWISE_PARTS`` and a derivative
    (``fdiff``) unless it is made only after differentiation; each ufunc entry a SymPy
    builder and, for a SymPy function, a NumPy function of its code name."""
    out = [
        f"{cls.__name__}.{part}"
        for cls in STRUCTURAL
        for part in STRUCTURAL_PARTS
        if getattr(cls, part, None) is None
    ]
    for cls in ELEMENTWISE:
        parts = ELEMENTWISE_PARTS + (() if issubclass(cls, LOWERED) else ("fdiff",))
        # its own derivative, or a gradgen base class's (not SymPy's unevaluated one)
        own = [
            p for p in parts if p != "fdiff" or cls.fdiff is not sympy.Function.fdiff
        ]
        out += [f"{cls.__name__}.{p}" for p in parts if p not in own]
        out += [f"{cls.__name__}.{p}" for p in own if getattr(cls, p, None) is None]
    for entry in elementwise.UFUNCS:
        if not callable(entry.build):
            out.append(f"{entry.ufunc.__name__}.build")
        if entry.code and not hasattr(numpy, entry.code):
            out.append(f"{entry.ufunc.__name__}.code")
    return out


def _rule(expr, kind: str):
    rule = getattr(type(expr), kind, None)
    if rule is None:
        what = "derivative (VJP)" if kind == "vjp" else "forward-mode (JVP)"
        raise GradgenError(
            f"no {what} rule for {type(expr).__name__}",
            hint=f"give the operation a {kind} beside it in gradgen/ops",
        )
    return rule


def vjp(expr, g, ans, out_shape: tuple, shape) -> list:
    """The VJP of a structural node ``expr`` (value ``ans``, of shape ``out_shape``) with
    adjoint ``g``: one contribution per argument, None where there is none. ``g`` is
    broadcast to the node's shape first, unless it is a scalar that the operation takes
    as it is (a reduction's). ``shape(e)`` gives an expression's shape."""
    rule = _rule(expr, "vjp")
    scalar = shape(g) == () and getattr(type(expr), "accepts_scalar_adjoint", False)
    if shape(g) != out_shape and not scalar:
        g = broadcast_to(g, out_shape)
    return list(rule(g, ans, *expr.args, shape=shape))


def jvp(expr, tangents: list, ans, shape):
    """The tangent of a structural node ``expr`` (value ``ans``) from the tangents of its
    array arguments (None for zero), each broadcast to its argument's shape first."""
    rule = _rule(expr, "jvp")
    arrays = expr.args[: expr.array_args]
    fitted = [
        t if t is None or shape(t) == shape(a) else broadcast_to(t, shape(a))
        for t, a in zip(tangents, arrays)
    ]
    return rule(fitted, ans, *expr.args, shape=shape)


__all__ = [c.__name__ for c in STRUCTURAL + ELEMENTWISE] + [
    "LOOPS",
    "LoopSeed",
    "loop_run",
    "untaped",
    "OMITTED",
    "Reduction",
    "array_api_slot",
    "broadcast_to",
    "decode_key",
    "elementwise",
    "encode_key",
    "expand_dims",
    "expm1",
    "index_shape",
    "jvp",
    "key_text",
    "log1p",
    "missing_parts",
    "reduce",
    "reshape_shape",
    "reversed_first",
    "statement_level",
    "vjp",
    "zeros",
]
