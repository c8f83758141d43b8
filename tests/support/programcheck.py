"""Check one model program: compile it with gradgen and compare the generated functions with
the model run by NumPy and by HIPS autograd, at several sets of dimension sizes from one
compile.

``check_program(program, size_sets, modes, seed)`` runs each mode in ``modes`` on every size
set. A mode is a function ``check_<mode>(case)`` registered in ``MODES``; it compares one kind
of generated function with an independent reference and raises AssertionError on a
difference: ``value`` (``f`` against NumPy and autograd), ``grad`` (``f_grad`` and
``f_value_and_grad``, or ``f_vjp`` with a random cotangent for an array output, against
autograd's gradient), ``jvp`` (``f_jvp`` along random tangents against ``autograd.make_jvp``)
and ``hvp`` (``f_hvp`` along a random direction against ``autograd.make_hvp``; scalar outputs
only, skipped for array outputs). To check another kind of generated function, write its
mode function beside these and add it to ``MODES``; ``Case`` carries what a mode needs.

autograd cannot run a model that writes into an array (``y[1:] = v``, ``y += v``). For such a
program (``Program.autograd`` false) the references are central differences of the model run
by NumPy (``numericref.py``): its Jacobian for the gradient, VJP and JVP, and for the HVP the
Jacobian of the generated gradient, itself checked against the model's central differences
at the same point. Their tolerance is ``numericref.RTOL``; the point is drawn again where the
model is not smooth enough for differences.

Tolerance. The generated code and the references compute the same mathematical function in
float64 with different operation orders and forms (CSE, reassociation, tanh' written as
1 - tanh**2 where autograd divides by cosh**2), so they differ by rounding: a few ulps per
operation, scaled by the size of the terms being combined, not by the size of the result
(1 - tanh(x)**2 is exactly 0 for large x, while 1/cosh(x)**2 is 1e-80). Inputs are O(1) and
the generator keeps every value within [-100, 100] through a few dozen operations, so rounding
stays below about 1e-12 of max(1, the largest entry); ``RTOL`` allows 1e-9 of that plus 1e-9
of the entry itself. A wrong derivative is off by far more. Second derivatives (the HVP) are
sums of products of the same terms and are held to the same tolerance.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import shutil
import tempfile
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np

import numericref
import ties
from gradcheck import autograd_namespace, code_of, import_source, shape_for, targets
from gradgen.codegen.formatting import layout_only_skipped
from gradgen.pipeline import compile_targets

RTOL = 1e-9
PLAIN = (-1.0, 1.0)  # the default domain of a parameter
POINTS = 20  # points tried for central differences before giving up on smoothness


@dataclass
class Program:
    """A model file's text and how to call its target: each parameter's domain (default
    ``PLAIN``), the parameters passed as 0-d arrays rather than floats, and ``wrt``.

    ``autograd``: whether autograd can run the model (not when it writes into arrays).
    ``branch_nans``: whether a branch the model does not take may compute nan (``if s > t:
    y = np.log(s - t)``): gradgen runs both branches of a converted ``if`` and selects, so
    its code may meet invalid values there, and must still return finite, right numbers.
    ``min_sizes``: the smallest size of a dimension the program needs (x[1:] of an
    ``Array["n"]`` is empty at n = 1).
    """

    source: str
    name: str = "f"
    domains: dict = field(default_factory=dict)
    zero_dim: tuple = ()
    wrt: list | None = None
    autograd: bool = True
    branch_nans: bool = False
    min_sizes: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # hypothesis prints the failing program as a model file
        extras = f"domains={self.domains} wrt={self.wrt} zero_dim={self.zero_dim}"
        if not self.autograd or self.branch_nans or self.min_sizes:
            extras += (
                f" autograd={self.autograd} branch_nans={self.branch_nans}"
                f" min_sizes={self.min_sizes}"
            )
        return f"Program({self.name!r}, {extras}):\n{self.source}"


@dataclass
class Case:
    """One program at one set of sizes: everything a mode compares."""

    program: Program
    generated: object  # the generated module
    model: object  # the target, run by NumPy as plain Python
    reference: object  # the target, run by autograd (None when autograd cannot run it)
    params: list  # gradgen.ir.Param, in order
    wrt: list  # indices of the differentiated parameters
    args: list
    rng: np.random.Generator
    sizes: dict
    numeric: dict = field(default_factory=dict)  # central-difference Jacobians
    probed: object = (
        None  # the model, saying whether rounding decided a comparison (ties)
    )

    def what(self, text: str) -> str:
        return f"{self.program.name} at {self.sizes}: {text}"

    @property
    def against(self) -> str:
        return "autograd" if self.reference is not None else "central differences"

    @property
    def tolerance(self) -> float:
        """For derivatives: autograd's, or central differences' (``numericref``)."""
        return RTOL if self.reference is not None else numericref.RTOL

    def run(self, function: str, *extra, args=None):
        """A generated function on the case's arguments (or ``args``). It must not overflow
        or divide by zero where the references compute finite numbers (they are run without
        that check: autograd's tanh' = 1/cosh(x)**2 overflows to the right answer, 0); nor
        meet invalid values, unless a branch the model does not take may hold them (and
        then it may divide by zero there too, as the model does at a pole it discards).
        """
        discarded = "ignore" if self.program.branch_nans else "raise"
        with np.errstate(over="raise", divide=discarded, invalid=discarded):
            args = self.args if args is None else args
            return getattr(self.generated, function)(*args, *extra)

    def wide(self, values) -> list:
        """``values`` (the arguments, or one value per differentiated parameter) in
        extended precision; integer data as it is."""
        return [
            (
                v
                if np.issubdtype(np.asarray(v).dtype, np.integer)
                else np.asarray(v, dtype=np.longdouble)[()]
            )
            for v in values
        ]

    def parts(self, value) -> tuple:
        """A generated function's derivatives, one per differentiated parameter."""
        return (value,) if len(self.wrt) == 1 else tuple(value)

    def packed(self, values: tuple):
        """One value per differentiated parameter, as generated functions take them."""
        return values[0] if len(self.wrt) == 1 else tuple(values)

    def direction(self) -> tuple:
        """A random direction: one value per differentiated parameter, shaped like it."""
        out = []
        for i in self.wrt:
            u = self.rng.normal(size=np.shape(self.args[i]))
            out.append(float(u) if isinstance(self.args[i], float) else u)
        return tuple(out)


def _autograd_numpy() -> types.ModuleType:
    """autograd.numpy, except that ``where`` broadcasts its branches to the result's shape
    first: autograd's VJP of ``where`` does not un-broadcast them, so a scalar or row branch
    of a larger ``where`` gets a gradient of the wrong shape (or fails to accumulate), and
    its JVP fails on a float's tangent.
    """
    module = types.ModuleType("autograd_numpy_reference")
    module.__dict__.update(vars(anp))

    module.where = _where
    module.diag = _diag
    module.clip = _clip
    module.cumprod = _cumprod
    module.take = _take
    module.take_along_axis = _take_along_axis
    module.einsum = _einsum
    # autograd's VJP of pad needs the mode given
    module.pad = lambda x, width, mode="constant", **kwargs: anp.pad(
        x, width, mode, **kwargs
    )
    module.var = _var
    module.std = lambda x, axis=None, ddof=0, keepdims=False: anp.sqrt(
        _var(x, axis, ddof, keepdims)
    )
    module.linalg = types.SimpleNamespace(**vars(anp.linalg))
    module.linalg.norm = _norm
    module.linalg.eigvalsh = lambda x: anp.linalg.eigh(x)[0]
    # autograd's VJP of broadcast_to cannot add leading dimensions; a sum with zeros can
    module.broadcast_to = lambda x, shape: x + np.zeros(shape)
    return module


def _where(condition, x, y):
    ones = np.ones(np.broadcast_shapes(np.shape(condition), np.shape(x), np.shape(y)))
    # * un-broadcasts its gradient; it also makes a float's tangent an array, which
    # autograd's forward mode of where needs
    return anp.where(condition, x * ones, y * ones)


# NumPy functions autograd cannot differentiate (or not with every argument, or not of
# every shape), as forms of ones it can.
def _diag(x, k=0):
    """np.diag; of a matrix by indexing (autograd's VJP is of square matrices only)."""
    if anp.ndim(x) == 1:
        return anp.diag(x, k)
    rows, cols = np.shape(x)
    count = max(0, min(rows - max(-k, 0), cols - max(k, 0)))
    i = np.arange(count)
    return x[i + max(-k, 0), i + max(k, 0)]


def _clip(x, a_min, a_max):
    """np.clip: derivative 1 strictly inside the bounds, a traced bound gets the rest
    (autograd has no derivative for the bounds)."""
    out = x
    if a_min is not None:
        out = _where(out > a_min, out, a_min)
    if a_max is not None:
        out = _where(out < a_max, out, a_max)
    return out


def _einsum(spec, *operands):
    """np.einsum; a label repeated in one operand (a diagonal) as a product with the
    identity first: autograd's VJP would repeat it in an output."""
    inputs, output = spec.split("->")
    parts = inputs.split(",")
    for j, part in enumerate(parts):
        if part in ("ii",):  # the only such operand the random programs write
            operands = list(operands)
            operands[j] = anp.sum(operands[j] * np.eye(len(operands[j])), axis=0)
            parts[j] = "i"
    return anp.einsum(f"{','.join(parts)}->{output}", *operands)


def _var(x, axis=None, ddof=0, keepdims=False):
    """np.var written out (autograd's forward mode of var fails)."""
    count = (
        np.size(x)
        if axis is None
        else np.prod([np.shape(x)[a] for a in np.atleast_1d(axis)])
    )
    centred = x - anp.mean(x, axis=axis, keepdims=True)
    return anp.sum(centred * centred, axis=axis, keepdims=keepdims) / (count - ddof)


def _cumprod(x, axis=None):
    if axis is None:
        x, axis = anp.ravel(x), 0
    moved = anp.moveaxis(x, axis, 0)
    parts = [anp.prod(moved[: i + 1], axis=0) for i in range(moved.shape[0])]
    return anp.moveaxis(anp.stack(parts), 0, axis)


def _take(a, indices, axis=None):
    if axis is None:
        return anp.ravel(a)[indices]
    axis %= anp.ndim(a)
    return a[(slice(None),) * axis + (indices,)]


def _take_along_axis(a, indices, axis):
    axis %= anp.ndim(a)
    key = [
        np.arange(size).reshape([-1 if i == j else 1 for j in range(anp.ndim(a))])
        for i, size in enumerate(anp.shape(a))
    ]
    key[axis] = indices
    return a[tuple(key)]


def _norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm with every ord, from sums, maxima and singular values (autograd
    has the 2-norm, p-norms of vectors, "fro" and "nuc" only)."""
    matrix = anp.ndim(x) == 2 and axis is None
    if matrix:
        if ord in (None, "fro"):
            return anp.sqrt(anp.sum(x * x))
        if ord in ("nuc", 2, -2):
            s = anp.linalg.svd(x, compute_uv=False)
            return {"nuc": anp.sum, 2: anp.max, -2: anp.min}[ord](s)
        sums = anp.sum(anp.abs(x), axis=0 if ord in (1, -1) else 1)
        return anp.max(sums) if ord in (1, np.inf) else anp.min(sums)
    if axis is None:
        x, axis = anp.ravel(x), 0
    if ord is None or ord == 2:
        return anp.sqrt(anp.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return anp.max(anp.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return anp.min(anp.abs(x), axis=axis, keepdims=keepdims)
    if ord == 1:
        return anp.sum(anp.abs(x), axis=axis, keepdims=keepdims)
    total = anp.sum(anp.abs(x) ** ord, axis=axis, keepdims=keepdims)
    return total ** (1.0 / ord)


def _logsumexp(x, axis=None, keepdims=False):
    return anp.log(anp.sum(anp.exp(x), axis=axis, keepdims=keepdims))


def _log_softmax(x, axis=-1):
    return x - _logsumexp(x, axis, True)


# gradgen.functions run plain NumPy, which autograd cannot trace: in the reference they are
# these naive forms, exact enough for the bounded arguments the generator gives them.
REFERENCE_FUNCTIONS = {
    "sigmoid": lambda x: 1 / (1 + anp.exp(-x)),
    "softplus": lambda x: anp.log(1 + anp.exp(x)),
    "log_sigmoid": lambda x: -anp.log(1 + anp.exp(-x)),
    "logsumexp": _logsumexp,
    "log_softmax": _log_softmax,
    "softmax": lambda x, axis=-1: anp.exp(_log_softmax(x, axis)),
    "relu": lambda x: anp.maximum(x, 0.0),
}


def model_function(path: Path, name: str):
    """The model's target as Python runs the file, with NumPy (not as gradgen loads it:
    gradgen rewrites returns and ifs on traced values before running the file)."""
    namespace: dict = {"__name__": f"model_{path.stem}"}
    exec(code_of(path.read_text(), str(path)), namespace)
    return namespace[name]


def reference_function(path: Path, name: str):
    """The model's target run by autograd (the model file with ``np`` rebound, and the
    functions imported from gradgen.functions replaced by autograd's)."""
    namespace = autograd_namespace(path)
    namespace["np"] = _autograd_numpy()
    for key, value in list(namespace.items()):
        if getattr(value, "__module__", None) == "gradgen.functions":
            namespace[key] = REFERENCE_FUNCTIONS[value.__name__]
    return namespace[name]


def assert_close(actual, expected, what: str, rtol: float = RTOL) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert (
        actual.shape == expected.shape
    ), f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.all(np.isfinite(expected)), f"{what}: the reference is not finite"
    scale = np.max(np.abs(expected), initial=1.0)
    error = np.abs(actual - expected)
    limit = rtol * (np.abs(expected) + scale)
    assert np.all(error <= limit), (
        f"{what}: max error {np.max(error):.3g} (largest entry {scale:.3g})\n"
        f"got {actual}\nexpected {expected}"
    )


def _assert_derivatives(
    case: Case, got: tuple, expected, what: str, rtol=RTOL, against=None, wide=None
):
    """Each derivative in ``got`` against ``expected``. ``wide``: the same generated
    function run in extended precision, for where float64 rounding in the generated code is
    amplified beyond the tolerance (see ``EXTENDED``)."""
    assert len(got) == len(expected), case.what(f"{what}: number of parameters")
    try:
        for i, a, b in zip(case.wrt, got, expected):
            label = f"{what}d/d{case.params[i].name} vs {against or case.against}"
            assert_close(a, b, case.what(label), rtol)
    except AssertionError as error:
        if wide is None or not EXTENDED:
            raise
        try:
            exact = wide()
        except Exception:  # no extended precision in a function: float64 stands
            raise error from None
        try:
            for i, a, b in zip(case.wrt, exact, expected):
                label = f"{what}d/d{case.params[i].name} in extended precision"
                assert_close(np.asarray(a, dtype=float), b, case.what(label), rtol)
        except AssertionError as also:
            raise error from also


# --- references: autograd, or central differences of the model ----------------------------


def _numeric(case: Case, kind: str) -> np.ndarray:
    """The model's Jacobian ("model") or the generated gradient's ("grad"), computed when
    the case is set up (``_smooth_point``)."""
    return case.numeric[kind]


def _vjp_reference(case: Case, cotangent) -> tuple:
    if case.reference is None:
        return _numeric_vjp(case, cotangent)

    def projected(*args):
        return anp.sum(case.reference(*args) * cotangent)

    return autograd.grad(projected, tuple(case.wrt))(*case.args)


def _numeric_vjp(case: Case, cotangent) -> tuple:
    row = np.ravel(cotangent) @ _numeric(case, "model")
    return tuple(numericref.split(row, case.args, case.wrt))


NOT_FINITE = "central differences (autograd's is not finite)"


def _by_differences_where_not_finite(case: Case, expected) -> bool:
    """Whether autograd's first derivative ``expected`` is not finite, and central
    differences of the model (computed here) are to be the reference instead. autograd's
    can be nan where the true one is finite: its std of values with no spread (a column
    of np.maximum(W4, W5) where W5 is the larger in every row) multiplies sqrt'(0) = inf
    by 0, where the model is constant. Where the differences do not settle either, the
    derivative may well not exist, and the point checks nothing: ``Unsettled``."""
    parts = expected if isinstance(expected, tuple) else (expected,)
    if case.reference is None or all(np.all(np.isfinite(e)) for e in parts):
        return False
    try:
        case.numeric["model"] = numericref.jacobian(case.model, case.args, case.wrt)
    except numericref.NotSmooth:
        reason = (
            "autograd's derivative is not finite, central differences did not settle"
        )
        raise Unsettled(case.what(reason), reason) from None
    return True


def _jvp_reference(case: Case, tangents: tuple):
    value = case.model(*case.args)
    if case.reference is None:
        u = numericref.flat(tangents)
        return value, np.reshape(_numeric(case, "model") @ u, np.shape(value))
    try:
        jvp = autograd.make_jvp(case.reference, tuple(case.wrt))(*case.args)
        return value, jvp(tangents)[1]
    except NotImplementedError:
        # autograd has no forward mode of some functions (np.linalg.solve, np.hypot):
        # the JVP from its reverse mode, one cotangent per output entry
        rows = []
        for e in np.eye(np.size(value)):
            grads = _vjp_reference(case, np.reshape(e, np.shape(value)))
            rows.append(sum(np.sum(g * u) for g, u in zip(grads, tangents)))
        return value, np.reshape(np.array(rows), np.shape(value))


def _numeric_hvp(case: Case, v: tuple) -> tuple:
    """The HVP from central differences of the generated gradient."""
    hv = _numeric(case, "grad") @ numericref.flat(v)
    return tuple(numericref.split(hv, case.args, case.wrt))


def _hvp_reference(case: Case, v: tuple) -> tuple:
    if case.reference is None:
        return _numeric_hvp(case, v)
    # Floats as 0-d arrays: autograd's second pass through np.stack([s]) of a float s
    # indexes the float's cotangent (its VJP of untake), which fails
    args = [np.asarray(a) if isinstance(a, float) else a for a in case.args]
    try:
        hvp, _ = autograd.make_hvp(case.reference, tuple(case.wrt))(*args)
        hv = hvp(tuple(np.asarray(u) if isinstance(u, float) else u for u in v))
    except NotImplementedError:
        # autograd has no second derivative of some functions: the caller compares
        # with central differences of the generated gradient instead
        return tuple(np.full(np.shape(case.args[i]), np.nan) for i in case.wrt)
    return tuple(
        float(h) if isinstance(case.args[i], float) else h for i, h in zip(case.wrt, hv)
    )


# --- modes ---------------------------------------------------------------------------------


def check_value(case: Case) -> None:
    """The value function against the model run by NumPy and by autograd."""
    expected = case.model(*case.args)
    if case.reference is not None:
        reference = case.reference(*case.args)
        assert_close(reference, expected, case.what("autograd vs NumPy"))
    name = case.program.name
    assert_close(case.run(name), expected, case.what(name))


def check_grad(case: Case) -> None:
    """``f_grad`` and ``f_value_and_grad`` (scalar output) or ``f_vjp`` with a random
    cotangent (array output) against autograd's gradient."""
    name, value = case.program.name, case.model(*case.args)
    if np.ndim(value) == 0 and hasattr(case.generated, f"{name}_grad"):
        expected = _vjp_reference(case, 1.0)
        got = case.parts(case.run(f"{name}_grad"))

        def wide():
            return case.parts(case.run(f"{name}_grad", args=case.wide(case.args)))

        got_value, grads = case.run(f"{name}_value_and_grad")
        assert_close(got_value, value, case.what(f"{name}_value_and_grad value"))
        for a, b in zip(got, case.parts(grads)):
            assert_close(a, b, case.what(f"{name}_grad vs {name}_value_and_grad"))
    else:
        cotangent = case.rng.normal(size=np.shape(value))
        expected = _vjp_reference(case, cotangent)
        got = case.parts(case.run(f"{name}_vjp", cotangent))

        def wide():
            (u,) = case.wide([cotangent])
            return case.parts(case.run(f"{name}_vjp", u, args=case.wide(case.args)))

    if _by_differences_where_not_finite(case, tuple(expected)):
        cotangent = 1.0 if np.ndim(value) == 0 else cotangent
        expected = _numeric_vjp(case, cotangent)
        _assert_derivatives(case, got, expected, "", numericref.RTOL, NOT_FINITE)
        return
    _assert_derivatives(case, got, expected, "", case.tolerance, wide=wide)


def check_jvp(case: Case) -> None:
    """``f_jvp`` along random tangents: the value, and the derivative along them against
    autograd's forward mode (``make_jvp``)."""
    name, tangents = case.program.name, case.direction()
    value, expected = _jvp_reference(case, tangents)
    got_value, got = case.run(f"{name}_jvp", case.packed(tangents))
    assert_close(got_value, value, case.what(f"{name}_jvp value"))
    rtol, against = case.tolerance, case.against
    if _by_differences_where_not_finite(case, expected):
        u = numericref.flat(tangents)
        expected = np.reshape(_numeric(case, "model") @ u, np.shape(value))
        rtol, against = numericref.RTOL, NOT_FINITE
    assert_close(got, expected, case.what(f"{name}_jvp vs {against}"), rtol)


def check_hvp(case: Case) -> None:
    """``f_hvp`` along a random direction against autograd's Hessian-vector product, for a
    scalar output."""
    name = case.program.name
    if not hasattr(case.generated, f"{name}_hvp"):
        assert np.ndim(case.model(*case.args)) > 0, case.what(f"no {name}_hvp")
        return
    v = case.direction()
    expected = _hvp_reference(case, v)
    got = case.parts(case.run(f"{name}_hvp", case.packed(v)))
    rtol, against = case.tolerance, None

    def wide():
        u = case.packed(case.wide(v))
        return case.parts(case.run(f"{name}_hvp", u, args=case.wide(case.args)))

    if case.reference is not None and not all(np.all(np.isfinite(e)) for e in expected):
        # autograd's second derivatives can overflow where the true one is finite: its
        # tanh'' at 60 divides by cosh(60)**2 = inf twice (inf / inf); and it has none
        # of some functions (nan here). Compare with central differences of the generated
        # gradient there (itself checked against autograd). Where those do not settle
        # either (a kink within H; or a gradient like that of sin(degrees(v @ x)), whose
        # next derivatives are 57.3 times larger each, so that the two steps differ by
        # (H^2 / 8) times a third derivative of 1e5), nothing at this point is a
        # reference for the HVP: ``Unsettled``.
        try:
            case.numeric["grad"] = numericref.jacobian(
                _generated_grad(case), case.args, case.wrt
            )
        except numericref.NotSmooth:
            reason = (
                "autograd's second derivative is not finite, central differences of "
                "the gradient did not settle"
            )
            raise Unsettled(case.what(reason), reason) from None
        expected = _numeric_hvp(case, v)
        rtol, against = numericref.RTOL, NOT_FINITE
    _assert_derivatives(case, got, expected, f"{name}_hvp ", rtol, against, wide)


MODES = {"value": check_value, "grad": check_grad, "jvp": check_jvp, "hvp": check_hvp}
DEFAULT_MODES = ("value", "grad")
ALL_MODES = tuple(MODES)


# --- one program ------------------------------------------------------------------------------


def _arguments(program: Program, params, sizes: dict, rng) -> list:
    """Random arguments: floats uniform in each parameter's domain; integer data (a
    domain ("index", c)) uniform over the indices of an axis of size c, repeats and all.
    """
    args = []
    for p in params:
        if p.integer:
            _, bound = program.domains[p.name]
            high = sizes[bound] if isinstance(bound, str) else bound
            value = rng.integers(0, high, size=shape_for(p, sizes))
            args.append(int(value) if value.shape == () else value)
            continue
        lo, hi = program.domains.get(p.name, PLAIN)
        value = rng.uniform(lo, hi, shape_for(p, sizes))
        scalar = value.shape == () and p.name not in program.zero_dim
        args.append(float(value) if scalar else value)
    return args


def _generated_grad(case: Case):
    """The generated gradient, as central differences call it."""
    grad = getattr(case.generated, f"{case.program.name}_grad")

    def generated_grad(*args):
        with np.errstate(invalid="ignore" if case.program.branch_nans else "raise"):
            return grad(*args)

    return generated_grad


class Unsettled(AssertionError):
    """No point of the ``POINTS`` tried could check the program, which says nothing of its
    generated code: central differences, the only reference for a model autograd cannot
    run, did not settle (a model that oscillates fast, cos(exp(x)**2) twice), or rounding
    decided one of the model's conditions (``reason``)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _central_differences(case: Case, modes) -> None:
    """The central-difference Jacobians the modes need; raises ``numericref.NotSmooth``
    where the model (or, for the HVP, the generated gradient) is not smooth enough."""
    name = case.program.name
    case.numeric["model"] = numericref.jacobian(case.model, case.args, case.wrt)
    if "hvp" in modes and getattr(case.generated, f"{name}_grad", None) is not None:
        case.numeric["grad"] = numericref.jacobian(
            _generated_grad(case), case.args, case.wrt
        )


# Rounding amplified. The tolerance assumes a model whose rounding stays near 1e-12 of its
# scale; a loop can amplify it without bound: x = cos(10 / cosh(x) / ((x / exp(x))**2 + 1))
# iterated 24 times multiplies a change of x at a step by up to 1e9, so the model run by
# NumPy in float64 is itself off by 1e-6 of its value, and the generated code (other
# operations, other rounding) differs from it by as much (found by the long profile, seed
# 41). The model (and autograd's gradient) run in extended precision (np.longdouble, 11
# more bits on x86) show the float64 run's own error. Where that exceeds 1e-12 of its scale,
# the premise of RTOL (above) does not hold: the generated code's rounding, as amplified but
# from other operations, is not bounded by the model's, one run's error can be a lucky small
# one, and a gradient's or an HVP's (a sum over the steps) grows faster still; the point
# checks nothing. Where NumPy has no extended precision (np.longdouble is float64) or the
# model's functions do not take it, this finds nothing, and the point is checked as before.
AMPLIFIED = 1e-12
# The generated code's own rounding amplified. Where the model and autograd are not
# amplified, the generated code can still be: it writes tanh' as 1 - tanh(z)**2, which for a
# saturated tanh (z = 16: 1 - tanh**2 = 5e-14) keeps a few correct digits in float64 where
# autograd's 1 / cosh(z)**2 keeps them all; times the square of a large inner derivative (the
# HVP of tanh(cos(rad2deg(rad2deg(w))) ...), 3,283**2), that is 1.4e-8 where the HVP's
# largest entry is 3e-6 (long profile, seed 86; autograd's HVP agrees with central
# differences of its gradient in extended precision to 2e-10). Where a generated derivative
# differs from autograd's, it is run again in extended precision, where it is exact to far
# below the tolerance: a formula that is right agrees with autograd there; a wrong one does
# not, whatever the precision. Nothing is skipped. Where NumPy has no extended precision
# (np.longdouble is float64), the float64 comparison stands.
EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps


def _amplified(case: Case) -> bool:
    """Whether the model's float64 value, or autograd's gradient of its sum, differs from
    the same in extended precision by more than AMPLIFIED of max(1, its largest entry).
    """
    if not EXTENDED:
        return False
    wide = case.wide(case.args)
    runs = [lambda args: case.model(*args)]
    if case.reference is not None:  # rounding in the gradient is amplified further

        def summed(*args):
            return anp.sum(case.reference(*args))

        runs.append(lambda args: autograd.grad(summed, tuple(case.wrt))(*args))
    for run in runs:
        try:
            value, precise = numericref.flat(run(case.args)), numericref.flat(run(wide))
        except Exception:  # a function with no extended precision: nothing to tell
            continue
        error = precise - value
        if error.shape != value.shape or not np.all(np.isfinite(error)):
            continue  # a nan the model has anyway: not a question of rounding
        if np.max(np.abs(error), initial=0.0) > AMPLIFIED * numericref.scale(value):
            return True
    return False


def _settle(case: Case, modes) -> None:
    """Move the case to a point it can be checked at, the case's own or another one: where
    rounding decides none of the model's conditions, and, when central differences are the
    reference, where they settle (computing them there)."""
    differences = case.reference is None and {"grad", "jvp", "hvp"} & set(modes)
    reason = "rounding decides a condition of the model"
    for _ in range(POINTS):
        if not case.probed(*case.args) and _amplified(case):
            reason = "the model amplifies its rounding beyond the tolerance"
        elif not case.probed(*case.args):
            if not differences:
                return
            try:
                _central_differences(case, modes)
                return
            except numericref.NotSmooth:
                reason = "central differences did not settle"
        case.args = _arguments(case.program, case.params, case.sizes, case.rng)
    raise Unsettled(case.what(f"{reason}, at each of {POINTS} points"), reason)


def _compiled_modes(modes, scalar: bool) -> list:
    """The modes to compile: f_hvp exists for a scalar output only."""
    return [m for m in ("jvp", "hvp") if m in modes and (m == "jvp" or scalar)]


_FOLDER: list[Path] = []  # this process's folder of model files, made when first needed


def _written(source: str) -> Path:
    """``source`` as a model file, at a path of its text in a folder of this process (the
    same text checked again is the same file: gradgen keeps the rewrites of the last texts
    it loaded at a path (``frontend/model_file.py``), most of the compile of one target
    of a long file such as models/random_regressions.py)."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="gradgen-programs-")))
        atexit.register(shutil.rmtree, _FOLDER[0], ignore_errors=True)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = _FOLDER[0] / digest / "random_model.py"
    if not path.exists():
        path.parent.mkdir()
        path.write_text(source)
    return path


def check_program(
    program: Program,
    size_sets: list,
    modes=DEFAULT_MODES,
    seed: int = 0,
    formatted: bool = True,
) -> None:
    """Compile ``program`` once; run every mode at every set of sizes. ``formatted``:
    through black, as ``gradgen compile`` writes it; without, the module has the same
    syntax tree and compiles in three quarters of the time (``codegen/formatting.py``).
    """
    size_sets = [
        {k: max(v, program.min_sizes.get(k, 1)) for k, v in sizes.items()}
        for sizes in size_sets
    ]
    path = _written(program.source)
    target = targets(path)[program.name]
    model = model_function(path, program.name)
    first = _arguments(
        program, target.params, size_sets[0], np.random.default_rng(seed)
    )
    with np.errstate(all="ignore"):
        scalar = np.ndim(model(*first)) == 0
    # the target loaded above: compile_file would load the file again
    with contextlib.nullcontext() if formatted else layout_only_skipped():
        source = compile_targets(
            [target],
            program.wrt,
            f"gradgen compile {path}",
            modes=_compiled_modes(modes, scalar),
        )
    generated = import_source(source, "generated_random_model")
    reference = reference_function(path, program.name) if program.autograd else None
    probed = ties.Probed(program.source, str(path), program.name)
    names = [p.name for p in target.params]
    floats = [i for i, p in enumerate(target.params) if not p.integer]
    wrt = [names.index(w) for w in program.wrt] if program.wrt else floats
    rng = np.random.default_rng(seed)
    for sizes in size_sets:
        args = _arguments(program, target.params, sizes, rng)
        case = Case(
            program,
            generated,
            model,
            reference,
            target.params,
            list(wrt),
            args,
            rng,
            sizes,
            probed=probed,
        )
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # autograd warns when the output does not depend on an input
            warnings.simplefilter("ignore", UserWarning)
            _settle(case, modes)
            for mode in modes:
                MODES[mode](case)
