"""The forward sweep on hand-built IR: statements split to one structural operation each,
tangents from the operations' JVP rules and from per-node partial derivatives, and a loud error for an
operation without a JVP rule."""

from __future__ import annotations

import pytest
import sympy as sp

from gradgen import ir
from gradgen import ops
from gradgen import GradgenError
from gradgen.ad.forward import primitive, tangents


class Pair(ir.Structural):
    """A test-only operation, linear in both of its array arguments."""

    nargs = 2
    array_args = 2

    def out_shape(self, shapes):
        return shapes[0]


def _graph(**shapes):
    graph = ir.Graph()
    symbols = {}
    for name, shape in shapes.items():
        symbols[name] = sp.Symbol(name, real=True)
        graph.add("input", None, shape, None, sym=symbols[name])
    return graph, symbols


def _stmt(graph, name, expr, shape, section="backward"):
    sym = sp.Symbol(name, real=True)
    graph.shapes[sym] = shape
    return ir.Stmt(sym, expr, "adjoint" if section == "backward" else "forward")


def test_nested_structural_operations_get_statements_of_their_own():
    n, d = ir.dim("n"), ir.dim("d")
    graph, s = _graph(g=(n, d), W=(d, d), h=(n, d))
    stmt = _stmt(graph, "a", ops.MatMul(s["g"], ops.Transpose(s["W"])) * s["h"], (n, d))
    split = primitive([stmt], graph)
    assert [type(x.expr).__name__ for x in split] == ["Transpose", "MatMul", "Mul"]
    transpose, matmul, product = split
    assert matmul.expr == ops.MatMul(s["g"], transpose.target)
    assert product.target == stmt.target and product.expr == matmul.target * s["h"]


def test_tangents_reuse_the_value_and_apply_jvp_rules():
    n = ir.dim("n")
    graph, s = _graph(x=(n, n), W=(n, n))
    z = _stmt(graph, "z", ops.MatMul(s["x"], s["W"]), (n, n), "forward")
    h = _stmt(graph, "h", 1 / (1 + sp.exp(-z.target)), (n, n), "forward")
    dW = sp.Symbol("dW", real=True)
    graph.shapes[dW] = (n, n)
    stmts, tangent = tangents([z, h], graph, {s["W"]: dW})
    assert [t.role for t in stmts] == ["tangent", "tangent"]
    assert stmts[0].expr == ops.MatMul(s["x"], dW)
    assert sp.simplify(stmts[1].expr - h.target * (1 - h.target) * stmts[0].target) == 0
    assert tangent[h.target] == stmts[1].target and s["x"] not in tangent


def test_an_operation_linear_in_all_arguments_takes_zeros_for_missing_tangents(
    monkeypatch,
):
    n = ir.dim("n")
    graph, s = _graph(a=(n,), b=(n,))
    stmt = _stmt(graph, "c", Pair(s["a"], s["b"]), (n,), "forward")
    da = sp.Symbol("da", real=True)
    graph.shapes[da] = (n,)
    with pytest.raises(GradgenError, match=r"no forward-mode \(JVP\) rule for Pair"):
        tangents([stmt], graph, {s["a"]: da})
    monkeypatch.setattr(
        Pair, "jvp", ops.arrays.LinearInAll.__dict__["jvp"], raising=False
    )
    (t,), _ = tangents([stmt], graph, {s["a"]: da})
    assert t.expr == Pair(da, ops.broadcast_to(sp.Integer(0), (n,)))
