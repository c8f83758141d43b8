"""Loops that stay loops (tests/models/loops.py): one compile, any length; gradients
against autograd and central differences; the generated code is a forward loop keeping
a tape and a reversed loop; what cannot stay a loop is unrolled or refused clearly."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from compiled import compiled, generated_source
from gradcheck import (
    ROOT,
    assert_close,
    autograd_namespace,
    central_difference,
    differentiated,
    random_inputs,
    targets,
)

import autograd

MODEL = ROOT / "tests" / "models" / "loops.py"
TARGETS = targets(MODEL)
REFERENCE = autograd_namespace(MODEL)
SIZES = {"n": 3, "d": 4, "k": 5, "m": 4, "c": 3}
DOMAINS = {"tagged": {"Y": ("index", "c")}}
MODES = "jvp,hvp"  # one compile for every test here: the first-order functions too


@pytest.fixture(scope="module")
def module():
    return compiled(MODEL, modes=MODES)


def _inputs(name: str, steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    args = random_inputs(
        TARGETS[name], {**SIZES, "T": steps}, rng, DOMAINS.get(name, {})
    )
    return [
        a * 0.5 if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]


def _check(module, name: str, steps: int, central: bool = True):
    args = _inputs(name, steps)
    value, grads = getattr(module, f"{name}_value_and_grad")(*args)
    floats = differentiated(TARGETS[name])
    grads = grads if len(floats) > 1 else (grads,)
    reference = REFERENCE[name]
    assert_close(value, reference(*args), f"{name} value at T = {steps}", rtol=1e-10)
    assert_close(getattr(module, name)(*args), value, f"{name} value function")
    expected = autograd.grad(reference, floats)(*args)
    for k, g, e in zip(floats, grads, expected):
        what = f"{name} d{TARGETS[name].params[k].name} at T = {steps}"
        assert_close(g, e, what + " (autograd)", rtol=1e-8, atol=1e-10)
        if central:
            numeric = central_difference(reference, args, k)
            assert_close(g, numeric, what + " (central differences)", 1e-5, 1e-7)


@pytest.mark.parametrize("steps", [1, 7])
@pytest.mark.parametrize(
    "name",
    ["rnn", "lstm", "differences", "leaky", "tagged", "zipped", "enumerated", "layers"],
)
def test_one_compile_any_length(module, name, steps):
    if name == "differences" and steps == 1:
        steps = 2  # range(1, T): one step
    _check(module, name, steps)


def test_a_thousand_steps_from_the_same_compile(module):
    _check(module, "rnn", 1000, central=False)


def test_a_long_fixed_loop_stays_a_loop(module):
    _check(module, "euler", 300)
    source = generated_source(MODEL, modes=MODES)
    assert "for step in reversed(range(300)):" in source
    assert source.count("np.sin(") <= 12  # the body once per helper, not 300 times


def test_the_backward_loop_reads_like_bptt():
    source = generated_source(MODEL, modes=MODES)
    backward = source[source.index("def _rnn_loop1_backward") :]
    backward = backward[: backward.index("\ndef ")]
    for line in [
        "for t in reversed(range(T)):",
        "h = hs[t]",
        "h_next = hs[t + 1]",
        "delta_z_h_next = dh * (1 - h_next**2)",
        "dWh += np.dot(h.T, delta_z_h_next)",
        "dh = np.dot(delta_z_h_next, Wh.T)",
        "dX[t] += np.dot(delta_z_h_next, Wx.T)",
    ]:
        assert line in backward, line
    forward = source[source.index("def _rnn_loop1_forward") :]
    assert "hs = np.empty((T + 1, n, k), dtype)" in forward  # the tape: one array


def test_a_sigmoid_slope_is_taped_as_one_array():
    """The backward pass reads a stable sigmoid's two factors σ(|z|), σ(−|z|) only as
    their product, the slope: the forward step makes it, the tape keeps it alone."""
    source = generated_source(MODEL, modes=MODES)
    forward = source[source.index("def _lstm_loop1_forward") :]
    forward = forward[: forward.index("\ndef ")]
    assert "sigmoid_slope_zs = np.empty((T, n, k), dtype)" in forward
    assert "sigmoid_slope_z = sigmoid_abs_z * sigmoid_neg_abs_z" in forward
    assert "sigmoid_abs_zs" not in forward and "sigmoid_neg_abs_zs" not in forward
    assert forward.count("np.empty(") == 8  # h, c, two slopes, i, f, the tanh's
    backward = source[source.index("def _lstm_loop1_backward") :]
    assert "delta_z = delta_i * sigmoid_slope_z\n" in backward


def test_zip_and_enumerate_over_a_named_axis_stay_loops():
    """``for x_t, y_t in zip(X, Y)`` and ``for t, x_t in enumerate(X)`` roll like ``for
    x_t in X``, their rows named as the header names them; a zip of Python lists is
    unrolled, as written."""
    source = generated_source(MODEL, modes=MODES)
    zipped = source[source.index("def _zipped_loop1_backward") :]
    for line in ["for t in reversed(range(T)):", "x_t = X[t]", "dY[t] += "]:
        assert line in zipped, line
    assert "(for x_t, y_t in zip(X, Y))" in source
    enumerated = source[source.index("def _enumerated_loop1(") :]
    assert "for t in range(T):" in enumerated and "x_t = X[t]" in enumerated
    assert "_layers_loop1" not in source and "_gg_" not in source


def test_what_does_not_change_is_computed_once():
    source = generated_source(MODEL, modes=MODES)
    leaky = source[source.index("def leaky_value_and_grad") :]
    before_loop = leaky[: leaky.index("_leaky_loop1_forward(")]
    assert "W.T" in before_loop  # hoisted out of the loop into the outer function
    body = source[source.index("def _leaky_loop1(") :]
    body = body[: body.index("\ndef ")]
    assert ".T" not in body


def _compile(tmp_path, text: str, *options: str):
    model = tmp_path / "model.py"
    model.write_text(textwrap.dedent(text))
    out = tmp_path / "out.py"
    return (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gradgen",
                "compile",
                str(model),
                "-o",
                str(out),
                "--no-cache",
                *options,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        ),
        out,
    )


HEADER = """
    import numpy as np
    from gradgen import Array

    def f(X: Array["T", "d"], w: Array["d"]) -> float:
"""


@pytest.mark.parametrize(
    "body, message",
    [
        (
            """
        s = 0.0
        for t in range(X.shape[0]):
            if t > 3:
                break
            s = s + np.sum(X[t] * w)
        return s
    """,
            "cannot stay a loop: it has a break or continue",
        ),
        (
            """
        rows = []
        for t in range(X.shape[0]):
            rows.append(np.tanh(X[t] * w))
        return np.sum(np.stack(rows))
    """,
            "changes the Python container 'rows'",
        ),
        (
            """
        for t in range(X.shape[0]):
            z = np.tanh(X[t] * w)
        return np.sum(z)
    """,
            "'z' is assigned inside the loop at line 6 and read after it",
        ),
        (
            """
        h = w
        for t in range(X.shape[0]):
            h = np.outer(h, X[t])
        return np.sum(h)
    """,
            "'h' changes shape in the loop at line 7",
        ),
        (
            """
        s = 0.0
        for x_t, w_t in zip(X, np.outer(np.ones(3), w)):
            s = s + np.sum(x_t * w_t)
        return s
    """,
            "zip over arrays whose first axes differ (T and 3)",
        ),
        (
            """
        s = 0.0
        for x_t, k in zip(X, range(3)):
            s = s + k * np.sum(x_t * w)
        return s
    """,
            "zip(...) of an array of T rows (a name) and a sequence that is not such",
        ),
    ],
)
def test_what_cannot_stay_a_loop_is_refused_in_one_line(tmp_path, body, message):
    text = textwrap.dedent(HEADER) + textwrap.indent(
        textwrap.dedent(body).lstrip(), "    "
    )
    result, out = _compile(tmp_path, text)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert lines[0].startswith(str(tmp_path / "model.py") + ":") or lines[0].startswith(
        "model.py:"
    )
    assert "Traceback" not in result.stderr and "_gg_" not in result.stderr
    assert not out.exists()


FIXED = """
    import numpy as np
    from gradgen import Array

    def f(x: Array["d"], W: Array["d", "d"]) -> float:
        h = x
        for t in range(25):
            h = np.tanh(h @ W)
        return np.sum(h)
"""


def test_unroll_and_no_unroll(tmp_path):
    rolled, out = _compile(tmp_path, FIXED)
    assert rolled.returncode == 0, rolled.stderr
    rolled_source = out.read_text()
    assert "for t in reversed(range(25)):" in rolled_source
    unrolled, out = _compile(tmp_path, FIXED, "--unroll", "-v")
    assert unrolled.returncode == 0, unrolled.stderr
    unrolled_source = out.read_text()
    assert "reversed(range" not in unrolled_source
    assert unrolled_source.count("np.tanh(") >= 25
    # both compute the same gradient
    from gradcheck import import_source

    a = import_source(rolled_source, "rolled")
    b = import_source(unrolled_source, "unrolled")
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=4), rng.normal(size=(4, 4)) * 0.5
    for ga, gb in zip(a.f_grad(x, W), b.f_grad(x, W)):
        np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)
    short = FIXED.replace("range(25)", "range(5)")
    kept, out = _compile(tmp_path, short, "--no-unroll")
    assert kept.returncode == 0, kept.stderr
    assert "for t in reversed(range(5)):" in out.read_text()


def _along(f, args, floats, v, eps: float = 1e-6):
    """d/de f(args + e v) by central differences (f may return a tuple of arrays)."""

    def at(e):
        moved = list(args)
        for k, d in zip(floats, v):
            moved[k] = args[k] + e * d
        out = f(*moved)
        return [np.asarray(o) for o in (out if isinstance(out, tuple) else (out,))]

    return [(p - m) / (2 * eps) for p, m in zip(at(eps), at(-eps))]


@pytest.mark.parametrize(
    "name, steps",
    [
        (n, s)
        for n in [
            "rnn",
            "lstm",
            "differences",
            "leaky",
            "tagged",
            "zipped",
            "enumerated",
        ]
        for s in (1, 7)
    ]
    + [("euler", 300)],
)
def test_jvp_and_hvp_through_the_loop(module, name, steps):
    """f_jvp runs the loop once in forward mode; f_hvp runs it in forward mode keeping
    each step's values, then the steps in reverse with the gradients' tangents: both
    against autograd and central differences, at T = 1 and 7 from one compile."""
    steps = 2 if name == "differences" and steps == 1 else steps
    args = _inputs(name, steps)
    floats = differentiated(TARGETS[name])
    rng = np.random.default_rng(5)
    v = [rng.normal(size=np.shape(args[k])) for k in floats]
    v = [float(d) if not np.shape(d) else d for d in v]
    direction = tuple(v) if len(v) > 1 else v[0]
    reference = REFERENCE[name]
    gradient = autograd.grad(reference, floats)
    value, value_dot = getattr(module, f"{name}_jvp")(*args, direction)
    what = f"{name} at T = {steps}"
    assert_close(value, reference(*args), f"{what}: jvp's value", rtol=1e-10)
    expected = sum(np.vdot(g, d) for g, d in zip(gradient(*args), v))
    assert_close(value_dot, expected, f"{what}: jvp (autograd)", 1e-8, 1e-10)
    numeric = _along(reference, args, floats, v)[0]
    assert_close(value_dot, numeric, f"{what}: jvp (central differences)", 1e-5, 1e-7)
    hvp = getattr(module, f"{name}_hvp")(*args, direction)
    hvp = hvp if len(floats) > 1 else (hvp,)

    def along_v(*a):  # <grad f, v>: its gradient is H v
        return sum(autograd.numpy.sum(g * d) for g, d in zip(gradient(*a), v))

    expected = autograd.grad(along_v, floats)(*args)
    numeric = _along(gradient, args, floats, v)
    for k, h, e, c in zip(floats, hvp, expected, numeric):
        part = f"{what}: hvp's d{TARGETS[name].params[k].name}_dot"
        assert_close(h, e, part + " (autograd)", 1e-8, 1e-10)
        assert_close(h, c, part + " (central differences)", 1e-5, 1e-7)


def test_forward_modes_keep_the_loop_a_loop():
    source = generated_source(MODEL, modes=MODES)
    jvp = source[source.index("def rnn_jvp(") :]
    jvp = jvp[: jvp.index("\ndef ")]
    assert jvp.count("_rnn_loop1_jvp(") == 1  # one run: values and tangents together
    assert "_rnn_loop1(" not in jvp and "_rnn_loop1_forward(" not in jvp
    step = source[source.index("def _rnn_loop1_jvp(") :]
    step = step[: step.index("\ndef ")]
    assert "for t in range(T):" in step and "h, h_dot = h_next, h_next_dot" in step
    back = source[source.index("def _rnn_loop1_backward_jvp(") :]
    back = back[: back.index("\ndef ")]
    assert "for t in reversed(range(T)):" in back
    assert "dWh_dot += " in back and "dX_dot[t] += " in back


def test_readme_shows_the_tangent_loop():
    readme = (ROOT / "README.md").read_text()
    marker = "<!-- gradgen compile examples/rnn_sequence.py --mode jvp: _loss_loop1_jvp"
    excerpt = readme.split(marker, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    source = generated_source(ROOT / "examples" / "rnn_sequence.py", modes="jvp")
    helper = source[source.index("def _loss_loop1_jvp(") :]
    assert excerpt.startswith("    for t in") and excerpt in helper


SHORT = """
    import numpy as np
    from gradgen import Array

    def f(x: Array["d"], W: Array["d", "d"], s: float) -> float:
        h = x
        for t in range(4):
            h = np.tanh(h @ W)
        return np.sum(h * s) ** 2
"""


def test_rolled_forward_modes_equal_unrolled_ones(tmp_path):
    from gradcheck import import_source
    from gradgen.pipeline import compile_file

    model = tmp_path / "short.py"
    model.write_text(textwrap.dedent(SHORT))
    rolled = compile_file(str(model), modes="jvp,hvp", unroll=False)
    assert "for t in reversed(range(4)):" in rolled
    a = import_source(rolled, "rolled_modes")
    b = import_source(compile_file(str(model), modes="jvp,hvp"), "unrolled_modes")
    rng = np.random.default_rng(2)
    args = [rng.normal(size=4), rng.normal(size=(4, 4)) * 0.5, 0.8]
    v = (rng.normal(size=4), rng.normal(size=(4, 4)), 0.3)
    for x, y in zip(a.f_jvp(*args, v), b.f_jvp(*args, v)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    for x, y in zip(a.f_hvp(*args, v), b.f_hvp(*args, v)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


ARRAY_RESULT = """
    def g(X: Array["T", "d"], W: Array["d", "d"], s: float) -> Array["d"]:
        h = X[0] * s
        for t in range(X.shape[0]):
            h = np.tanh(h @ W + X[t])
        return h * s
"""


@pytest.mark.parametrize("wrt", [None, ["s"]])  # reverse mode; forward mode
def test_dense_derivatives_through_the_loop(tmp_path, wrt):
    from gradcheck import import_source
    from gradgen.pipeline import compile_file
    from modecheck import Flat, hessian_matrix, jacobian_matrix, reference

    model = tmp_path / "dense.py"
    model.write_text(textwrap.dedent(SHORT) + textwrap.dedent(ARRAY_RESULT))
    rolled = compile_file(str(model), wrt=wrt, modes="hessian,jacobian", unroll=False)
    module = import_source(rolled, f"dense_loops_{bool(wrt)}")
    namespace = autograd_namespace(model)
    rng = np.random.default_rng(3)
    for steps in (1, 5):
        args = [rng.normal(size=(steps, 3)), rng.normal(size=(3, 3)) * 0.5, 0.7]
        chosen = [0, 1, 2] if wrt is None else [2]
        flat = Flat([args[k] for k in chosen])

        def g(*x):
            full = list(args)
            for k, value in zip(chosen, x):
                full[k] = value
            return namespace["g"](*full)

        jac, _ = reference(g, flat.args)
        got = jacobian_matrix(module.g_jacobian(*args), 3, flat.sizes)
        assert_close(got, jac, f"jacobian at T = {steps}", 1e-10, 1e-12)
    if wrt is None:
        args = [rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5, 0.7]
        _, hess = reference(namespace["f"], args)
        got = hessian_matrix(module.f_hessian(*args), Flat(args).sizes)
        assert_close(got, hess, "hessian", 1e-9, 1e-11)


def test_check_runs_the_modes_through_the_loop(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(textwrap.dedent(FIXED))
    result = subprocess.run(
        [sys.executable, "-m", "gradgen", "check", str(model), "--mode", "all"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jvp" in result.stdout and "hvp" in result.stdout
    assert "hessian" in result.stdout and "ok" in result.stdout


@pytest.fixture(scope="module")
def checkpointed():
    from gradcheck import import_source
    from gradgen.pipeline import compile_file

    return import_source(compile_file(str(MODEL), checkpoint=3), "checkpointed_loops")


@pytest.mark.parametrize("steps", [1, 2, 7, 9])
@pytest.mark.parametrize("name", ["rnn", "lstm", "differences", "tagged"])
def test_checkpoints_recompute_the_same_gradient(module, checkpointed, name, steps):
    if name == "differences" and steps == 1:
        return
    args = _inputs(name, steps, seed=5)
    value, grads = getattr(checkpointed, f"{name}_value_and_grad")(*args)
    kept, kept_grads = getattr(module, f"{name}_value_and_grad")(*args)
    assert value == kept
    for g, k in zip(grads, kept_grads):
        np.testing.assert_allclose(g, k, rtol=1e-13, atol=1e-15)
    _check(checkpointed, name, steps, central=False)  # and against autograd


def test_checkpoints_keep_every_kth_state():
    from gradgen.pipeline import compile_file

    source = compile_file(str(MODEL), ["rnn"], checkpoint=3)
    assert "h_saved = np.empty(((T + 2) // 3, n, k), dtype)" in source
    assert "for segment in reversed(range(0, T, 3)):" in source
    assert "hs = np.empty((3 + 1, n, k), dtype)" in source


# --- random loops: bodies drawn from elementwise functions, products and carried sums ---

_FUNCTIONS = [
    "np.tanh({})",
    "np.sin({})",
    "1 / (1 + np.exp(-{}))",
    "np.log(1 + {} ** 2)",
]
_LOOPS = ["range(X.shape[0])", "range(1, X.shape[0])", "range(25)"]


def _random_loop(seed: int) -> str:
    """A model whose loop carries a state ``h`` (an array), a running sum ``s`` (a
    number) and sometimes a second state, built from random pieces."""
    rng = np.random.default_rng(seed)
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    header = pick(_LOOPS)
    row = "X[0]" if header == "range(25)" else pick(["X[t]", "X[t - 1]"])
    inner = pick(["h @ W", "h * a", "h @ W + {row} * a", "{row} @ V + h * a"])
    f = pick(_FUNCTIONS)
    two = rng.integers(2) == 1
    lines = [
        "    h = h0",
        "    s = 0.0",
        "    g = h0 * 0.5" if two else "",
        f"    for t in {header}:",
        f"        z = {inner.format(row=row)}" + (" + g * a" if two else ""),
        f"        h = {f.format('z')}",
        f"        s = s + np.sum({pick(_FUNCTIONS).format('h')}) * b",
        f"        g = 0.5 * g + {pick(_FUNCTIONS).format('z')}" if two else "",
        "    return s + np.sum(h ** 2)",
    ]
    return (
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def f(X: Array["T", "k"], h0: Array["k"], W: Array["k", "k"], '
        'V: Array["k", "k"], a: Array["k"], b: float) -> float:\n'
        + "\n".join(line for line in lines if line)
        + "\n"
    )


@pytest.mark.parametrize(
    "seed", range(int(__import__("os").environ.get("GRADGEN_RANDOM_LOOPS", "3")))
)
def test_random_loops_against_autograd(tmp_path, seed):
    """The gradient, JVP and HVP of random loops against autograd;
    ``GRADGEN_RANDOM_LOOPS=200 pytest tests/test_loops.py -k random`` runs more."""
    from gradcheck import import_source
    from gradgen.pipeline import compile_file

    text = _random_loop(seed)
    model = tmp_path / f"loop{seed}.py"
    model.write_text(text)
    source = compile_file(str(model), modes="jvp,hvp")
    module = import_source(source, f"random_loop_{seed}")
    reference = autograd_namespace(model)["f"]
    gradient = autograd.grad(reference, list(range(6)))
    rng = np.random.default_rng(seed)
    for steps in (1, 6):
        args = [
            rng.normal(size=(steps, 3)) * 0.5,
            rng.normal(size=3) * 0.5,
            rng.normal(size=(3, 3)) * 0.4,
            rng.normal(size=(3, 3)) * 0.4,
            rng.normal(size=3) * 0.5,
            float(rng.normal()),
        ]
        value, grads = module.f_value_and_grad(*args)
        assert_close(value, reference(*args), f"{text}\nvalue at T = {steps}", 1e-10)
        expected = gradient(*args)
        for k, (g, e) in enumerate(zip(grads, expected)):
            assert_close(g, e, f"{text}\nargument {k} at T = {steps}", 1e-8, 1e-10)
        v = [rng.normal(size=np.shape(a)) for a in args[:5]] + [float(rng.normal())]
        _, value_dot = module.f_jvp(*args, tuple(v))
        along = sum(np.vdot(e, d) for e, d in zip(expected, v))
        assert_close(value_dot, along, f"{text}\njvp at T = {steps}", 1e-8, 1e-10)

        def along_v(*a):  # <grad f, v>: its gradient is H v
            return sum(autograd.numpy.sum(g * d) for g, d in zip(gradient(*a), v))

        hvp = module.f_hvp(*args, tuple(v))
        for k, (h, e) in enumerate(
            zip(hvp, autograd.grad(along_v, list(range(6)))(*args))
        ):
            assert_close(h, e, f"{text}\nhvp {k} at T = {steps}", 1e-8, 1e-10)
