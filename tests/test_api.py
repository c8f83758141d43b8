"""The Python API: gradgen.compile(fn) returns the source and the imported module."""

from __future__ import annotations

import subprocess
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import gradgen
from gradgen import Array, GradgenError


def tanh_regression(X: Array["n", "d"], w: Array["d"], b: float) -> float:
    r = np.tanh(X @ w + b)
    return np.sum(r**2) / X.shape[0]


def tanh_regression_reference(X, w, b):
    r = anp.tanh(anp.dot(X, w) + b)
    return anp.sum(r**2) / X.shape[0]


def softmax_rows(z: Array["n", "k"]) -> Array["n", "k"]:
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def test_compile_returns_source_and_module():
    compiled = gradgen.compile(tanh_regression)
    assert (
        "def tanh_regression_value_and_grad(\n    X: FloatArray, w: FloatArray, b: float\n)"
        in compiled.source
    )
    rng = np.random.default_rng(1)
    for n, d in [(4, 3), (9, 2)]:
        X, w, b = rng.normal(size=(n, d)), rng.normal(size=d), 0.3
        value, grads = compiled.module.tanh_regression_value_and_grad(X, w, b)
        expected = autograd.grad(tanh_regression_reference, (0, 1, 2))(X, w, b)
        assert value == pytest.approx(tanh_regression(X, w, b), rel=1e-14)
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(got, want, rtol=1e-10)
        assert compiled.tanh_regression(X, w, b) == pytest.approx(value, rel=1e-14)


def test_wrt_as_a_name_gives_one_gradient():
    compiled = gradgen.compile(tanh_regression, wrt="w")
    X, w = np.ones((3, 2)), np.array([0.1, -0.2])
    dw = compiled.tanh_regression_grad(X, w, 0.0)
    np.testing.assert_allclose(
        dw, autograd.grad(tanh_regression_reference, 1)(X, w, 0.0)
    )
    assert "dX" not in compiled.source and "db" not in compiled.source


def test_array_output_gets_a_vjp():
    compiled = gradgen.compile(softmax_rows)
    z = np.random.default_rng(2).normal(size=(3, 4))
    v = np.random.default_rng(3).normal(size=(3, 4))

    def reference(z):
        e = anp.exp(z - anp.max(z, axis=1, keepdims=True))
        return anp.sum(e / anp.sum(e, axis=1, keepdims=True) * v)

    np.testing.assert_allclose(
        compiled.softmax_rows_vjp(z, v),
        autograd.grad(reference)(z),
        rtol=1e-10,
        atol=1e-14,
    )
    np.testing.assert_allclose(compiled.softmax_rows(z), softmax_rows(z), rtol=1e-14)


def test_bad_input_raises_a_located_error():
    def uses_if(x: float) -> float:
        if x > 0:
            return x
        return -x

    with pytest.raises(GradgenError) as info:
        gradgen.compile(uses_if)
    assert "test_api.py:" in str(info.value) and "np.where" in str(info.value)
    with pytest.raises(GradgenError):
        gradgen.compile(tanh_regression, wrt="nope")
    with pytest.raises(GradgenError):
        gradgen.compile(np.sum)


def test_annotations_cost_nothing_at_run_time():
    X, w = np.ones((2, 3)), np.arange(3.0)
    assert tanh_regression(X, w, 0.5) == pytest.approx(
        tanh_regression_reference(X, w, 0.5)
    )
    assert (
        repr(Array["n", "d"]) == "Array['n', 'd']" and Array["n d"] == Array["n", "d"]
    )
    assert Array[4, "d"].dims == (4, "d") and Array[()].dims == ()
    for bad in [("n", 1.5), ("", "n"), ("n-1",), (0,)]:
        with pytest.raises(TypeError):
            Array[bad]


def test_a_function_without_source_is_refused_with_a_hint(tmp_path):
    """As at the interactive prompt or in ``python -c``: no file holds its source."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gradgen\ndef f(x: float) -> float:\n    return x * x\n"
            "try:\n    gradgen.compile(f)\nexcept gradgen.GradgenError as e:\n"
            "    print(e)\n",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "<string>: error: cannot read the source of f (gradgen reads a function's "
        "source: define it in a .py file or a notebook cell, not in python -c or at the "
        "interactive prompt)"
    )


def test_a_compile_called_near_the_recursion_limit_runs_as_from_the_top():
    """A notebook's or a test runner's stack can be deep: the compile gets the same
    number of frames above wherever it starts (gradgen.process.stack_budget), so a model
    compiles, or not, whatever the caller's depth."""
    limit = sys.getrecursionlimit()

    def depth():
        frame, count = sys._getframe(), 0
        while frame is not None:
            frame, count = frame.f_back, count + 1
        return count

    def at_depth(k):
        return at_depth(k - 1) if k else (depth(), gradgen.compile(tanh_regression))

    started, compiled = at_depth(limit - depth() - 30)
    assert started > limit - 40  # within 40 frames of the limit
    assert sys.getrecursionlimit() == limit  # restored
    X, w = np.ones((3, 2)), np.array([0.5, -0.25])
    value, grads = compiled.module.tanh_regression_value_and_grad(X, w, 0.1)
    expected = autograd.grad(tanh_regression_reference, (0, 1, 2))(X, w, 0.1)
    assert value == pytest.approx(tanh_regression(X, w, 0.1), rel=1e-14)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10)
