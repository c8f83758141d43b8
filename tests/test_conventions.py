"""Derivatives at the points where a function has a kink, a jump or a zero that a naive
rule divides by: 0**x, np.clip at its bounds, the remainder across a jump. Checked against
HIPS autograd where its convention is the one gradgen documents (`gradgen ops`); the model
targets are those of tests/models/ops.py."""

from __future__ import annotations

import autograd
import numpy as np
import pytest

from compiled import compiled
from gradcheck import ROOT, autograd_namespace

OPS = ROOT / "tests" / "models" / "ops.py"
NAMES = ["power_of_zero", "clip_", "remainder_"]


@pytest.fixture(scope="module")
def module():
    return compiled(OPS, NAMES)


@pytest.fixture(scope="module")
def reference():
    return autograd_namespace(OPS)


def test_a_power_of_zero_has_derivative_zero_where_autograd_says_so(module, reference):
    # autograd's suite: np.power(0.0, x) for x in (0, 1), once a nan
    x = np.array([[0.1, 0.5], [0.9, 2.0]])
    c = np.array([[1.0, -1.0], [2.0, 3.0]])
    value, (dx, dc) = module.power_of_zero_value_and_grad(x, c)
    assert value == 0.0
    np.testing.assert_array_equal(dx, np.zeros_like(x))
    expected = autograd.grad(reference["power_of_zero"])(x, c)
    np.testing.assert_array_equal(dx, expected)


def test_clip_has_autograds_derivative_at_and_beyond_its_bounds(module, reference):
    # -0.5 and 0.5 are np.clip(x, -0.5, 0.5)'s bounds, 0.2 np.clip(x, 0.2, None)'s
    x = np.array([[-0.5, 0.5, 0.2], [-1.0, 1.0, 0.0]])
    c = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    _, (dx, _) = module.clip__value_and_grad(x, c)
    expected = autograd.grad(reference["clip_"])(x, c)
    np.testing.assert_allclose(dx, expected, rtol=1e-15, atol=0)


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
