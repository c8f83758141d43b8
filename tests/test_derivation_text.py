"""The derivation a person reads: the generated code and its docstring name what the
code names, and nothing more. A delta is named after a value the code computes under that
name (``delta_K``, not ``delta_t3`` for the ``K.T`` the code writes inline); a forward value
is never named like a gradient; unrolled blocks say which step they differentiate; a
gradient slot still zero is assigned, not added to; exactly-zero adjoints are not computed;
the textbook forms (σ(z) − y, p − y) are shown where they are exact.

Each model is an example the README shows; its gradient is checked against central
differences as well, so that no rewrite here changes a number.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from compiled import compiled, generated_source
from gradcheck import ROOT, assert_close, central_difference, random_inputs, targets

from gradgen.cli.commands import main
from gradgen.pipeline import compile_file

EXAMPLES = ROOT / "examples"


def body(source: str, function: str) -> str:
    """The code of one generated function (its docstring included)."""
    start = source.index(f"\ndef {function}(")
    end = source.find("\ndef ", start + 1)
    return source[start : end if end > 0 else None]


def assigned(text: str) -> set:
    return set(re.findall(r"^\s+(\w+) = ", text, re.M))


def check_gradient(stem: str, sizes: dict, seed: int = 0) -> None:
    """Every scalar target of the example: its generated gradient against central
    differences of the model itself (the examples have float parameters only)."""
    path = EXAMPLES / f"{stem}.py"
    module = compiled(path)
    for name, target in targets(path).items():
        grad = getattr(module, f"{name}_grad", None)
        if grad is None:
            continue
        args = random_inputs(target, sizes, np.random.default_rng(seed))
        got = grad(*args)
        got = (got,) if len(args) == 1 else got
        for k, g in enumerate(got):
            numeric = central_difference(target.fn, args, k)
            assert_close(g, numeric, f"{stem}.{name} d{k}", 1e-5, 1e-7)


def test_the_delta_of_K_transposed_is_the_delta_of_K():
    """attention: scores = Q·Kᵀ; the code writes K.T inline, so its delta is K's."""
    code = body(generated_source(EXAMPLES / "attention.py"), "loss_value_and_grad")
    assert "delta_K = np.dot(delta_z_scores.T, Q)" in code
    assert "dWk = np.dot(X.T, delta_K)" in code
    assert not re.search(r"delta_t\d", code)
    check_gradient("attention", {"n": 4, "d": 3, "k": 2})


def test_a_pre_activation_whose_delta_is_delta_z_h_is_z_h():
    """mlp: hidden = max(X·W1 + b1, 0); the code names X·W1 + b1, so it is z_hidden."""
    code = body(generated_source(EXAMPLES / "mlp.py"), "loss_value_and_grad")
    assert "z_hidden = b1 + np.dot(X, W1)" in code
    assert "delta_z_hidden = delta_hidden * np.heaviside(z_hidden, 0.5)" in code
    for delta in re.findall(r"\bdelta_(\w+) = ", code):
        assert delta in assigned(code) | {"z_hidden"}, delta
    check_gradient("mlp", {"n": 4, "d": 3, "h": 5, "c": 3})


RIDGE = """
import numpy as np
from gradgen import Array


def loss(X: Array["n", "d"], y: Array["n"], w: Array["d"], lam: float) -> float:
    r = X @ w - y
    reg = lam * np.sum(w * w)
    return np.mean(r**2) + reg
"""


def forward_pass(code: str) -> str:
    return code[code.index("# Forward pass") : code.index("# Grad of:")]


def test_no_forward_value_is_named_like_a_gradient(tmp_path):
    """ridge: w·w is both in the loss and dlam; deep: y - t is both in the loss and
    delta_y. The forward pass computes them under a temporary's name, and the backward
    pass names them as gradients."""
    path = tmp_path / "ridge.py"
    path.write_text(RIDGE)
    code = body(generated_source(path), "loss_value_and_grad")
    forward = forward_pass(code)
    assert "t1 = np.dot(w, w)" in forward and "reg = lam * t1" in forward
    assert not re.search(r"^\s+(d\w+|delta_\w+) = ", forward, re.M), forward
    assert "    dlam = t1\n" in code
    deep = body(generated_source(EXAMPLES / "deep.py"), "cost_value_and_grad")
    assert "delta_y" not in forward_pass(deep)
    assert "delta_y = t1\n    dt = -delta_y\n" in deep
    assert "        delta_y = y - t\n        dt = -delta_y\n" in deep  # docstring
    module = compiled(path)
    rng = np.random.default_rng(1)
    args = [rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3), 0.7]
    for k, g in enumerate(module.loss_grad(*args)):
        assert_close(g, central_difference(module.loss, args, k), f"ridge d{k}", 1e-6)
    check_gradient("deep", {"n": 3, "d": 2, "k": 2, "m": 3})


def test_unrolled_blocks_say_their_step_and_what_h_is():
    """rnn: five blocks differentiate the one loop statement; each says its t, and which
    value the h it reads is in the code (h_3 at t = 4); the prediction reads h_4."""
    source = generated_source(EXAMPLES / "rnn.py")
    code = body(source, "loss_value_and_grad")
    loop = "# Grad of: h = np.tanh(xs[t] @ Wx + h @ Wh + b)"
    assert f"{loop}  (t = 4; h on the right is h_3)\n" in code
    assert f"{loop}  (t = 1)\n" in code  # the h of t = 0 is h in the code too
    assert f"{loop}  (t = 0; h on the right is h0)\n" in code
    assert "# Grad of: prediction = h @ w_out  (h is h_4)\n" in code
    headers = re.findall(r"# Grad of: h = .*", code)
    assert len(headers) == len(set(headers)) == 5
    docstring = code[: code.index('"""', code.index('"""') + 3)]
    assert "Grad of: h = np.tanh(xs[t] @ Wx + h @ Wh + b)  (t = 2; h on" in docstring
    check_gradient("rnn", {"d": 3, "k": 4})


def test_latex_sections_say_the_step(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["latex", "examples/rnn.py"]) == 0
    text = capsys.readouterr().out
    assert "% Grad of: h = np.tanh(xs[t] @ Wx + h @ Wh + b)  (t = 3; h on" in text


def test_a_gradient_slot_still_zero_is_assigned():
    """rnn: dxs starts as zeros and each step writes its own row: = , not +=.
    rosenbrock: dx[1:] overlaps dx[:-1], written first, so it adds."""
    code = body(generated_source(EXAMPLES / "rnn.py"), "loss_value_and_grad")
    rows = re.findall(r"dxs\[(\d)\] (\+?=) ", code)
    assert rows == [(str(k), "=") for k in (4, 3, 2, 1, 0)], rows
    rosenbrock = generated_source(EXAMPLES / "rosenbrock.py")
    assert re.search(r"dx\[:-1\] = .*\n    dx\[1:\] \+= ", rosenbrock)
    check_gradient("rnn", {"d": 3, "k": 4}, seed=2)


@pytest.mark.parametrize(
    "a,b,apart",
    [
        ((0,), (1,), True),
        ((slice(0, 2),), (slice(2, None),), True),
        ((slice(None, 3),), (2,), False),
        ((slice(None, -1),), (slice(1, None),), False),
        ((-1,), (0,), False),  # the same row when the axis has one
        ((0, 1), (0, 2), True),
        ((0, slice(None)), (1, 0), True),
        ((None, 0), (None, 1), False),  # a new axis: not told apart here
    ],
)
def test_disjoint_keys(a, b, apart):
    from gradgen.codegen.statements import disjoint
    from gradgen.ops import encode_key

    assert disjoint(encode_key(a), encode_key(b)) is apart


SHIFTED = """
import numpy as np
from gradgen import Array


def xent(X: Array["n", "d"], Y: Array["n", "c"], W: Array["d", "c"]) -> float:
    logits = X @ W
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def attention(
    X: Array["n", "d"], Wq: Array["d", "k"], Wk: Array["d", "k"], T: Array["n", "n"]
) -> float:
    scores = (X @ Wq) @ (X @ Wk).T
    e = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    weights = e / np.sum(e, axis=1, keepdims=True)
    return np.sum((weights - T) ** 2)
"""

ZERO_STATE = """
import numpy as np
from gradgen import Array


def loss(
    xs: Array[3, "d"],
    target: float,
    Wx: Array["d", "k"],
    Wh: Array["k", "k"],
    b: Array["k"],
    w_out: Array["k"],
) -> float:
    h = np.zeros(Wh.shape[0])
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    prediction = h @ w_out
    return 0.5 * (prediction - target) ** 2
"""


def check_file(path, sizes: dict) -> None:
    """Every scalar target of a model file, against central differences."""
    module = compiled(path)
    for name, target in targets(path).items():
        args = random_inputs(target, sizes, np.random.default_rng(5))
        got = getattr(module, f"{name}_grad")(*args)
        for k, g in enumerate(got if len(args) > 1 else (got,)):
            numeric = central_difference(target.fn, args, k)
            assert_close(g, numeric, f"{path.stem}.{name} d{k}", 1e-5, 1e-7)


def test_the_max_shift_of_a_softmax_has_no_gradient_computed(tmp_path):
    """softmax(x - max(x)) does not depend on max(x): no mask, no row sums of it."""
    path = tmp_path / "shifted.py"
    path.write_text(SHIFTED)
    source = generated_source(path)
    for name in ("xent", "attention"):
        code = body(source, f"{name}_value_and_grad")
        statements = code[code.index('"""', code.index('"""') + 3) :]
        assert "==" not in statements and "astype" not in statements, statements
        assert "np.sum(-" not in statements, statements
    attention = body(source, "attention_value_and_grad")
    assert "delta_scores = log_softmax_grad(" in attention
    check_file(path, {"n": 4, "d": 3, "c": 3, "k": 2})


def test_a_product_with_a_zero_initial_state_is_not_computed(tmp_path):
    """h = zeros: the first step's h @ Wh, and its term of dWh, are left out."""
    path = tmp_path / "zero_state.py"
    path.write_text(ZERO_STATE)
    code = body(generated_source(path), "loss_value_and_grad")
    assert "np.zeros(" not in code
    assert "h = np.tanh(b + np.dot(t1, Wx))" in code
    assert "dWh = np.outer(h, delta_z_h_1) + np.outer(h_1, delta_z_h_2)\n" in code
    check_file(path, {"d": 3, "k": 4})


LOGISTIC = """
import numpy as np
from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(X: Array["n", "d"], y: Array["n"], w: Array["d"]) -> float:
    p = sigmoid(X @ w)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
"""


def test_the_logistic_gradient_is_shown_as_sigma_minus_y(tmp_path, capsys):
    """-(y ⊙ σ(-z) - σ(z) ⊙ (1 - y))/n is (σ(z) - y)/n exactly: the docstring, LaTeX
    and explain show that. The code keeps y ⊙ σ(-z) - σ(z) ⊙ (1 - y), which keeps
    its digits where σ(z) rounds to y (σ(z) - y would cancel there)."""
    path = tmp_path / "logistic.py"
    path.write_text(LOGISTIC)
    code = body(generated_source(path), "loss_value_and_grad")
    assert "        delta_z = (σ(z) - y)/n\n" in code
    assert "sigmoid_neg_abs_z" in code[code.index("# Forward pass") :]
    assert main(["latex", str(path)]) == 0
    assert r"\delta_{z} &= \frac{1}{n} \left(\sigma\left(z\right) - y\right)" in (
        capsys.readouterr().out
    )
    assert main(["explain", str(path), "--wrt", "w"]) == 0
    explained = capsys.readouterr().out
    assert "∂loss/∂z : g ↦ g·(σ(z) - y)/n" in explained  # g: the scalar loss's adjoint
    assert "∂loss/∂w = Xᵀ·((σ(z) - y)/n)" in explained
    assert "    delta_z = (σ(z) - y)/n\n" in explained
    module = compiled(path)
    rng = np.random.default_rng(3)
    X, w = rng.normal(size=(6, 3)), rng.normal(size=3) * 20  # saturated too
    y = (rng.uniform(size=6) > 0.5).astype(float)
    for k, g in enumerate(module.loss_grad(X, y, w)):
        numeric = central_difference(module.loss, [X, y, w], k)
        assert_close(g, numeric, f"logistic d{k}", 1e-5, 1e-7)


def test_explain_writes_the_code_lines_as_latex_and_the_docstring_do(capsys):
    """xor: the generated code computes σ(z_1)·σ(-z_1); all three show yhat ⊙ (1 - yhat)."""
    assert main(["explain", str(EXAMPLES / "xor.py"), "--wrt", "W0"]) == 0
    explained = capsys.readouterr().out
    lines = explained[explained.index("The lines of the generated") :]
    code = body(generated_source(EXAMPLES / "xor.py"), "loss_value_and_grad")
    for line in lines.splitlines()[1:]:
        if line.strip():
            assert " ".join(line.split()) in " ".join(code.split()), line
    assert "delta_z_1 = delta_yhat ⊙ yhat ⊙ (1 - yhat)" in lines
    assert "σ(-" not in lines


def test_a_size_that_is_a_sum_is_bracketed_in_a_product_or_a_quotient(tmp_path):
    """/(n - 1) and (n - 1)·x, not /n - 1 and n - 1·x (a size read from a slice)."""
    path = tmp_path / "sizes.py"
    path.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def loss(x: Array["n"]) -> float:\n'
        "    m = x.shape[0]\n"
        "    return np.sum(x[1:] * (m - 1)) + np.sum(x[m - 2::-1] ** 2) / (m - 1)\n"
    )
    source = compile_file(str(path))
    assert "loss = sum((n - 1)·x[1:]) + (t1·t1)/(n - 1)" in source
    assert "dx = {[n - 2::-1] ← 2·t1/(n - 1)} + {[1:] ← n - 1}" in source
