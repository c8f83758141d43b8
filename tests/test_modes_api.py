"""The extra modes as an API and on the command line: what they leave unchanged, what they
need at run time, how the Jacobian chooses forward or reverse mode, errors."""

from __future__ import annotations

import re
import subprocess
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from gradgen import ops
from gradgen.codegen import dense
from gradgen import Array, GradgenError
import gradgen
from compiled import generated_source
from gradcheck import ROOT, autograd_namespace, import_path
from gradgen.cli.commands import main
from gradgen.pipeline import compile_file
from modecheck import Flat, hessian_matrix, jacobian_matrix

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _functions(source: str) -> list[str]:
    """Each top-level function of a module, as text."""
    return [
        "def " + part.rstrip() for part in re.split(r"^def ", source, flags=re.M)[1:]
    ]


@pytest.mark.parametrize(
    "path", [ROOT / "examples" / "xor.py", ROOT / "examples" / "deep.py"]
)
def test_modes_leave_the_first_order_functions_unchanged(path):
    default = generated_source(path)
    with_modes = generated_source(path, modes="all")  # test_modes.py's compile too
    for function in _functions(default):
        assert function in with_modes
    assert len(_functions(with_modes)) == len(_functions(default)) + 3  # no jacobian


NUMPY_ONLY = """
import importlib.util, sys
sys.modules["sympy"] = None; sys.modules["gradgen"] = None; sys.modules["autograd"] = None
import numpy as np
spec = importlib.util.spec_from_file_location("xor_modes", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
rng = np.random.default_rng(0)
args = [rng.normal(size=s) for s in [(5, 2), (5, 1), (2, 4), (4, 1)]]
first = m.loss_hessian(*args)
for _ in range(3):
    again = m.loss_hessian(*args)
    assert all(np.array_equal(a, b) for r, s in zip(first, again) for a, b in zip(r, s))
print(m.loss_hvp(*args, tuple(args))[2].shape, m.loss_jvp(*args, tuple(args))[1])
"""


def test_second_order_code_is_compiled_once_and_needs_numpy_only(tmp_path):
    out = tmp_path / "xor_modes.py"
    assert (
        main(
            [
                "compile",
                str(ROOT / "examples" / "xor.py"),
                "-o",
                str(out),
                "--mode",
                "all",
            ]
        )
        == 0
    )
    assert "gradgen compile" in out.read_text() and "--mode all" in out.read_text()
    run = subprocess.run(
        [sys.executable, "-c", NUMPY_ONLY, str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("(2, 4) ")


def test_a_missing_jvp_rule_is_an_error_naming_the_operation(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr(ops.TraceOp, "jvp", None)
    model = str(ROOT / "tests" / "models" / "ops.py")
    with pytest.raises(
        GradgenError, match="no forward-mode \\(JVP\\) rule for TraceOp"
    ):
        compile_file(model, ["trace_"], modes="jvp")
    assert (
        main(
            [
                "compile",
                model,
                "--function",
                "trace_",
                "--mode",
                "hvp",
                "-o",
                str(tmp_path / "x.py"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "ops.py:" in err and "error: no forward-mode (JVP) rule for TraceOp" in err


def outer_tanh(u: Array[2, 1], v: Array[1, 5]) -> Array[2, 5]:
    return np.tanh(u * v)


def softmax_rows(z: Array["n", "k"]) -> Array["n", "k"]:
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def layer(X: Array["n", "d"], W: Array["d", "k"], b: Array["k"]) -> Array["n", "k"]:
    return np.tanh(X @ W + b)


def _softmax_reference(z):
    e = anp.exp(z - anp.max(z, axis=1, keepdims=True))
    return e / anp.sum(e, axis=1, keepdims=True)


def _reference_jacobian(fn, args):
    flat = Flat(args)
    jac = autograd.jacobian(flat.function(fn))(flat.x)
    return np.reshape(jac, (-1, flat.x.size)), flat.sizes


JACOBIAN_CASES = {  # model, autograd reference, argument shapes per size set, mode
    "forward": (outer_tanh, lambda u, v: anp.tanh(u * v), [[(2, 1), (1, 5)]]),
    "reverse": (softmax_rows, _softmax_reference, [[(3, 4)], [(5, 2)]]),
    # d*k + d*n + k against n*k: 21 < 54 takes forward mode, 14 > 4 reverse mode
    "both": (
        layer,
        lambda X, W, b: anp.tanh(anp.dot(X, W) + b),
        [[(9, 1), (1, 6), (6,)], [(2, 3), (3, 2), (2,)]],
    ),
}


@pytest.mark.parametrize("mode", sorted(JACOBIAN_CASES))
def test_the_jacobian_chooses_forward_or_reverse_mode(mode):
    fn, reference, shape_sets = JACOBIAN_CASES[mode]
    compiled = gradgen.compile(fn, modes="jacobian")
    source = compiled.source.split(f"def {fn.__name__}_jacobian", 1)[1]
    assert ("cotangent" in source) == (mode != "forward")
    assert ("_dot" in source) == (mode != "reverse")
    assert ("else:" in source) == (mode == "both")
    rng = np.random.default_rng(4)
    for shapes in shape_sets:
        args = [rng.normal(size=shape) for shape in shapes]
        expected, sizes = _reference_jacobian(reference, args)
        got = getattr(compiled, f"{fn.__name__}_jacobian")(*args)
        matrix = jacobian_matrix(got, expected.shape[0], sizes)
        np.testing.assert_allclose(matrix, expected, rtol=1e-10, atol=1e-12)


def test_one_differentiated_parameter_takes_and_gives_one_array():
    xor = import_path(ROOT / "examples" / "xor.py", "xor_model")
    compiled = gradgen.compile(xor.loss, wrt="W1", modes="all")
    rng = np.random.default_rng(5)
    args = [rng.normal(size=s) for s in [(6, 2), (6, 1), (2, 4), (4, 1)]]
    hess = compiled.loss_hessian(*args)
    assert hess.shape == (4, 1, 4, 1)
    v = rng.normal(size=(4, 1))
    hv = compiled.loss_hvp(*args, v)
    np.testing.assert_allclose(
        hv, np.tensordot(hess, v, axes=2), rtol=1e-12, atol=1e-14
    )
    value, value_dot = compiled.loss_jvp(*args, v)
    np.testing.assert_allclose(
        value_dot, np.sum(compiled.loss_grad(*args) * v), rtol=1e-12
    )
    assert "H_W0" not in compiled.source and "X_dot" not in compiled.source


def test_float_parameters_give_floats():
    module = import_path(ROOT / "examples" / "elementary.py", "elementary_model")
    compiled = gradgen.compile(module.z, modes="all")
    value, value_dot = compiled.z_jvp(0.3, -1.2, (1.0, 0.0))
    assert isinstance(value_dot, float) and value_dot == pytest.approx(
        -1.2 + np.cos(0.3)
    )
    dx_dot, dy_dot = compiled.z_hvp(0.3, -1.2, (1.0, 0.0))  # H = [[-sin x, 1], [1, 0]]
    assert dx_dot == pytest.approx(-np.sin(0.3)) and dy_dot == 1.0
    (hxx, hxy), (hyx, hyy) = compiled.z_hessian(0.3, -1.2)
    assert (float(hxy), float(hyx), float(hyy)) == (1.0, 1.0, 0.0)


def test_mode_errors(capsys):
    sigmoid = str(ROOT / "examples" / "sigmoid.py")
    with pytest.raises(GradgenError, match="unknown mode 'hesian'"):
        compile_file(sigmoid, modes="hesian")
    with pytest.raises(
        GradgenError, match="--mode jacobian needs a target with an array"
    ):
        compile_file(str(ROOT / "examples" / "xor.py"), modes="jacobian")
    with pytest.raises(
        GradgenError, match="--mode hessian needs a target with a scalar"
    ):
        compile_file(sigmoid, ["sigmoid_array"], modes=["hessian"])
    source = compile_file(sigmoid, modes="all")  # all: every mode that applies
    assert "def sigmoid_hessian" in source and "def sigmoid_array_jacobian" in source
    assert "def sigmoid_array_hessian" not in source
    assert main(["compile", sigmoid, "--mode", "nope"]) == 2
    assert "error: unknown mode 'nope' (modes: grad (always)" in capsys.readouterr().err


def test_past_the_code_budget_the_code_stays_compact(monkeypatch):
    monkeypatch.setattr(dense, "BUDGET", 1)
    xor = import_path(ROOT / "examples" / "xor.py", "xor_budget")
    compiled = gradgen.compile(xor.loss, modes="hessian")
    hessian_source = compiled.source.split("def loss_hessian", 1)[1]
    assert "One call of loss_hvp per parameter entry" in " ".join(
        hessian_source.split()
    )
    assert "def loss_hvp" in compiled.source and "delta_" not in hessian_source
    args = [
        np.random.default_rng(6).normal(size=s)
        for s in [(3, 2), (3, 1), (2, 4), (4, 1)]
    ]
    flat = Flat(args)
    expected = autograd.hessian(
        flat.function(autograd_namespace(xor.__file__)["loss"])
    )(flat.x)
    got = hessian_matrix(compiled.loss_hessian(*args), flat.sizes)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    fn, reference, (shapes,) = JACOBIAN_CASES["forward"]
    compiled = gradgen.compile(fn, modes="jacobian")
    assert "forward mode would take fewer passes" in " ".join(compiled.source.split())
    assert "cotangent" in compiled.source and "u_dot" not in compiled.source
    args = [np.random.default_rng(7).normal(size=s) for s in shapes]
    expected, sizes = _reference_jacobian(reference, args)
    got = jacobian_matrix(compiled.outer_tanh_jacobian(*args), expected.shape[0], sizes)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _readme_block(marker: str, fence: str) -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split(marker, 1)[1].split(f"```{fence}\n", 1)[1].split("```", 1)[0]


def test_readme_shows_what_the_compiler_writes_and_check_prints(monkeypatch, capsys):
    excerpt = _readme_block("<!-- gradgen compile examples/xor.py --mode hvp", "python")
    source = compile_file(str(ROOT / "examples" / "xor.py"), modes="hvp")
    assert excerpt.startswith("    # Tangent of") and excerpt in source
    monkeypatch.chdir(ROOT)
    assert main(["check", "examples/xor.py"]) == 0
    printed = capsys.readouterr().out
    shown = _readme_block("## Checking gradients", "text")

    def numbers_blanked(text):  # the last digits of an error depend on the machine
        return re.sub(r"\d\.\de-\d\d", "x.xe-xx", text)

    assert numbers_blanked(printed) == numbers_blanked(shown)
