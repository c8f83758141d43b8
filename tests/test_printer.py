"""The printer: exact strings, and the printed code computes what the expression means."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy.core.parameters import distribute

from gradgen import ir
from gradgen import ops
from gradgen.codegen.printer import to_source

a, b, c, x, y, g = sp.symbols("a b c x y g", real=True)
yhat = sp.Symbol("yhat", real=True)
n = ir.dim("n")

CASES = [
    (ops.MatMul(a, b * c), "np.dot(a, b*c)"),
    (x * ops.MatMul(a, b), "x*np.dot(a, b)"),
    (ops.MatMul(ops.MatMul(a, b), c), "np.dot(np.dot(a, b), c)"),
    (ops.MatMul(a, ops.MatMul(b, c)), "np.dot(a, np.dot(b, c))"),
    (ops.MatMul(-a, b), "np.dot(-a, b)"),
    (-ops.MatMul(a, b) ** 2, "-np.dot(a, b)**2"),
    (ops.MatMul(a, b ** sp.Rational(-1, 2)), "np.dot(a, 1/np.sqrt(b))"),
    (ops.MatMul(1 / a, b), "np.dot(1/a, b)"),
    (ops.Transpose(a + b), "(a + b).T"),
    (ops.Transpose(ops.MatMul(a, b)), "np.dot(a, b).T"),
    (ops.MatMul(ops.Transpose(a), g), "np.dot(a.T, g)"),
    (yhat - y, "yhat - y"),
    (1 - yhat, "1 - yhat"),
    (-(yhat - 1), "1 - yhat"),
    (sp.Rational(1, 2) * x, "x/2"),
    (sp.Mul(2, yhat - y, evaluate=False) / n, "(2/n) * (yhat - y)"),
    (-yhat / n, "-(1/n) * yhat"),
    (2 * x * yhat * (1 - yhat) / n, "(2/n) * x*yhat*(1 - yhat)"),
    (x / n, "x/n"),
    (-ops.reduce(ops.ReduceSum, x * y, [0, 1], 2) / n, "-np.sum(x*y)/n"),
    (-2 * x, "-2*x"),
    (sp.Float(0.1) * x, "0.1*x"),
    (sp.pi * x, "np.pi*x"),
    (sp.sqrt(x), "np.sqrt(x)"),
    (1 / sp.sqrt(x), "1/np.sqrt(x)"),
    (1 / (1 + sp.exp(-x)), "1/(1 + np.exp(-x))"),
    (sp.asin(x) + sp.Abs(y), "np.abs(y) + np.arcsin(x)"),
    (sp.Max(x, 0), "np.maximum(x, 0)"),
    (sp.Min(sp.Float(0.5), x, y), "np.minimum(x, np.minimum(y, 0.5))"),
    (sp.Min(x, y), "np.minimum(x, y)"),
    (sp.Heaviside(x), "np.heaviside(x, 0.5)"),
    (sp.sign(x), "np.sign(x)"),
    (sp.Piecewise((x, x > 0), (x / 10, True)), "np.where(x > 0, x, x/10)"),
    (
        sp.Piecewise((x, sp.And(x > 0, x < y)), (0, True)),
        "np.where((x > 0) & (x < y), x, 0)",
    ),
    (
        ops.reduce(ops.ReduceSum, x, [1], 2, keepdims=True),
        "np.sum(x, axis=1, keepdims=True)",
    ),
    (ops.reduce(ops.ReduceSum, x, [0, 1], 2), "np.sum(x)"),
    (ops.reduce(ops.ReduceMean, x, [0], 2), "np.mean(x, axis=0)"),
    (ops.reduce(ops.ReduceMax, x, [0, 2], 3), "np.max(x, axis=(0, 2))"),
    (ops.expand_dims(g, [1], 1), "g[:, None]"),
    (ops.expand_dims(g + a, [0], 1), "(a + g)[None]"),
    (ops.broadcast_to(sp.Integer(1), (n, 3)), "np.ones((n, 3), dtype)"),
    (ops.broadcast_to(g, (n,)), "np.broadcast_to(g, (n,))"),
    (ops.FullLike(sp.Integer(0), a), "np.zeros_like(a)"),
    (ops.FullLike(g, a), "np.full_like(a, g)"),
    (ops.Eye(n, n), "np.eye(n, dtype=dtype)"),
    (ops.TraceOp(a), "np.trace(a)"),
    (ops.Outer(a, b), "np.outer(a, b)"),
    (g * ops.IsEqual(a, b), "g*(a == b).astype(dtype)"),
]


@pytest.mark.parametrize("expr,text", CASES, ids=[t for _, t in CASES])
def test_exact_text(expr, text):
    assert to_source(expr) == text


def test_products_stay_factored_as_the_pipeline_builds_them():
    with distribute(False):  # as during compilation
        assert to_source(2 * (yhat - y) / n) == "(2/n) * (yhat - y)"


def test_a_subtracted_sum_keeps_its_parentheses():
    with distribute(False):  # x - (yhat - y) stays x + (-1)*(yhat - y)
        text = to_source(x - (yhat - y))
    assert text == "x - (yhat - y)"
    assert eval(text, {"x": 1.0, "yhat": 5.0, "y": 2.0}) == -2.0


def test_a_subtracted_sum_keeps_its_parentheses():
    with distribute(False):  # as during compilation: -(2*b - 3) stays a product
        assert to_source(a * b - (2 * b - 3)) == "a*b - (2*b - 3)"
        assert to_source(-(2 * b - 3) + a) == "a - (2*b - 3)"


def test_printed_code_computes_the_expression():
    rng = np.random.default_rng(0)
    env = {
        "np": np,
        "a": rng.normal(size=(3, 3)),
        "b": rng.normal(size=(3, 3)),
        "c": rng.normal(size=(3, 3)),
        "x": rng.normal(size=3),
        "g": rng.normal(size=3),
    }
    A, B, C, X, G = (env[k] for k in "abcxg")
    expected = {
        "np.dot(a, b*c)": A @ (B * C),
        "x*np.dot(a, b)": X * (A @ B),
        "np.dot(-a, b)": (-A) @ B,
        "-np.dot(a, b)**2": -((A @ B) ** 2),
        "np.dot(a, np.dot(b, c))": A @ (B @ C),
        "(a + b).T": (A + B).T,
        "np.dot(a.T, g)": A.T @ G,
        "g[:, None]": G.reshape(3, 1),
        "1/(1 + np.exp(-x))": 1 / (1 + np.exp(-X)),
    }
    for text, value in expected.items():
        np.testing.assert_allclose(eval(text, env), value, rtol=1e-15)
