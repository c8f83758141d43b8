"""The examples from the study notes: each generated module in generated/ gives the numbers
the notes derive by hand."""

from __future__ import annotations

import subprocess
import sys

import autograd
import numpy as np
import pytest

from gradcheck import (
    ROOT,
    assert_close,
    autograd_namespace,
    central_difference,
    import_path,
    random_inputs,
    targets,
)

EXAMPLES = ROOT / "examples"
GENERATED = ROOT / "generated"


def generated(stem: str):
    return import_path(GENERATED / f"{stem}.py", f"generated_{stem}")


def sigma(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0])
def test_sigmoid_split_into_four_steps_gives_sigma_times_one_minus_sigma(z):
    module = generated("sigmoid")
    assert module.sigmoid_grad(z) == pytest.approx(sigma(z) * (1 - sigma(z)), rel=1e-12)
    value, grad = module.sigmoid_value_and_grad(z)
    assert value == pytest.approx(sigma(z), rel=1e-14)
    assert grad == pytest.approx(sigma(z) * (1 - sigma(z)), rel=1e-12)


def test_sigmoid_array_vjp_is_sigma_prime_times_cotangent():
    module = generated("sigmoid")
    z = np.linspace(-4, 4, 9)
    v = np.arange(9.0)
    assert_close(
        module.sigmoid_array_vjp(z, v), v * sigma(z) * (1 - sigma(z)), "vjp", 1e-12
    )


@pytest.mark.parametrize("x,y", [(0.3, -1.2), (2.0, 5.0), (-1.5, 0.25)])
def test_elementary_partials(x, y):
    dx, dy = generated("elementary").z_grad(x, y)
    assert dx == pytest.approx(y + np.cos(x), rel=1e-14)
    assert dy == pytest.approx(x, rel=1e-14)


def test_descent_on_the_bowl_walks_one_one_to_minus_one_zero_to_one_zero():
    module = import_path(EXAMPLES / "descent.py", "descent_example")
    assert module.main() == [(1.0, 1.0), (-1.0, 0.0), (1.0, 0.0)]
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "descent.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "step 1: w = (-1, 0)" in run.stdout
    assert "step 2: w = (1, 0)" in run.stdout


@pytest.mark.parametrize("x,t,W1,W2", [(0.5, 1.0, 0.3, -0.8), (-1.2, 0.0, 1.5, 0.4)])
def test_neuron_matches_the_hand_derived_formulas(x, t, W1, W2):
    h = sigma(W1 * x)
    y = sigma(W2 * h)
    delta_y = (y - t) * y * (1 - y)
    _, _, dW1, dW2 = generated("neuron").cost_grad(x, t, W1, W2)
    assert dW2 == pytest.approx(delta_y * h, rel=1e-12)
    assert dW1 == pytest.approx(delta_y * W2 * h * (1 - h) * x, rel=1e-12)


def test_gate_gives_the_cs231n_numbers():
    w, x = (2.0, -3.0, -3.0), (-1.0, -2.0)
    module = generated("gate")
    value, (dw0, dx0, dw1, dx1, dw2) = module.gate_value_and_grad(
        w[0], x[0], w[1], x[1], w[2]
    )
    assert value == pytest.approx(0.7311, abs=1e-4)
    assert (dw0, dw1, dw2) == pytest.approx((-0.1966, -0.3932, 0.1966), abs=1e-4)
    assert (dx0, dx1) == pytest.approx((0.3932, -0.5898), abs=1e-4)


SIZES = [
    {"n": 4, "d": 3, "k": 2, "m": 3, "c": 3, "h": 5},
    {"n": 7, "d": 2, "k": 4, "m": 5, "c": 2, "h": 3},
]
DOMAINS = {"huber": {"delta": (0.5, 1.5)}}
EVERY_TARGET = [
    (path.stem, name)
    for path in sorted(EXAMPLES.glob("*.py"))
    for name in (targets(path) if path.stem not in ("descent", "train_xor") else {})
]


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize("stem,name", EVERY_TARGET)
def test_every_example_gradient_matches_autograd_and_central_differences(
    stem, name, sizes
):
    path = EXAMPLES / f"{stem}.py"
    target = targets(path)[name]
    args = random_inputs(target, sizes, np.random.default_rng(3), DOMAINS.get(stem))
    module = generated(stem)
    reference = autograd_namespace(path)[name]
    if target.returns_array:
        cotangent = np.random.default_rng(4).normal(size=np.shape(target.fn(*args)))
        grads = getattr(module, f"{name}_vjp")(*args, cotangent)

        def model(*a):
            return np.sum(target.fn(*a) * cotangent)

        def expected(*a):
            return autograd.numpy.sum(reference(*a) * cotangent)

    else:
        grads = getattr(module, f"{name}_grad")(*args)
        model, expected = target.fn, reference
    grads = grads if len(args) > 1 else (grads,)
    wanted = autograd.grad(expected, tuple(range(len(args))))(*args)
    for i, p in enumerate(target.params):
        what = f"{stem}.{name} d{p.name}"
        assert_close(grads[i], wanted[i], what + " vs autograd", 1e-10, 1e-13)
        numeric = central_difference(model, args, i)
        assert_close(grads[i], numeric, what, 1e-5, 1e-7)


def test_deep_network_code_is_the_delta_recursion():
    source = (GENERATED / "deep.py").read_text()
    steps = [
        "delta_z4 = delta_y * sigmoid_abs_z4 * sigmoid_neg_abs_z4",
        "delta_h3 = np.dot(delta_z4, W4.T)",
        "delta_z3 = delta_h3 * sigmoid_abs_z3 * sigmoid_neg_abs_z3",
        "delta_h2 = np.dot(delta_z3, W3.T)",
        "delta_z2 = delta_h2 * sigmoid_abs_z2 * sigmoid_neg_abs_z2",
        "delta_h1 = np.dot(delta_z2, W2.T)",
        "delta_z1 = delta_h1 * sigmoid_abs_z1 * sigmoid_neg_abs_z1",
        "dW1 = np.dot(x.T, delta_z1)",
    ]
    positions = [source.index(step) for step in steps]
    assert positions == sorted(positions)


def test_train_xor_converges_within_a_tenth_of_the_targets():
    module = import_path(EXAMPLES / "train_xor.py", "train_xor_example")
    predictions = module.main()
    assert np.all(np.abs(predictions - np.array([0.0, 1.0, 1.0, 0.0])) < 0.1)
