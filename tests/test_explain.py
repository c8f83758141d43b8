"""gradgen explain: the chain rule path by path. The texts the study notes give, and the
explained formula is the gradient (central differences), not just a pretty string."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gradcheck import ROOT, central_difference, random_inputs, targets
from gradgen.cli.commands import main
from gradgen.explain.paths import to_text
from gradgen.codegen.printer import to_source
from gradgen.cli.show import explanation, programs
from mathtext import blocks, render_rows


def _explain(capsys, model: str, *args) -> str:
    assert main(["explain", str(ROOT / "examples" / model), *args]) == 0
    return capsys.readouterr().out


def test_sigmoid_is_four_local_derivatives_and_sigma_times_one_minus_sigma(capsys):
    text = _explain(capsys, "sigmoid.py", "--function", "sigmoid", "--wrt", "z")
    assert "One path leads from i down to z: i ← h ← g ← f ← z." in text
    assert "∂i/∂z = ∂i/∂h · ∂h/∂g · ∂g/∂f · ∂f/∂z" in text
    assert "= (-1/h²) · 1 · e^f · (-1)" in text
    assert "= e^-z/(1 + e^-z)²" in text
    assert text.rstrip().count("= σ(z)·(1 - σ(z))") == 1
    assert "delta_f = delta_h·g" in text  # the generated code's lines


def test_neuron_is_the_textbook_product(capsys):
    text = _explain(capsys, "neuron.py", "--wrt", "W1")
    assert "∂cost/∂W1 = ∂cost/∂y · ∂y/∂z_1 · ∂z_1/∂h · ∂h/∂z · ∂z/∂W1" in text
    assert "= (y - t) · y·(1 - y) · W2 · h·(1 - h) · x" in text
    assert "delta_z = delta_h·h·(1 - h)" in text  # as gradgen latex writes it


def test_two_paths_add_up(capsys):
    text = _explain(capsys, "elementary.py", "--wrt", "x")
    assert "2 paths lead from z down to x" in text
    assert "∂z/∂a · ∂a/∂x = 1 · y" in text
    assert "∂z/∂b · ∂b/∂x = 1 · cos(x)" in text
    assert "∂z/∂x = y + cos(x)" in text


def test_arrays_are_explained_as_vector_jacobian_products(capsys):
    text = _explain(capsys, "xor.py", "--wrt", "W1")
    assert "∂yhat/∂z_1 : g ↦ g ⊙ yhat ⊙ (1 - yhat)" in text
    assert "∂z_1/∂W1 : g ↦ hᵀ·g" in text
    assert "dW1 = hᵀ·delta_z_1" in text


def _value(expr, chain, args: dict):
    """An explained formula (over parameters and steps) evaluated with NumPy."""
    for step in reversed(chain.steps):
        expr = expr.xreplace({step.sym: step.expr})
    names = {p: sp.Symbol(n, real=True) for p, n in chain.names.items()}
    expr = expr.replace(  # the generated module's sigmoid helper, written out
        lambda e: type(e).__name__ == "Sigmoid", lambda e: 1 / (1 + sp.exp(-e.args[0]))
    )
    # the printed code makes arrays of numbers in the arguments' float type, dtype
    return eval(
        to_source(expr.xreplace(names)), {"np": np, "dtype": np.dtype(float), **args}
    )


CASES = [
    ("sigmoid.py", "sigmoid", "z", {"z": 0.3}),
    ("neuron.py", "cost", "W1", {"x": 0.7, "t": 0.2, "W1": -0.4, "W2": 1.3}),
    ("elementary.py", "z", "x", {"x": 0.9, "y": -1.1}),
    ("gate.py", "gate", "w0", dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)),
    ("bowl.py", "f", "w2", {"w1": 1.0, "w2": 1.0}),
]


@pytest.mark.parametrize("model,function,wrt,args", CASES, ids=[c[0] for c in CASES])
def test_explained_scalar_formulas_are_the_derivative(model, function, wrt, args):
    path = ROOT / "examples" / model
    (program,) = programs(str(path), [function], [wrt])
    x = explanation(program, wrt)
    fn = targets(path)[function].fn
    order = [p.name for p in program.params]
    numeric = central_difference(fn, [args[n] for n in order], order.index(wrt))
    assert _value(x.total, x.chain, args) == pytest.approx(float(numeric), rel=1e-6)
    for form in x.inputs:  # in terms of the inputs, with σ recognised
        form = form.replace(
            lambda e: type(e).__name__ == "Sigmoid",
            lambda e: 1 / (1 + sp.exp(-e.args[0])),
        )
        assert _value(form, x.chain, args) == pytest.approx(float(numeric), rel=1e-6)


def test_explained_array_formula_is_the_gradient():
    path = ROOT / "examples" / "xor.py"
    (program,) = programs(str(path), None, ["W0"])
    x = explanation(program, "W0")
    rng = np.random.default_rng(3)
    args = {"X": rng.normal(size=(5, 2)), "y": rng.normal(size=(5, 1))}
    args |= {"W0": rng.normal(size=(2, 4)), "W1": rng.normal(size=(4, 1)), "n": 5}
    order = ["X", "y", "W0", "W1"]
    fn = targets(path)["loss"].fn
    numeric = central_difference(fn, [args[n] for n in order], 2)
    np.testing.assert_allclose(_value(x.total, x.chain, args), numeric, rtol=1e-6)


def test_latex_output_renders(capsys):
    for model, args in [
        ("sigmoid.py", ["--function", "sigmoid", "--wrt", "z"]),
        ("elementary.py", []),
        ("xor.py", ["--wrt", "W0"]),
        ("neuron.py", ["--wrt", "W1"]),
    ]:
        text = _explain(capsys, model, "--latex", *args)
        found = blocks(text, r"\[", r"\]")
        assert found and sum(render_rows(b) for b in found) >= 3


def test_unknown_parameter_is_one_line(capsys):
    assert main(["explain", str(ROOT / "examples" / "xor.py"), "--wrt", "W7"]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "xor.py:15: error: --wrt names 'W7', which is not a parameter of "
        "loss(X, y, W0, W1) (list parameters separated by commas, e.g. --wrt W0,W1)\n"
    )
    assert len(err.splitlines()) == 1


OPS = ROOT / "tests" / "models" / "ops.py"
OPS_CASES = [
    ("helper_and_loop", "W"),  # several paths through a loop and a helper
    ("max_axes", "x"),
    ("where_two_arrays", "y"),
    ("mul_row_column", "u"),
    ("trace_", "A"),
]


@pytest.mark.parametrize("function,wrt", OPS_CASES, ids=[c[0] for c in OPS_CASES])
def test_explained_formula_for_operations_is_the_gradient(function, wrt):
    (program,) = programs(str(OPS), [function], [wrt])
    x = explanation(program, wrt)
    target = targets(OPS)[function]
    sizes = {"n": 3, "d": 4, "m": 2, "k": 2}
    args = random_inputs(target, sizes, np.random.default_rng(5))
    order = [p.name for p in program.params]
    numeric = central_difference(target.fn, args, order.index(wrt))
    value = _value(x.total, x.chain, dict(zip(order, args)) | sizes)
    np.testing.assert_allclose(
        np.broadcast_to(value, numeric.shape), numeric, rtol=1e-5
    )


def test_many_paths_are_cut_short_but_summed_in_full(tmp_path):
    model = tmp_path / "paths.py"
    model.write_text(
        "def f(x: float) -> float:\n"
        "    for _ in range(6):\n"
        "        a = x / 2\n"
        "        b = x * x / 4\n"
        "        x = a + b\n"  # two paths through every step: 2**6 in all
        "    return x\n"
    )
    (program,) = programs(str(model))
    x = explanation(program, "x")
    assert len(x.terms) == 24 and x.more_paths
    text = to_text(x)
    assert "More than 24 paths lead from x_6 down to x: the first 24 are shown" in text
    fn = targets(model)["f"].fn
    numeric = central_difference(fn, [0.3], 0)
    assert _value(x.total, x.chain, {"x": 0.3}) == pytest.approx(
        float(numeric), rel=1e-6
    )


def test_a_select_summed_inside_a_select_is_explained(capsys):
    """where(u6 < u7, 1, 0), summed inside another select, is a step of its own: folded
    into its reader, SymPy decided it by the outer condition (an internal error before).
    """
    models = ROOT / "tests" / "models" / "random_regressions.py"
    args = ["--function", "select_summed_inside_a_select"]
    assert main(["explain", str(models), *args]) == 0
    out, err = capsys.readouterr()
    assert "W1" in out and err == ""
