"""Every supported operation, differentiated by gradgen, checked against central differences
(float64) and against HIPS autograd on the same model source, at two sets of sizes from one
compile."""

from __future__ import annotations

from pathlib import Path

import autograd
import numpy as np
import pytest

from gradcheck import (
    as_tuple,
    assert_close,
    autograd_namespace,
    central_difference,
    import_source,
    random_inputs,
    targets,
)
from gradgen.pipeline import compile_file

MODEL = Path(__file__).parent / "models" / "ops.py"
TARGETS = targets(MODEL)
SIZES = [{"n": 3, "d": 2, "k": 4}, {"n": 5, "d": 4, "k": 3}]
POSITIVE = (0.5, 2.0)
DOMAINS = {
    "div": {"y": POSITIVE},
    "rdiv": {"x": POSITIVE},
    "pow_const": {"x": POSITIVE},
    "pow_traced": {"x": POSITIVE, "p": POSITIVE},
    "scalars": {"b": POSITIVE},
    "log_": {"x": POSITIVE},
    "sqrt_": {"x": POSITIVE},
    "inverse_trig": {"x": (-0.8, 0.8)},
    "abs_": {"x": "nonzero"},
}
ARRAY_OUTPUTS = {"layer", "scaled", "identity", "zeroed"}
NO_AUTOGRAD = {
    "dot_method"
}  # autograd cannot run these; central differences still check


@pytest.fixture(scope="module")
def generated():
    return import_source(compile_file(str(MODEL)), "generated_ops")


@pytest.fixture(scope="module")
def reference():
    return autograd_namespace(MODEL)


def _case(name, sizes, seed):
    rng = np.random.default_rng(seed)
    return random_inputs(TARGETS[name], sizes, rng, DOMAINS.get(name))


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize("name", sorted(set(TARGETS) - ARRAY_OUTPUTS))
def test_value_and_gradient(generated, reference, name, sizes):
    args = _case(name, sizes, seed=len(name))
    model = TARGETS[name].fn
    count = len(args)
    value, grads = getattr(generated, f"{name}_value_and_grad")(*args)
    assert_close(value, model(*args), f"{name} value")
    assert_close(
        getattr(generated, name)(*args), model(*args), f"{name} value function"
    )
    grads = as_tuple(grads, count)
    separate = as_tuple(getattr(generated, f"{name}_grad")(*args), count)
    if name not in NO_AUTOGRAD:
        expected = autograd.grad(reference[name], tuple(range(count)))(*args)
    for i, param in enumerate(TARGETS[name].params):
        what = f"{name}: d/d{param.name}"
        assert_close(separate[i], grads[i], what + " (grad vs value_and_grad)", 0, 0)
        assert np.asarray(grads[i]).dtype.kind == "f", what + " is not a float"
        if name not in NO_AUTOGRAD:
            assert_close(grads[i], expected[i], what + " vs autograd", 1e-9, 1e-12)
        numeric = central_difference(model, args, i)
        assert_close(
            grads[i], numeric, what + " vs central differences", rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize("name", sorted(ARRAY_OUTPUTS))
def test_vector_jacobian_product(generated, reference, name, sizes):
    args = _case(name, sizes, seed=1)
    model = TARGETS[name].fn
    out = model(*args)
    cotangent = np.random.default_rng(2).normal(size=np.shape(out))
    assert_close(getattr(generated, name)(*args), out, f"{name} value")
    grads = as_tuple(getattr(generated, f"{name}_vjp")(*args, cotangent), len(args))

    def projected(*a):
        return np.sum(model(*a) * cotangent)

    def projected_reference(*a):
        return autograd.numpy.sum(reference[name](*a) * cotangent)

    expected = autograd.grad(projected_reference, tuple(range(len(args))))(*args)
    for i, param in enumerate(TARGETS[name].params):
        what = f"{name}_vjp: d/d{param.name}"
        assert_close(
            grads[i], expected[i], what + " vs autograd", rtol=1e-9, atol=1e-12
        )
        assert_close(grads[i], central_difference(projected, args, i), what, 1e-5, 1e-6)
