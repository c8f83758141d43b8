"""Full sums and means of products become dot products: the text, and that the value and
gradients stay right (against autograd running the same model)."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from gradgen import ops
from gradgen import Array
import gradgen


def sum_of_products(x: Array["n"], y: Array["n"]) -> float:
    return np.sum(x * y + np.sin(x))


def mean_square(a: Array["n", "d"], b: Array["d", "k"], y: Array["n", "k"]) -> float:
    r = a @ b - y
    return np.mean(r**2)


def weighted(x: Array["n", "d"], w: Array["d"]) -> float:
    return np.sum(x * w * x)  # w broadcasts: not a contraction of same-shaped operands


def reference(fn):
    return {
        sum_of_products: lambda x, y: anp.sum(x * y + anp.sin(x)),
        mean_square: lambda a, b, y: anp.mean((anp.dot(a, b) - y) ** 2),
        weighted: lambda x, w: anp.sum(x * w * x),
    }[fn]


@pytest.mark.parametrize(
    "fn,text",
    [
        (sum_of_products, "f = np.dot(x, y) + np.sum(np.sin(x))"),
        (mean_square, "np.vdot(r, r) / (k * n)"),
        (weighted, "np.sum(t1 * w)"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_contractions(fn, text):
    compiled = gradgen.compile(fn)
    source = compiled.source.replace(f"{fn.__name__} =", "f =")
    assert text in source
    rng = np.random.default_rng(0)
    shapes = {
        sum_of_products: [(7,), (7,)],
        mean_square: [(5, 3), (3, 2), (5, 2)],
        weighted: [(4, 3), (3,)],
    }[fn]
    args = [rng.normal(size=s) for s in shapes]
    value, grads = getattr(compiled, f"{fn.__name__}_value_and_grad")(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    want = autograd.grad(reference(fn), tuple(range(len(args))))(*args)
    for got, expected in zip(grads, want):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_a_forward_pass_keeps_the_square_of_an_expression():
    def loss(a: Array["n"], y: Array["n"]) -> float:
        return np.mean((a - y) ** 2)

    source = gradgen.compile(loss).source
    forward = source.split("def loss(", 1)[1].split("def loss_grad(", 1)[0]
    assert "return np.mean((a - y) ** 2)" in forward


def test_a_symbol_without_a_shape_leaves_the_sum_alone():
    import sympy as sp

    from gradgen import ir
    from gradgen.codegen.optimize import contractions

    graph = ir.Graph()
    x, unknown = sp.symbols("x unknown", real=True)
    graph.shapes[x] = (ir.dim("n"),)
    total = ops.reduce(ops.ReduceSum, x * unknown, [0], 1)
    stmt = ir.Stmt(sp.Symbol("s", real=True), total, "forward")
    (out,), _ = contractions([stmt], [], graph)
    assert out.expr == total
    graph.shapes[unknown] = (ir.dim("n"),)
    (out,), _ = contractions([stmt], [], graph)
    assert out.expr == ops.MatMul(unknown, x) or out.expr == ops.MatMul(x, unknown)
