"""Integer data in the model contract: ``Array["n", int]`` and ``int`` parameters are data
(labels, indices, counts), never differentiated; the gradient tuple lists the float
parameters in order; the generated entry checks require integers for them and keep their
type. The gradients themselves are checked in test_gradients.py (tests/models/integers.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import import_source
from gradgen import Array
from gradgen.array import AnnotationError
from gradgen.checking.check import check_file
from gradgen.cli.commands import main
from gradgen.pipeline import compile_file

MODEL = """\
import numpy as np
from gradgen import Array


def loss(X: Array["n", "d"], y: Array["n", int], W: Array["d", 3], k: int) -> float:
    s = X @ W
    return np.sum(s * s) * k + np.sum(y * s[:, 0])
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("ints") / "labels.py"
    path.write_text(MODEL)
    source = compile_file(str(path))
    return path, source, import_source(source, "compiled_labels")


def test_the_annotation_says_integer_with_the_type_last():
    assert Array["n", int].integer and Array["n", int].dims == ("n",)
    assert not Array["n", "d"].integer and not Array["n", float].integer
    assert Array["n", float] == Array["n"] != Array["n", int]
    assert repr(Array["n", 2, int]) == "Array['n', 2, int]"
    with pytest.raises(AnnotationError, match="comes before a dimension"):
        Array[int, "n"]


def test_the_gradient_lists_the_float_parameters_in_order(compiled):
    _, source, module = compiled
    rng = np.random.default_rng(0)
    X, W, y = rng.normal(size=(4, 2)), rng.normal(size=(2, 3)), np.array([0, 1, 2, 1])
    value, grads = module.loss_value_and_grad(X, y, W, 3)
    assert len(grads) == 2
    s = X @ W
    ds = 6 * s
    ds[:, 0] += y
    np.testing.assert_allclose(value, 3 * np.sum(s * s) + np.sum(y * s[:, 0]))
    np.testing.assert_allclose(grads[0], ds @ W.T)
    np.testing.assert_allclose(grads[1], X.T @ ds)
    docstring = " ".join(source.split('"""')[1].split())
    assert "y, k are integer data, not differentiated: the gradient lists" in docstring
    assert "def loss_grad(\n    X: FloatArray, y: IntArray, W: FloatArray, k: int" in (
        source
    )


def test_entry_checks_want_integers_and_keep_them(compiled):
    _, source, module = compiled
    X, W = np.ones((2, 2)), np.ones((2, 3))
    assert "loss(X[n d], y[n]: int, W[d 3], k: int)" in source
    with pytest.raises(
        TypeError, match="loss: y is float64; it is integer data: pass integers"
    ):
        module.loss(X, np.array([0.0, 1.0]), W, 1)
    with pytest.raises(TypeError, match="loss: k is float64"):
        module.loss(X, np.array([0, 1]), W, 1.0)
    with pytest.raises(TypeError, match="y is bool"):
        module.loss(X, np.array([True, False]), W, 1)
    with pytest.raises(ValueError, match=r"y has shape \(3,\); expected \(n,\), n = 2"):
        module.loss(X, np.array([0, 1, 1]), W, 1)
    lists = module.loss(X, [0, 1], W, np.int32(2))  # a list of ints is integer data
    assert lists == module.loss(X, np.array([0, 1], np.int8), W, 2)
    checked = module.check_inputs("f(y[n]: int, k: int)", np.array([1, 2], np.int16), 3)
    assert checked[0].dtype == np.int16 and checked[1] == 3  # never promoted


def test_gradgen_check_draws_integers_and_leaves_them_out(compiled):
    path, _, _ = compiled
    (report,) = check_file(str(path))
    assert report.ok
    assert [report.target.params[k].name for k in report.wrt] == ["X", "W"]


def test_emitted_test_draws_integers(compiled, tmp_path, monkeypatch):
    path, _, _ = compiled
    monkeypatch.chdir(path.parent)
    out = tmp_path / "labels_gen.py"
    assert (
        main(["compile", str(path), "-o", str(out), "--emit-test", "--no-cache"]) == 0
    )
    test_source = (tmp_path / "test_labels_gen.py").read_text()
    assert "random_args(shapes, SEED, integers)" in test_source
    namespace: dict = {"__file__": str(tmp_path / "test_labels_gen.py")}
    exec(compile(test_source, "test_labels_gen.py", "exec"), namespace)
    generated = namespace["_load"](out, "labels_gen_module")
    for target in namespace["TARGETS"]:
        namespace["test_derivatives_match_central_differences"](generated, target)


def test_report_at_takes_integers_for_integer_data(compiled, tmp_path, capsys):
    path, _, _ = compiled
    X, W = np.ones((2, 2)), np.ones((2, 3))
    bad, good = tmp_path / "bad.npz", tmp_path / "good.npz"
    np.savez(bad, X=X, y=np.array([0.5, 1.0]), W=W, k=2)
    np.savez(good, X=X, y=np.array([0, 1]), W=W, k=2)
    out = tmp_path / "r.html"
    args = ["report", str(path), "-o", str(out), "--at"]
    status = main(args + [str(bad)])
    err = capsys.readouterr().err
    assert status == 2 and "--at gives y values that are not integers" in err
    assert len(err.strip().splitlines()) == 1
    assert main(args + [str(good)]) == 0 and out.exists()
