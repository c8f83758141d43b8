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
    differentiated,
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
    {"n": 4, "d": 3, "k": 2, "m": 3, "c": 3, "h": 5, "t": 3, "v": 5, "T": 3},
    {"n": 7, "d": 2, "k": 4, "m": 5, "c": 2, "h": 3, "t": 4, "v": 3, "T": 6},
]
DOMAINS = {
    "huber": {"delta": (0.5, 1.5)},
    "euler": {"k": (0.5, 1.5)},
    "two_layer_net": {"y": ("index", "c"), "reg": (0.01, 0.1)},
    "embedding": {"tokens": ("index", "v"), "y": ("index", "c")},
}
# examples whose loops stay loops: no --mode (jvp, hvp, ...) through them yet
ROLLED = {"rnn_sequence", "lstm", "euler"}
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
    wrt = differentiated(target)
    grads = grads if len(wrt) > 1 else (grads,)
    wanted = autograd.grad(expected, tuple(wrt))(*args)
    for j, i in enumerate(wrt):
        what = f"{stem}.{name} d{target.params[i].name}"
        assert_close(grads[j], wanted[j], what + " vs autograd", 1e-10, 1e-13)
        numeric = central_difference(model, args, i)
        assert_close(grads[j], numeric, what, 1e-5, 1e-7)


def _softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_two_layer_net_gives_the_cs231n_score_gradient():
    """dscores = (probs - one_hot(y)) / n, backpropagated by hand as in the assignment."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 4)), np.array([0, 2, 1, 2, 2])
    W1, b1 = rng.normal(size=(4, 6)), rng.normal(size=6)
    W2, b2 = rng.normal(size=(6, 3)), rng.normal(size=3)
    hidden = np.maximum(0, X @ W1 + b1)
    probs = _softmax(hidden @ W2 + b2)
    dscores = probs.copy()
    dscores[np.arange(5), y] -= 1
    dscores /= 5
    dhidden = dscores @ W2.T * (hidden > 0)
    value, (dX, dW1, db1, dW2, db2, dreg) = generated(
        "two_layer_net"
    ).loss_value_and_grad(X, y, W1, b1, W2, b2, 0.1)
    reg = 0.1 * (np.sum(W1 * W1) + np.sum(W2 * W2))
    assert value == pytest.approx(-np.mean(np.log(probs[np.arange(5), y])) + reg)
    assert_close(dW2, hidden.T @ dscores + 0.2 * W2, "dW2", 1e-12)
    assert_close(db2, dscores.sum(axis=0), "db2", 1e-12)
    assert_close(dW1, X.T @ dhidden + 0.2 * W1, "dW1", 1e-12)
    assert_close(db1, dhidden.sum(axis=0), "db1", 1e-12)
    assert dreg == pytest.approx(np.sum(W1 * W1) + np.sum(W2 * W2))


def test_embedding_adds_the_gradients_of_a_repeated_token():
    rng = np.random.default_rng(1)
    tokens = np.array([[3, 3, 0], [1, 3, 3]])  # token 3 four times, token 2 never
    y = np.array([1, 0])
    E, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 2)), rng.normal(size=2)
    mean = E[tokens].mean(axis=1)
    dscores = _softmax(mean @ W + b)
    dscores[np.arange(2), y] -= 1
    dscores /= 2
    dmean = dscores @ W.T
    dE = np.zeros_like(E)
    for i in range(2):
        for j in range(3):
            dE[tokens[i, j]] += dmean[i] / 3
    _, (got, dW, db) = generated("embedding").loss_value_and_grad(tokens, y, E, W, b)
    assert_close(got, dE, "dE", 1e-12)
    assert np.all(got[2] == 0)
    assert_close(got[3], (2 * dmean[0] + 2 * dmean[1]) / 3, "dE of token 3", 1e-12)
    assert_close(dW, mean.T @ dscores, "dW", 1e-12)


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
