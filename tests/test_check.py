"""gradgen check, gradgen.testing.check_grads and compile --emit-test: the tables, the exit
status, and that a deliberately broken derivative rule is caught and named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradcheck import ROOT
from gradgen import ops
from gradgen import Array
from gradgen.checking.check import default_dims
from gradgen.cli.commands import main
from gradgen.frontend.model_file import find_targets, load_model
from gradgen.testing import check_grads

XOR = str(ROOT / "examples" / "xor.py")
DEEP = str(ROOT / "examples" / "deep.py")


def _rows(text: str) -> dict:
    """parameter -> its table row, split into cells."""
    rows = {}
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[-1] in ("ok", "FAIL") and not line.startswith("value"):
            rows[cells[0]] = cells
    return rows


MATMUL_VJP = ops.MatMul.vjp  # the rule itself, before a test replaces it


def broken_matmul(g, ans, a, b, *, shape):
    """The 2-D matmul VJP with the first operand's gradient doubled."""
    da, db = MATMUL_VJP(g, ans, a, b, shape=shape)
    return 2 * da, db


def test_check_xor_prints_the_table_and_passes(capsys):
    assert main(["check", XOR]) == 0
    out = capsys.readouterr().out
    assert "loss(X, y, W0, W1) at n=3, seed 0" in out
    rows = _rows(out)
    assert sorted(rows) == ["W0", "W1", "X", "y"]
    for name, cells in rows.items():
        assert cells[-1] == "ok", cells
        assert float(cells[-2]) < 1e-6  # the grad column: a relative error
    assert rows["X"][1:3] == ["(3,", "2)"]


def test_the_command_runs_from_the_shell():
    run = subprocess.run(
        [sys.executable, "-m", "gradgen", "check", XOR, "--mode", "all"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "grad     jvp      hvp      hessian  result" in run.stdout


def test_a_broken_vjp_rule_fails_naming_the_parameters(monkeypatch, capsys):
    monkeypatch.setattr(ops.MatMul, "vjp", staticmethod(broken_matmul))
    assert main(["check", XOR]) == 1
    out = capsys.readouterr().out
    rows = _rows(out)
    # X @ W0 and h @ W1: the first operands' gradients are wrong, so dX and dW0 are.
    assert rows["X"][-1] == "FAIL" and rows["W0"][-1] == "FAIL"
    assert rows["y"][-1] == "ok" and rows["W1"][-1] == "ok"
    assert "FAIL: X (grad), W0 (grad)" in out


def test_a_broken_jvp_rule_fails_the_jvp_column(monkeypatch, capsys):
    def first_term_only(t, ans, a, b, *, shape):
        return ops.MatMul(t[0], b) if t[0] is not None else 0

    monkeypatch.setattr(ops.MatMul, "jvp", staticmethod(first_term_only))
    assert main(["check", XOR, "--mode", "jvp"]) == 1
    rows = _rows(capsys.readouterr().out)
    assert rows["W0"][3] != "ok" and rows["W0"][-1] == "FAIL"
    assert rows["W1"][-1] == "FAIL"
    assert rows["X"][-1] == "ok" and rows["y"][-1] == "ok"


def test_dims_and_seed_and_bad_input(capsys):
    assert main(["check", DEEP, "--dims", "n=7,d=3", "--seed", "2"]) == 0
    assert "at n=7, d=3, k=4, m=5, seed 2" in capsys.readouterr().out
    assert main(["check", DEEP, "--dims", "n=seven"]) == 2
    assert "error: --dims: 'n=seven' is not name=size" in capsys.readouterr().err
    assert main(["check", DEEP, "--dims", "q=2"]) == 2
    err = capsys.readouterr().err
    assert "deep.py: error: --dims names 'q'" in err and "n, d, k, m" in err


def test_default_sizes_are_small_and_all_different(tmp_path):
    model = tmp_path / "fixed.py"
    model.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def f(x: Array[3, "a"], w: Array["a", 4], v: Array["b"]) -> float:\n'
        "    return np.sum(x @ w) + np.sum(v)\n"
    )
    assert default_dims(find_targets(load_model(str(model)))) == {"a": 5, "b": 6}
    assert default_dims(find_targets(load_model(DEEP))) == {
        "n": 3,
        "d": 4,
        "k": 5,
        "m": 6,
    }


def test_a_model_outside_its_domain_is_reported(tmp_path, capsys):
    model = tmp_path / "logs.py"
    model.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def f(x: Array["n"]) -> float:\n    return np.sum(np.log(x))\n'
    )
    assert main(["check", str(model)]) == 2
    assert "error: f is not finite at the random inputs (seed 0)" in (
        capsys.readouterr().err
    )


def tanh_regression(X: Array["n", "d"], w: Array["d"], b: float) -> float:
    return np.sum(np.tanh(X @ w + b) ** 2) / X.shape[0]


def softmax_rows(z: Array["n", "k"]) -> Array["n", "k"]:
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def test_check_grads_for_users_test_suites(monkeypatch):
    report = check_grads(tanh_regression, modes="all", dims="n=5")
    assert report.ok and report.at == "n=5, d=3"
    assert set(report.rows[2]) == {"grad", "jvp", "hvp", "hessian"}
    assert check_grads(softmax_rows, modes=["jacobian", "jvp"]).ok
    args = [np.ones((2, 3)), np.array([0.1, 0.2, -0.3]), 0.5]
    assert check_grads(tanh_regression, args=args, wrt="w").rows.keys() == {1}
    monkeypatch.setattr(ops.MatMul, "vjp", staticmethod(broken_matmul))
    with pytest.raises(AssertionError, match=r"FAIL: X \(grad\)"):
        check_grads(tanh_regression)


def _emit(tmp_path, *extra) -> tuple:
    model = tmp_path / "xor.py"
    model.write_text((ROOT / "examples" / "xor.py").read_text())
    argv = ["compile", str(model), "-o", str(tmp_path / "out" / "xor_grad.py")]
    assert main(argv + ["--emit-test", *extra]) == 0
    return tmp_path / "out" / "xor_grad.py", tmp_path / "out" / "test_xor_grad.py"


# Runs pytest with gradgen and SymPy unimportable: the emitted test must not need them.
WITHOUT_GRADGEN = (
    "import sys; sys.modules['gradgen'] = None; sys.modules['sympy'] = None\n"
    "import pytest; sys.exit(pytest.main(['-q', '-rs', '-p', 'no:cacheprovider', "
    "sys.argv[1]]))"
)


def test_emit_test_writes_a_test_that_runs_without_gradgen(tmp_path, capsys):
    module, test = _emit(tmp_path, "--mode", "all", "--dims", "n=5", "--seed", "3")
    text = test.read_text()
    assert "--emit-test --dims n=5 --seed 3" in text and "import gradgen" not in text
    assert "[(5, 2), (5, 1), (2, 4), (4, 1)]" in text
    alone = subprocess.run(
        [sys.executable, "-c", WITHOUT_GRADGEN, str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "1 passed, 1 skipped" in alone.stdout
    full = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert full.returncode == 0 and "2 passed" in full.stdout, full.stdout
    first = text
    _emit(tmp_path, "--mode", "all", "--dims", "n=5", "--seed", "3")
    assert test.read_text() == first  # deterministic


def test_the_emitted_test_fails_on_a_wrong_gradient(tmp_path):
    module, test = _emit(tmp_path)
    source = module.read_text()
    assert "delta_h = np.dot(delta_z_1, W1.T)\n" in source
    module.write_text(
        source.replace("np.dot(delta_z_1, W1.T)\n", "np.dot(delta_z_1, W1.T) * 1.01\n")
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert "1 failed, 1 passed" in run.stdout
    assert "FAIL" in run.stdout and "X " in run.stdout


def test_emitted_test_options_need_emit_test(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "xor.py"
    model.write_text((ROOT / "examples" / "xor.py").read_text())
    assert main(["compile", str(model), "--dims", "n=5"]) == 2
    assert "error: --dims and --seed apply to --emit-test" in capsys.readouterr().err
    assert main(["compile", str(tmp_path), "--emit-test", "--dims", "n=5"]) == 2
    assert "--dims applies to a single model file" in capsys.readouterr().err
    assert main(["compile", str(model), "--emit-test", "--dims", "n=x"]) == 2
    assert not (tmp_path / "generated").exists()
