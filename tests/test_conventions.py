"""Derivatives at the points where a function has a kink, a jump or a zero that a naive
rule divides by: the product and the running product at zeros, 0**x, np.clip at its
bounds, the minimum at ties, the remainder across a jump. Checked against exact values
(the product of the other entries; central differences of a polynomial) and against HIPS
autograd where its convention is the one gradgen documents (`gradgen ops`); the model
targets are those of tests/models/ops.py."""

from __future__ import annotations

import autograd
import numpy as np
import pytest

from compiled import compiled
from gradcheck import ROOT, autograd_namespace

OPS = ROOT / "tests" / "models" / "ops.py"
NAMES = [
    "prod_axes",
    "cumprod_axes",
    "pow_traced_base",
    "power_of_zero",
    "clip_",
    "min_axes",
    "remainder_",
]


@pytest.fixture(scope="module")
def module():
    return compiled(OPS, NAMES)


@pytest.fixture(scope="module")
def reference():
    return autograd_namespace(OPS)


def _others(x: np.ndarray) -> np.ndarray:
    """The product of every entry of a vector but the i-th, by deleting it."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


def test_the_derivative_of_a_product_at_a_zero_is_the_product_of_the_others(module):
    # a column with one zero, a column with two, a row with one, and a zero-free row
    x = np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 5.0], [6.0, 0.0, 7.0], [1.5, -2.0, 0.5]])
    c0, c1, c2 = np.array([1.0, -2.0, 0.5]), np.arange(1.0, 5.0), np.ones((4, 1))
    _, (dx, *_) = module.prod_axes_value_and_grad(x, c0, c1, c2)
    columns = np.stack([_others(x[:, j]) for j in range(3)], axis=1) * c0
    rows = np.stack([_others(x[i]) for i in range(4)]) * (c1 + c2[:, 0])[:, None]
    whole = _others(x.ravel()).reshape(x.shape)
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx, columns + rows + whole, rtol=1e-14, atol=0)


def test_the_derivative_of_a_running_product_at_zeros_is_exact(module):
    # zeros alone, in pairs and at the ends of the running axes; the function is a
    # polynomial, so central differences are exact to rounding
    x = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 1.5], [0.5, 0.0, -2.0], [1.5, -1.0, 0.0]])
    rng = np.random.default_rng(0)
    c, v = rng.normal(size=x.shape), rng.normal(size=3)
    dx = module.cumprod_axes_grad(x, c, v)[0]
    step, expected = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = step
        up, down = module.cumprod_axes(x + e, c, v), module.cumprod_axes(x - e, c, v)
        expected[i] = (up - down) / (2 * step)
    np.testing.assert_allclose(dx, expected, rtol=1e-7, atol=1e-9)


def test_a_power_of_zero_has_derivative_zero_where_autograd_says_so(module, reference):
    # autograd's suite: np.power(0.0, x) for x in (0, 1), once a nan
    x = np.array([[0.1, 0.5], [0.9, 2.0]])
    c = np.array([[1.0, -1.0], [2.0, 3.0]])
    value, (dx, dc) = module.power_of_zero_value_and_grad(x, c)
    assert value == 0.0
    np.testing.assert_array_equal(dx, np.zeros_like(x))
    expected = autograd.grad(reference["power_of_zero"])(x, c)
    np.testing.assert_array_equal(dx, expected)


def test_a_traced_power_of_zero_has_autograds_derivatives(module, reference):
    # d/dp 0**p is 0 for p > 0 (not 0 log 0); d/dx x**p at 0 is p 0**(p - 1)
    x = np.array([[0.0, 0.0], [0.0, 1.5]])
    p = np.array([[0.5, 2.0], [1.0, 0.7]])
    with np.errstate(divide="ignore", invalid="ignore"):  # 0**-0.5 in both, log 0
        grads = module.pow_traced_base_grad(x, p)
        expected = autograd.grad(reference["pow_traced_base"], (0, 1))(x, p)
    for got, want in zip(grads, expected):
        np.testing.assert_array_equal(got, want)


def test_clip_has_autograds_derivative_at_and_beyond_its_bounds(module, reference):
    # -0.5 and 0.5 are np.clip(x, -0.5, 0.5)'s bounds, 0.2 np.clip(x, 0.2, None)'s
    x = np.array([[-0.5, 0.5, 0.2], [-1.0, 1.0, 0.0]])
    c = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    _, (dx, _) = module.clip__value_and_grad(x, c)
    expected = autograd.grad(reference["clip_"])(x, c)
    np.testing.assert_allclose(dx, expected, rtol=1e-15, atol=0)


def test_tied_minima_share_the_gradient_equally_as_in_autograd(module, reference):
    x = np.array([[1.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    c0, c1, c2 = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]), np.ones((3, 1))
    _, grads = module.min_axes_value_and_grad(x, c0, c1, c2)
    expected = autograd.grad(reference["min_axes"], (0, 1, 2, 3))(x, c0, c1, c2)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_the_remainder_takes_autograds_derivatives_on_either_side_of_a_jump(
    module, reference
):
    # x % y jumps where x/y is an integer; on either side: 1 in x, -floor(x/y) in y
    y = np.array([0.5, 2.0])
    x = np.array([[1.0 - 1e-9, 1.0 + 1e-9], [-3.3, 7.1]])
    c = np.array([[1.0, 2.0], [3.0, 4.0]])
    grads = module.remainder__grad(x, y, c)
    expected = autograd.grad(reference["remainder_"], (0, 1, 2))(x, y, c)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
