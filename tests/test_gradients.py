"""Every supported construct, differentiated by gradgen, checked against central differences
(float64) and against HIPS autograd on the same model source, at two sets of sizes from one
compile. The constructs are the targets of the model files in tests/models/; a model file
may say where inputs are drawn from (``DOMAINS``), which targets autograd cannot run
(``NO_AUTOGRAD``), and what to check a target against when plain Python cannot run it
(``REFERENCE``: an if on an array condition)."""

from __future__ import annotations

from pathlib import Path

import autograd
import numpy as np
import pytest

from compiled import compiled
from gradcheck import (
    as_tuple,
    assert_close,
    autograd_namespace,
    central_difference,
    differentiated,
    random_inputs,
    targets,
)

MODELS = Path(__file__).parent / "models"
FILES = ["ops.py", "arrays.py", "branches.py", "integers.py"]
SIZES = [{"n": 3, "d": 2, "k": 4}, {"n": 5, "d": 4, "k": 3}]
TARGETS = {f: targets(MODELS / f) for f in FILES}
CASES = [(f, name) for f in FILES for name in TARGETS[f]]


def _array_output(case) -> bool:
    f, name = case
    return TARGETS[f][name].returns_array


@pytest.fixture(scope="module")
def generated():
    return {f: compiled(MODELS / f) for f in FILES}  # test_entry.py's too


@pytest.fixture(scope="module")
def reference():
    return {f: autograd_namespace(MODELS / f) for f in FILES}


def _case(f, name, sizes, seed):
    rng = np.random.default_rng(seed)
    target = TARGETS[f][name]
    domains = target.model.namespace.get("DOMAINS", {}).get(name)
    return random_inputs(target, sizes, rng, domains)


def _autograd_runs(f, name) -> bool:
    return name not in TARGETS[f][name].model.namespace.get("NO_AUTOGRAD", set())


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize(
    "case", [c for c in CASES if not _array_output(c)], ids="{0[0]}:{0[1]}".format
)
def test_value_and_gradient(generated, reference, case, sizes):
    f, name = case
    args = _case(f, name, sizes, seed=len(name))
    namespace = TARGETS[f][name].model.namespace
    model = namespace.get("REFERENCE", {}).get(name, TARGETS[f][name].fn)
    module = generated[f]
    wrt = differentiated(TARGETS[f][name])
    value, grads = getattr(module, f"{name}_value_and_grad")(*args)
    assert_close(value, model(*args), f"{name} value")
    assert_close(getattr(module, name)(*args), model(*args), f"{name} value function")
    grads = as_tuple(grads, len(wrt))
    separate = as_tuple(getattr(module, f"{name}_grad")(*args), len(wrt))
    if _autograd_runs(f, name):
        expected = autograd.grad(reference[f][name], tuple(wrt))(*args)
    for j, i in enumerate(wrt):
        what = f"{name}: d/d{TARGETS[f][name].params[i].name}"
        assert_close(separate[j], grads[j], what + " (grad vs value_and_grad)", 0, 0)
        assert np.asarray(grads[j]).dtype.kind == "f", what + " is not a float"
        if _autograd_runs(f, name):
            assert_close(grads[j], expected[j], what + " vs autograd", 1e-9, 1e-12)
        numeric = central_difference(model, args, i)
        assert_close(
            grads[j], numeric, what + " vs central differences", rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize(
    "case", [c for c in CASES if _array_output(c)], ids="{0[0]}:{0[1]}".format
)
def test_vector_jacobian_product(generated, reference, case, sizes):
    f, name = case
    args = _case(f, name, sizes, seed=1)
    model = TARGETS[f][name].fn
    out = model(*args)
    cotangent = np.random.default_rng(2).normal(size=np.shape(out))
    module = generated[f]
    assert_close(getattr(module, name)(*args), out, f"{name} value")
    wrt = differentiated(TARGETS[f][name])
    grads = as_tuple(getattr(module, f"{name}_vjp")(*args, cotangent), len(wrt))

    def projected(*a):
        return np.sum(model(*a) * cotangent)

    def projected_reference(*a):
        return autograd.numpy.sum(reference[f][name](*a) * cotangent)

    expected = autograd.grad(projected_reference, tuple(wrt))(*args)
    for j, i in enumerate(wrt):
        what = f"{name}_vjp: d/d{TARGETS[f][name].params[i].name}"
        assert_close(
            grads[j], expected[j], what + " vs autograd", rtol=1e-9, atol=1e-12
        )
        assert_close(grads[j], central_difference(projected, args, i), what, 1e-5, 1e-6)


def test_a_missing_derivative_rule_is_refused_without_sympy_text():
    """An elementwise expression SymPy cannot differentiate (a function it does not
    know) is refused, where the node comes from, in words the user knows: no
    ``Derivative(...)`` or symbol of gradgen's in the message."""
    import sympy as sp

    from gradgen.ad import partials
    from gradgen.errors import GradgenError

    x, value = sp.Symbol("x_unknown", real=True), sp.Symbol("v_unknown", real=True)
    with pytest.raises(GradgenError) as caught:
        partials.elementwise_partial(sp.Function("f")(x) + x, x, value)
    message = str(caught.value.located("model.py", 7))
    assert message.startswith("model.py:7: error: gradgen has no derivative rule")
    assert "Derivative" not in message and "_gg" not in message


def test_a_rewrite_sympy_cannot_evaluate_is_not_used():
    """A derivative rewritten through the node's value (tanh' as 1 - value**2) is checked
    at random points with SymPy's evalf. At a point where a log's argument is negative,
    SymPy's sin of the complex value recursed without end there (found by the long
    profile, seed 41, in an HVP): the derivative is kept as SymPy gives it, and the
    compile goes on. Here a function whose evalf recurses stands for it."""
    import sympy as sp

    from gradgen.ad import partials

    class Recursing(sp.Function):
        def fdiff(self, argindex=1):
            return Recursing(self.args[0])

        def _eval_evalf(self, prec):
            raise RecursionError("maximum recursion depth exceeded")

    x, value = sp.Symbol("x_recursing", real=True), sp.Symbol("v_recursing", real=True)
    expr = sp.tanh(3 * Recursing(x))
    d = partials.elementwise_partial(expr, x, value)
    assert not d.has(value)
    assert sp.simplify(d - sp.diff(expr, x)) == 0
