"""Float types: the generated code keeps the float type of its arguments, and its stable
forms hold in float16, float32 and float64 alike.

- Every example and every operation model, called with float32 arguments, returns float32
  values and gradients (and, for the examples, JVPs and HVPs), close to the float64 results:
  no statement turns the computation into float64.
- At the extremes of each float type (arguments up to half its largest value) the
  sigmoid, softplus, log-sigmoid, logsumexp and softmax forms give finite values and
  gradients, within a few roundings of that type of mpmath's, with no overflow warning;
  sigmoid(-inf) is exactly 0 and sigmoid(inf) exactly 1.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest

from compiled import compiled
from gradcheck import ROOT, random_inputs, targets
from test_examples import ROLLED

EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").glob("*.py")
    if p.stem not in ("train_xor", "descent")
)
OP_MODELS = [
    ROOT / "tests" / "models" / f
    for f in ("ops.py", "arrays.py", "branches.py", "integers.py")
]
SIZES = {"n": 3, "d": 2, "k": 4, "m": 5}


def _sizes(target) -> dict:
    sizes = dict(SIZES)
    for p in target.params:
        for d in p.shape:
            if not d.is_Integer:
                sizes.setdefault(d.name, 3)
    return sizes


def _float32(args, target):
    """The float arguments as float32; integer data as it is."""
    return [
        a if p.integer else np.float32(a) if np.ndim(a) == 0 else a.astype(np.float32)
        for a, p in zip(args, target.params)
    ]


def _outputs(module, name, args, modes: bool, target) -> dict:
    """Every value a target's generated functions return, by where it came from."""
    out = {"value": getattr(module, name)(*args)}
    floats = [a for a, p in zip(args, target.params) if not p.integer]
    direction = tuple(floats) if len(floats) > 1 else floats[0]
    if hasattr(module, f"{name}_vjp"):
        cotangent = np.ones_like(out["value"])
        grads = getattr(module, f"{name}_vjp")(*args, cotangent)
    else:
        out["value_and_grad"], grads = getattr(module, f"{name}_value_and_grad")(*args)
        if modes:
            hvp = getattr(module, f"{name}_hvp")(*args, direction)
            out |= {
                f"hvp {k}": v
                for k, v in enumerate(np.atleast_1d(hvp) if len(floats) == 1 else hvp)
            }
    grads = grads if isinstance(grads, tuple) else (grads,)
    out |= {f"gradient {k}": g for k, g in enumerate(grads)}
    if modes:
        out["jvp value"], out["jvp tangent"] = getattr(module, f"{name}_jvp")(
            *args, direction
        )
    return out


CASES = [(p, False) for p in OP_MODELS] + [(p, p.stem not in ROLLED) for p in EXAMPLES]


@pytest.mark.parametrize("path, modes", CASES, ids=[p.name for p, _ in CASES])
def test_float32_arguments_give_float32_results(path, modes):
    module = compiled(path, modes="jvp,hvp" if modes else None)
    for name, target in targets(path).items():
        domains = target.model.namespace.get("DOMAINS", {}).get(name)
        args = random_inputs(target, _sizes(target), np.random.default_rng(1), domains)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an op model may divide by ~0 on purpose
            wide = _outputs(module, name, args, modes, target)
            narrow = _outputs(module, name, _float32(args, target), modes, target)
        for what, value in narrow.items():
            assert (
                np.result_type(value) == np.float32
            ), f"{name}: {what} is {np.result_type(value)}"
            expected = np.asarray(wide[what], dtype=np.float64)
            got = np.asarray(value, dtype=np.float64)
            scale = np.max(np.abs(expected), initial=1.0)
            assert np.all(
                (np.abs(got - expected) <= 1e-3 * scale) | ~np.isfinite(expected)
            ), f"{name}: {what} in float32 {got} vs float64 {expected}"


# --- Stable forms at the extremes of each float type ------------------------------------

MODEL = Path(__file__).parent / "models" / "numerics.py"
mpmath.mp.dps = 60


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log(1 + mpmath.exp(x))


def _dsigmoid(x):
    return _sigmoid(x) * _sigmoid(-x)


ELEMENTWISE = {  # target: the function and its derivative (exact where mpmath.diff's
    # steps would not be, at half the largest float64)
    "sigmoid_naive": (_sigmoid, _dsigmoid),
    "sigmoid_exp_ratio": (_sigmoid, _dsigmoid),
    "softplus_naive": (_softplus, _sigmoid),
    "log_sigmoid_naive": (lambda x: -_softplus(-x), lambda x: _sigmoid(-x)),
    "log_one_minus_sigmoid": (lambda x: -_softplus(x), lambda x: -_sigmoid(x)),
    "helpers_elementwise": (
        lambda x: _sigmoid(x) + _softplus(x) / 2 - _softplus(-x) / 4,
        lambda x: _dsigmoid(x) + _sigmoid(x) / 2 + _sigmoid(-x) / 4,
    ),
}
ROWWISE = {
    "logsumexp_naive": lambda r: [mpmath.log(mpmath.fsum(mpmath.exp(v) for v in r))],
    "softmax_naive": lambda r: [
        mpmath.exp(v) / mpmath.fsum(mpmath.exp(w) for w in r) for v in r
    ],
}
TYPES = [np.float16, np.float32, np.float64]


@pytest.fixture(scope="module")
def module():
    return compiled(MODEL)  # test_numerics.py's too


def _extremes(dtype) -> np.ndarray:
    """Zero, small and large arguments, around the log of the largest float, and half
    the largest float itself."""
    info = np.finfo(dtype)
    edge = float(np.log(info.max))
    points = [0.5, 1.0, 10.0, edge - 1, edge + 1, 4 * edge, float(info.max) / 2]
    return np.array([-p for p in points[::-1]] + [0.0] + points, dtype=dtype)


def _close(got, reference, dtype, what):
    """Within 8 roundings of the type, relative, or its smallest normal number absolute
    (a result below that carries no relative accuracy in the type)."""
    info = np.finfo(dtype)
    got = np.asarray(got)
    assert got.dtype == dtype, f"{what}: {got.dtype}, not {np.dtype(dtype)}"
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    expected = np.array([float(r) for r in np.ravel(reference)]).reshape(got.shape)
    error = np.abs(got.astype(np.float64) - expected)
    bound = 8 * float(info.eps) * np.abs(expected) + float(info.tiny)
    assert np.all(error <= bound), f"{what}: {got} vs {expected}"


def _strict(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return fn(*args)


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_forms_hold_at_the_extremes_of_each_type(module, name, dtype):
    x = _extremes(dtype)
    function, derivative = ELEMENTWISE[name]
    points = [mpmath.mpf(float(v)) for v in x]
    _close(
        _strict(getattr(module, name), x), [function(p) for p in points], dtype, name
    )
    grad = _strict(getattr(module, f"{name}_vjp"), x, np.ones_like(x))
    _close(grad, [derivative(p) for p in points], dtype, f"{name} gradient")


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_row_forms_hold_at_the_extremes_of_each_type(module, name, dtype):
    big = float(np.finfo(dtype).max) / 4
    rows = np.array(
        [[big, -big, 0.0], [-big, -big, 1.0], [0.5, 2.0, -1.0]], dtype=dtype
    )
    value = _strict(getattr(module, name), rows)
    exact = [ROWWISE[name]([mpmath.mpf(float(v)) for v in row]) for row in rows]
    _close(value, exact, dtype, name)
    grad = _strict(getattr(module, f"{name}_vjp"), rows, np.ones_like(value))
    assert grad.dtype == dtype and np.all(np.isfinite(grad)), f"{name} gradient: {grad}"


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: np.dtype(t).name)
def test_sigmoid_is_exact_at_the_infinities(module, dtype):
    x = np.array([-np.inf, np.inf], dtype=dtype)
    np.testing.assert_array_equal(_strict(module.sigmoid_naive, x), [0.0, 1.0])
    grad = _strict(module.sigmoid_naive_vjp, x, np.ones_like(x))
    np.testing.assert_array_equal(grad, [0.0, 0.0])


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: np.dtype(t).name)
def test_xor_saturated_in_each_type_gives_finite_gradients_of_that_type(dtype):
    """The XOR net with every weight ±s, so that its pre-activations reach ±2s, for s from
    past the log of the type's largest value to an eighth of that value: value and
    gradients keep the type, stay finite with no floating-point warning, and agree with
    the same weights in float64."""
    module = compiled(ROOT / "examples" / "xor.py", modes="jvp,hvp")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    info = np.finfo(dtype)
    for scale in [30.0, 4 * float(np.log(info.max)), float(info.max) / 8]:
        for sign in (-1.0, 1.0):
            W0, W1 = np.full((2, 4), sign * scale), np.full((4, 1), sign * scale)
            args = [a.astype(dtype) for a in (X, y, W0, W1)]
            value, grads = _strict(module.loss_value_and_grad, *args)
            wide = module.loss_value_and_grad(*[a.astype(np.float64) for a in args])
            what = f"{np.dtype(dtype).name} at {sign * scale:g}"
            _close(value, [wide[0]], dtype, f"{what}: value")
            for k, (got, want) in enumerate(zip(grads, wide[1])):
                _close(got, want, dtype, f"{what}: gradient {k}")
