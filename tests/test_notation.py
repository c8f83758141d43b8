"""The formula printers: exact strings in LaTeX and plain text, each LaTeX one rendered."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy.core.parameters import distribute

import gradgen
from gradgen import ir
from gradgen import ops
from gradgen import Array
from gradgen.explain.latex import formula
from gradgen.explain.notation import latex_name, recognise, text
from mathtext import aligned_rows, blocks, render, render_rows

R = lambda name: sp.Symbol(name, real=True)  # noqa: E731
X, W0, W1, h, yhat, y, c = (R(s) for s in "X W0 W1 h yhat y c".split())
dz1, dh, s, b, v = (R(s) for s in "delta_z_1 delta_h s b v".split())
n = ir.dim("n")
SHAPES = {
    X: (n, 2),
    W0: (2, 4),
    W1: (4, 1),
    h: (n, 4),
    yhat: (n, 1),
    y: (n, 1),
    dz1: (n, 1),
    dh: (n, 4),
    c: (n, 4),
    v: (4,),
}


NAMES = [
    ("W1", "W_{1}"),
    ("z_1", "z_{1}"),
    ("z_h_1", "z_{h_{1}}"),
    ("yhat", r"\hat{y}"),
    ("delta_yhat", r"\delta_{\hat{y}}"),
    ("delta_z_h_1", r"\delta_{z_{h_{1}}}"),
    ("alpha", r"\alpha"),
    ("loss", r"\mathrm{loss}"),
    ("sigmoid_array", r"\mathrm{sigmoid\_array}"),
    ("layer_1", r"\mathrm{layer}_{1}"),
    ("t12", "t_{12}"),
]


@pytest.mark.parametrize("name,tex", NAMES, ids=[n for n, _ in NAMES])
def test_code_names_as_math_names(name, tex):
    assert latex_name(name) == tex
    render(tex)


with distribute(False):
    CASES = [
        (ops.MatMul(X, W0), "X W_{0}", "X·W0"),
        (1 / (1 + sp.exp(-h)), r"\sigma\left(h\right)", "σ(h)"),
        (sp.exp(s) / (1 + sp.exp(s)), r"\sigma\left(s\right)", "σ(s)"),
        (
            1 / (sp.exp(-W1 * s - b) + 1),
            r"\sigma\left(s W_{1} + b\right)",
            "σ(s·W1 + b)",
        ),
        (2 * (yhat - y) / n, r"\frac{2}{n} \left(\hat{y} - y\right)", "2·(yhat - y)/n"),
        (
            dh * h * (1 - h),
            r"\delta_{h} \odot h \odot \left(1 - h\right)",
            "delta_h ⊙ h ⊙ (1 - h)",
        ),
        (
            ops.MatMul(dz1, ops.Transpose(W1)) * h,
            r"\left(\delta_{z_{1}} W_{1}^{\top}\right) \odot h",
            "(delta_z_1·W1ᵀ) ⊙ h",
        ),
        (ops.MatMul(ops.Transpose(h), dz1), r"h^{\top} \delta_{z_{1}}", "hᵀ·delta_z_1"),
        (s * h, "s h", "s·h"),  # a scalar scales an array: no ⊙
        (
            ops.reduce(ops.ReduceSum, dh, [0], 2),
            r"\mathbf{1}^{\top} \delta_{h}",
            "sum(delta_h, axis 0)",
        ),
        (
            ops.reduce(ops.ReduceSum, dh, [1], 2),
            r"\delta_{h} \mathbf{1}",
            "sum(delta_h, axis 1)",
        ),
        (
            ops.reduce(ops.ReduceSum, c * h, [0, 1], 2),
            r"\sum \left(c \odot h\right)",
            "sum(c ⊙ h)",
        ),
        (
            ops.reduce(ops.ReduceMean, (yhat - y) ** 2, [0, 1], 2),
            r"\frac{1}{n} \sum \left(\hat{y} - y\right)^{2}",
            "mean((yhat - y)²)",
        ),
        (-1 / h**2, r"-\frac{1}{h^{2}}", "-1/h²"),
        (sp.exp(-s), "e^{-s}", "e^-s"),
        (h - (yhat - s), r"h - \left(\hat{y} - s\right)", "h - (yhat - s)"),
        (ops.Softplus(s), r"\operatorname{softplus}\left(s\right)", "softplus(s)"),
        (ops.Sigmoid(h) ** 2, r"\sigma^{2}\left(h\right)", "σ(h)²"),
        (
            ops.LogSumExp(h, sp.Tuple(1), 0, 2),
            r"\log\sum_{\mathrm{axis}\,1} \exp\left(h\right)",
            "logsumexp(h, axis 1)",
        ),
        (ops.Outer(v, v), r"v v^{\top}", "v·vᵀ"),
        (
            sp.And(h > 0, sp.Ne(s, 0)),
            r"h > 0 \wedge s \neq 0",
            "(h > 0) & (s != 0)",  # & binds tighter than != in Python
        ),
    ]


@pytest.mark.parametrize("expr,tex,plain", CASES, ids=[p for _, _, p in CASES])
def test_exact_formulas(expr, tex, plain):
    shapes = dict(SHAPES)
    assert formula(expr, shapes) == tex
    assert text(expr, shapes) == plain
    render(tex)


def test_sigmoid_is_recognised_once_per_node():
    z = R("z")
    expr = 1 / (1 + sp.exp(-z)) * (1 - 1 / (1 + sp.exp(-z)))
    assert str(recognise(expr)) == "(1 - Sigmoid(z))*Sigmoid(z)"


def tanh_regression(X: Array["n", "d"], w: Array["d"], b: float) -> float:
    r = np.tanh(X @ w + b)
    return np.sum(r**2) / X.shape[0]


def test_compiled_object_shows_its_formulas():
    compiled = gradgen.compile(tanh_regression)
    tex = compiled.latex()
    assert r"r &= \tanh{\left(b + X w \right)}" in tex
    assert render_rows(blocks(tex, r"\[", r"\]")[0]) >= 4
    notebook = compiled._repr_latex_()
    assert notebook.startswith("$$\n\\begin{aligned}") and "%" not in notebook
    render_rows(blocks(notebook, "$$", "$$")[0])
    markdown = compiled._repr_markdown_()
    assert markdown.startswith("## The derivation of `tanh_regression`")
    assert all(aligned_rows(b) for b in blocks(markdown, "$$", "$$"))
    graph = compiled.graph()
    assert 'r [label="r = tanh(b + X·w)"' in graph.source
    assert "def tanh_regression_value_and_grad" in compiled.source
