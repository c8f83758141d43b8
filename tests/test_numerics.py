"""Stable numerics: for arguments from -1000 to 1000 the generated code gives values and
gradients equal, to 1e-12 relative, to a high-precision reference computed with mpmath,
and NumPy raises no warning (warnings are errors here). Where the true value is below
float64's smallest normal number, an absolute 1e-300 is allowed instead: no float can
carry it relatively. A vector-Jacobian product of a row function (softmax, ...) is a sum
over the row, sum_j c_j d out_j / d x_i, and a float sum is only accurate relative to its
terms: there the bound is 1e-12 of sum_j |c_j d out_j / d x_i| (which is the relative
bound when the terms do not cancel).

Also: a select does not let the branch not taken turn its gradient into nan (np.where(x > 0,
np.sqrt(x), 0) at x = 0, np.log at negative x, through a named value), a norm has gradient 0
at 0, and gradgen.functions run as plain NumPy give the same numbers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest

from compiled import compiled
from gradcheck import targets
from gradgen.pipeline import compile_file

mpmath.mp.dps = 60
MODEL = Path(__file__).parent / "models" / "numerics.py"
TARGETS = targets(MODEL)
WIDE = np.array(
    [-1000.0, -745.0, -700.0, -100.0, -40.0, -30.0, -10.0, -1.0, -1e-5, -1e-12, 0.0]
    + [1e-12, 1e-5, 0.5, 1.0, 10.0, 30.0, 37.5, 40.0, 100.0, 700.0, 1000.0]
)
ROWS = np.array(
    [
        [1000.0, -1000.0, 0.0],
        [-1000.0, -999.0, -1000.0],
        [0.0, -40.0, -40.0],
        [3.0, 3.0, -2.0],
        [700.0, 699.5, -5.0],
        [-0.5, 2.0, 1.25],
    ]
)


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def mp_softplus(x):
    return mpmath.log(1 + mpmath.exp(x))


def mp_lse(row):
    return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in row))


ELEMENTWISE = {  # target: (reference, arguments)
    "sigmoid_naive": (mp_sigmoid, WIDE),
    "sigmoid_exp_ratio": (mp_sigmoid, WIDE),
    "softplus_naive": (mp_softplus, WIDE),
    "softplus_log1p": (mp_softplus, WIDE),
    "log_sigmoid_naive": (lambda x: -mp_softplus(-x), WIDE),
    "log_one_minus_sigmoid": (lambda x: -mp_softplus(x), WIDE),
    "one_minus_sigmoid": (lambda x: mp_sigmoid(-x), WIDE),
    "exp_of_sigmoid": (lambda x: mpmath.exp(mp_sigmoid(x)), WIDE),
    "log_one_plus": (lambda x: mpmath.log(1 + x), WIDE[WIDE > -1]),
    "exp_minus_one": (lambda x: mpmath.exp(x) - 1, WIDE[WIDE <= 700]),
    "helpers_elementwise": (
        lambda x: mp_sigmoid(x) + mp_softplus(x) / 2 - mp_softplus(-x) / 4,
        WIDE,
    ),
}
ROWWISE = {  # target: reference of one row, as a list of outputs
    "logsumexp_naive": lambda r: [mp_lse(r)],
    "log_softmax_naive": lambda r: [v - mp_lse(r) for v in r],
    "log_of_softmax": lambda r: [v - mp_lse(r) for v in r],
    "log_softmax_after_a_logsumexp": lambda r: [
        v - mp_lse([-u for u in r]) - mp_lse(r) for v in r
    ],
    "softmax_naive": lambda r: [mpmath.exp(v - mp_lse(r)) for v in r],
    "helpers_rows": lambda r: [
        v - mp_lse(r) + mpmath.exp(v - mp_lse(r)) + mp_lse(r) for v in r
    ],
}
TINY = 1e-300


@pytest.fixture(scope="module")
def module():
    return compiled(MODEL)  # test_float_types.py's too


def assert_accurate(got, reference, what, scale=None):
    """``got`` within 1e-12 of ``reference`` relative to it (or to ``scale``, the sum of
    the magnitudes of the terms a reference sum was made of)."""
    got = np.asarray(got, dtype=float)
    expected = np.array([float(r) for r in np.ravel(reference)]).reshape(got.shape)
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    error = np.abs(got - expected)
    size = np.abs(expected) if scale is None else np.array([float(t) for t in scale])
    bound = 1e-12 * size.reshape(got.shape) + TINY
    worst = np.argmax(error / bound)
    assert np.all(error <= bound), (
        f"{what}: {got.flat[worst]!r} vs mpmath {expected.flat[worst]!r} "
        f"(relative error {error.flat[worst] / max(abs(expected.flat[worst]), TINY):.2e})"
    )


def strict(fn, *args):
    """``fn(*args)`` with every NumPy warning an error (overflow, division by zero, invalid
    values; underflow to 0 is NumPy's silent default and right here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return fn(*args)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_values_and_gradients_match_mpmath(module, name):
    reference, x = ELEMENTWISE[name]
    points = [mpmath.mpf(float(v)) for v in x]
    assert_accurate(
        strict(getattr(module, name), x), [reference(p) for p in points], name
    )
    derivative = [mpmath.diff(reference, p) for p in points]
    vjp = strict(getattr(module, f"{name}_vjp"), x, np.ones_like(x))
    assert_accurate(vjp, derivative, f"{name} gradient")


@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_values_and_gradients_match_mpmath(module, name):
    rows = [[mpmath.mpf(float(v)) for v in row] for row in ROWS]
    value = strict(getattr(module, name), ROWS)
    assert_accurate(value, [ROWWISE[name](r) for r in rows], name)
    weights = np.linspace(-1.0, 2.0, np.size(value)).reshape(np.shape(value))
    vjp = strict(getattr(module, f"{name}_vjp"), ROWS, weights)
    expected, terms = [], []
    for row, w in zip(rows, np.reshape(weights, (len(rows), -1))):
        outputs = len(w)
        for k in range(len(row)):
            order = tuple(int(j == k) for j in range(len(row)))
            parts = [
                float(w[j])
                * mpmath.diff(lambda *r, j=j: ROWWISE[name](list(r))[j], row, order)
                for j in range(outputs)
            ]
            expected.append(mpmath.fsum(parts))
            terms.append(mpmath.fsum(abs(p) for p in parts))
    assert_accurate(vjp, expected, f"{name} gradient", scale=terms)


def test_cross_entropy_through_a_named_sigmoid_is_accurate(module):
    z = WIDE
    y = np.linspace(0.0, 1.0, len(z))
    value = strict(module.cross_entropy_named, z, y)

    def reference(zi, yi):
        return yi * mp_softplus(-zi) + (1 - yi) * mp_softplus(zi)

    points = list(
        zip([mpmath.mpf(float(v)) for v in z], [mpmath.mpf(float(v)) for v in y])
    )
    assert_accurate(value, [reference(a, b) for a, b in points], "cross entropy")
    dz, dy = strict(module.cross_entropy_named_vjp, z, y, np.ones_like(z))
    assert_accurate(
        dz, [mpmath.diff(lambda t: reference(t, b), a) for a, b in points], "dz"
    )
    assert_accurate(
        dy, [mpmath.diff(lambda t: reference(a, t), b) for a, b in points], "dy"
    )


def test_norm_gradient_is_zero_at_zero_and_exact_elsewhere(module):
    x = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0], [1e-3, 1e-3, 0.0]])
    value = strict(module.norm_of_rows, x)
    np.testing.assert_array_equal(value[:2], [0.0, 5.0])
    grad = strict(module.norm_of_rows_vjp, x, np.ones(3))
    np.testing.assert_array_equal(grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad[1], [0.6, -0.8, 0.0], rtol=1e-15)
    np.testing.assert_allclose(grad[2], [2**-0.5, 2**-0.5, 0.0], rtol=1e-15)


def test_the_module_lists_the_rewrites_it_applied():
    source = compile_file(str(MODEL), ["log_softmax_naive", "softplus_naive"])
    assert "#   x - logsumexp(x) -> log_softmax(x)" in source
    assert "#   log(1 + exp(x)) -> np.logaddexp(0, x)" in source
    assert "1/(1 + exp(-x))" not in source  # only what was applied is listed


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("softplus", lambda x: np.log1p(np.exp(x))),
        ("log_sigmoid", lambda x: -np.log1p(np.exp(-x))),
    ],
)
def test_functions_run_as_plain_numpy(name, expected):
    import gradgen.functions as functions

    x = np.linspace(-30.0, 30.0, 13)
    np.testing.assert_allclose(getattr(functions, name)(x), expected(x), rtol=1e-14)
    strict(getattr(functions, name), np.array([-1000.0, 1000.0]))


def test_row_functions_run_as_plain_numpy():
    from gradgen.functions import log_softmax, logsumexp, softmax

    x = np.array([[1.0, 2.0, 0.5], [-3.0, 0.0, 3.0]])
    lse = np.log(np.sum(np.exp(x), axis=1))
    np.testing.assert_allclose(logsumexp(x, axis=1), lse, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(x, axis=1), x - lse[:, None], rtol=1e-14)
    np.testing.assert_allclose(softmax(x, axis=1), np.exp(x - lse[:, None]), rtol=1e-14)
    assert strict(logsumexp, np.array([1000.0, -1000.0])) == 1000.0


@pytest.mark.parametrize(
    "name, derivative",
    [
        ("sqrt_where", lambda x: 0.5 / np.sqrt(x)),
        ("log_where", lambda x: 1 / x),
        ("named_sqrt_where", lambda x: 0.5 / np.sqrt(x)),
    ],
)
def test_select_gradient_takes_no_nan_from_the_branch_not_taken(
    module, name, derivative
):
    x = np.array([-2.0, -1e-300, 0.0, 1e-300, 0.25, 4.0])
    with np.errstate(all="ignore"):  # the forward pass evaluates both branches
        value, grad = getattr(module, f"{name}_value_and_grad")(x)
        expected = np.where(x > 0, derivative(x), 0.0)
    assert np.isfinite(value) and np.all(np.isfinite(grad)), grad
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


@pytest.mark.parametrize("x, expected", [(-1.0, 1.0), (0.0, 1.0), (0.5, 2.0)])
def test_converted_branch_gradient_takes_no_nan_from_the_branch_not_taken(
    module, x, expected
):
    with np.errstate(all="ignore"):
        value, grad = module.branch_log_value_and_grad(x)
    assert np.isfinite(value) and grad == expected
