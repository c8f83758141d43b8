"""``gradgen.grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``hvp``, ``hessian`` and
``jacobian``: as decorators in a script and in a notebook cell run again (compiled once,
through the cache), checked against central differences; their ``.source``, ``.latex()``
and display; their errors at the user's file:line."""

from __future__ import annotations

import itertools
import linecache

import numpy as np
import pytest

import gradgen
from gradgen import cache
from gradgen import transforms
from gradgen import GradgenError

SCRIPT = """\
import numpy as np
import gradgen
from gradgen import Array

SCALE = 2.0


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@gradgen.grad
def loss(X: Array["n", 2], y: Array["n", 1], W0: Array[2, 4], W1: Array[4, 1]) -> float:
    h = sigmoid(X @ W0)
    yhat = sigmoid(h @ W1)
    return SCALE * np.mean((yhat - y) ** 2)


@gradgen.value_and_grad(wrt="x")
def huber(x: Array["n"], delta: float) -> float:
    r = np.sum(x * x)
    if r <= delta:
        return 0.5 * r
    return delta * (np.sqrt(r) - 0.5 * delta)


def layer(x: Array["n"], w: Array["n"]) -> Array["n"]:
    return np.tanh(w * x)
"""


@pytest.fixture
def script(tmp_path, monkeypatch):
    """The script above, imported as a module, with a cache of its own."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    path = tmp_path / "script_model.py"
    path.write_text(SCRIPT)
    namespace = {"__name__": "script_model", "__file__": str(path)}
    exec(compile(SCRIPT, str(path), "exec"), namespace)
    return namespace


def _args(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in [(3, 2), (3, 1), (2, 4), (4, 1)]]


def central(f, args, k, eps=1e-6):
    """d f / d args[k], entry by entry."""
    x = np.asarray(args[k], dtype=float)
    out = np.zeros_like(x)
    for pos in itertools.product(*[range(s) for s in x.shape]):
        step = np.zeros_like(x)
        step[pos] = eps
        plus = [a + step if j == k else a for j, a in enumerate(args)]
        minus = [a - step if j == k else a for j, a in enumerate(args)]
        out[pos] = (f(*plus) - f(*minus)) / (2 * eps)
    return out


def test_grad_as_a_decorator_is_the_gradient(script):
    loss, args = script["loss"], _args()
    assert loss.__name__ == "loss_grad" and callable(loss.fun)
    grads = loss(*args)
    assert len(grads) == 4
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, central(loss.fun, args, k), rtol=1e-6, atol=1e-9)
    assert "def loss_grad" in loss.source and "delta_yhat" in loss.source


def test_value_and_grad_keeps_the_function_and_converts_branches(script):
    huber = script["huber"]
    for x in [np.array([0.1, 0.2, -0.3]), np.array([3.0, -1.0, 2.0])]:
        value, dx = huber(x, 1.0)
        assert value == pytest.approx(huber.fun(x, 1.0))
        f = lambda x: huber.fun(x, 1.0)  # noqa: E731
        np.testing.assert_allclose(dx, central(f, [x], 0), rtol=1e-6)
    assert "np.where" in huber.source


def test_forward_mode_and_second_order_transforms(script):
    f, args = script["loss"].fun, _args(1)
    rng = np.random.default_rng(2)
    v = [rng.normal(size=a.shape) for a in args]
    eps = 1e-6
    value, value_dot = gradgen.jvp(f)(*args, tuple(v))
    plus = f(*[a + eps * u for a, u in zip(args, v)])
    minus = f(*[a - eps * u for a, u in zip(args, v)])
    assert value == pytest.approx(f(*args))
    assert value_dot == pytest.approx((plus - minus) / (2 * eps), rel=1e-6)
    grad = gradgen.grad(f, wrt="W1")
    hv = gradgen.hvp(f, wrt="W1")(*args, v[3])
    plus = grad(*args[:3], args[3] + eps * v[3])
    minus = grad(*args[:3], args[3] - eps * v[3])
    np.testing.assert_allclose(hv, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-8)
    blocks = gradgen.hessian(f, wrt="W1")(*args)
    assert blocks.shape == (4, 1, 4, 1)
    np.testing.assert_allclose(np.tensordot(blocks, v[3], axes=2), hv, rtol=1e-10)


def test_array_results_vjp_and_jacobian(script):
    layer = script["layer"]
    rng = np.random.default_rng(3)
    x, w, ct = (rng.normal(size=5) for _ in range(3))
    dx, dw = gradgen.vjp(layer)(x, w, ct)
    np.testing.assert_allclose(
        dx, central(lambda x: ct @ layer(x, w), [x], 0), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        dw, central(lambda w: ct @ layer(x, w), [w], 0), rtol=1e-6, atol=1e-9
    )
    jx, jw = gradgen.jacobian(layer)(x, w)
    np.testing.assert_allclose(jx.T @ ct, dx, rtol=1e-10)


def test_errors_point_at_the_users_file_and_line(script):
    with pytest.raises(GradgenError) as info:
        gradgen.grad(script["layer"])(np.ones(3), np.ones(3))
    message = str(info.value)
    assert (
        "script_model.py:" in message
        and "gradgen.grad needs a function with" in message
    )
    assert "a scalar result; layer returns an array" in message
    assert "use gradgen.vjp" in message
    with pytest.raises(GradgenError, match="needs a Python function, got int"):
        gradgen.value_and_grad(3)
    with pytest.raises(GradgenError, match="--wrt|wrt"):
        gradgen.grad(script["layer"], wrt=",")


def test_source_latex_and_display(script):
    loss = script["loss"]
    assert loss.source.startswith('"""Gradients of ``loss``')
    latex = loss.latex()
    assert r"\delta_{\hat{y}}" in latex
    assert loss._repr_latex_().startswith("$") or "\\begin" in loss._repr_latex_()
    assert "δ" in loss._repr_markdown_() or "delta" in loss._repr_markdown_()
    assert repr(loss) == "<gradgen.grad of loss: loss_grad>"


CELL_HELPERS = """\
import numpy as np
import gradgen
from gradgen import Array

def squash(z):
    return np.tanh(z)
"""

CELL = """\
@gradgen.value_and_grad
def cost(x: Array["n"], w: Array["n"]) -> float:
    return np.sum(squash(w * x) ** 2)

value, (dx, dw) = cost(np.arange(3.0), np.ones(3))
"""


def _run_cell(namespace: dict, text: str, number: int) -> None:
    """Run ``text`` as IPython runs a cell: its source registered in ``linecache``
    under the cell's name, compiled with that name, executed in the user's namespace."""
    name = f"<ipython-input-{number}-{abs(hash(text)) % 16**12:012x}>"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    exec(compile(text, name, "exec"), namespace)


def test_a_notebook_cell_run_again_does_not_recompile(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(transforms, "_modules", {})
    namespace = {"__name__": "__main__"}
    _run_cell(namespace, CELL_HELPERS, 1)
    before = transforms.compiles["count"]
    _run_cell(namespace, CELL, 2)
    first = namespace["value"], namespace["dw"]
    assert transforms.compiles["count"] == before + 1
    _run_cell(namespace, CELL, 2)  # the same cell, run again
    assert transforms.compiles["count"] == before + 1
    assert namespace["value"] == first[0] and np.array_equal(namespace["dw"], first[1])
    monkeypatch.setattr(transforms, "_modules", {})  # a new kernel: from the disk cache
    _run_cell(namespace, CELL, 2)
    assert transforms.compiles["count"] == before + 1
    # a helper redefined in another cell: the cell compiles again, with the new helper
    _run_cell(namespace, CELL_HELPERS.replace("np.tanh(z)", "np.sin(z)"), 3)
    _run_cell(namespace, CELL, 2)
    assert transforms.compiles["count"] == before + 2
    x = np.arange(3.0)
    assert namespace["value"] == pytest.approx(np.sum(np.sin(x) ** 2))
    assert "np.sin" in namespace["cost"].source


def test_a_changed_global_or_option_compiles_again(script, monkeypatch):
    monkeypatch.setattr(transforms, "_modules", {})
    loss, args = script["loss"], _args()
    start = transforms.compiles["count"]
    first = gradgen.grad(loss.fun)(*args)
    assert transforms.compiles["count"] == start + 1
    gradgen.grad(loss.fun)(*args)
    assert transforms.compiles["count"] == start + 1
    script["SCALE"] = 3.0
    again = gradgen.grad(loss.fun)(*args)
    assert transforms.compiles["count"] == start + 2
    np.testing.assert_allclose(again[0], 1.5 * first[0])
    gradgen.grad(loss.fun, checks=False)(*args)
    assert transforms.compiles["count"] == start + 3
    gradgen.grad(loss.fun, cache=False)(*args)
    assert transforms.compiles["count"] == start + 4
