"""The program checker (``programcheck.py``) passes a correct compile and catches a wrong
value, a wrong gradient, a wrong vector-Jacobian product, a wrong JVP and a wrong
Hessian-vector product, against autograd and, for a model autograd cannot run (it writes
into arrays), against central differences."""

from __future__ import annotations

import numpy as np
import pytest

import numericref
import ties
from gradgen import ops
from gradgen.ops import Index, Update
from program_arrays import slice_options
import programcheck
from programcheck import ALL_MODES, Program, Unsettled, check_program

SIZES = [{"n": 2, "d": 3, "k": 4}, {"n": 3, "d": 1, "k": 2}]
MODEL = """import numpy as np

from gradgen import Array


def f(x: Array["n", "d"], W: Array["n", "k"], s: float) -> float:
    return np.sum(np.tanh(x.T @ W) * s)


def g(x: Array["n", "d"], W: Array["n", "k"]) -> Array["d", "k"]:
    return np.log(x.T @ W + 10.0)
"""


_MATMUL_VJP = ops.MatMul.vjp


def _doubled_matmul(g, ans, a, b, *, shape):
    return tuple(2 * part for part in _MATMUL_VJP(g, ans, a, b, shape=shape))


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_correct_compile_passes(name):
    program = Program(MODEL, name, wrt=["x", "W"] if name == "f" else None)
    check_program(program, SIZES, ALL_MODES)


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_wrong_derivative_rule_is_caught(monkeypatch, name):
    monkeypatch.setattr(ops.MatMul, "vjp", staticmethod(_doubled_matmul))
    with pytest.raises(AssertionError, match="d/dx vs autograd"):
        check_program(Program(MODEL, name), SIZES)


def test_a_wrong_value_is_caught(monkeypatch):
    import programcheck

    real_import = programcheck.import_source

    def wrong(source, name):
        module = real_import(source, name)
        real = module.f
        module.f = lambda *args: real(*args) * (1 + 1e-7)
        return module

    monkeypatch.setattr(programcheck, "import_source", wrong)
    with pytest.raises(AssertionError, match="f at .*: f: max error"):
        check_program(Program(MODEL, "f"), SIZES)


def test_parameters_are_drawn_from_their_domains():
    source = MODEL.replace("np.tanh(x.T @ W) * s", "np.log(x) * s")
    check_program(
        Program(source, "f", domains={"x": (0.5, 2.0)}, zero_dim=("s",)), SIZES
    )
    with pytest.raises(AssertionError, match="not finite"):  # log of x in (-1, 1)
        check_program(Program(source, "f"), SIZES)


@pytest.mark.parametrize("dim", range(1, 9))
def test_every_integer_size_has_a_slice_giving_it(dim):
    """The generator slices an axis of any integer size it meets, (6,) too (a flattened
    (2, 3)): an empty list of options stopped a long run in hypothesis's sampled_from.
    """
    options = slice_options(dim)
    assert options
    for size, text in options:  # a named size ("n") is any size, 1 or more
        bounds = [int(b) if b else None for b in text.split(":")]
        for n in [size] if isinstance(size, int) else [1, 4]:
            assert len(np.arange(n)[slice(*bounds)]) == dim, (size, text)


def _first_term_only(t, ans, a, b, *, shape):
    """The JVP of a matmul without the term of its second operand."""
    return ops.MatMul(t[0], b) if t[0] is not None else 0


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_wrong_jvp_rule_is_caught(monkeypatch, name):
    monkeypatch.setattr(ops.MatMul, "jvp", staticmethod(_first_term_only))
    with pytest.raises(AssertionError, match=f"{name}_jvp vs autograd"):
        check_program(Program(MODEL, name), SIZES, ("jvp",))


def test_a_wrong_second_derivative_is_caught(monkeypatch):
    """f_hvp differentiates the backward pass in forward mode: a wrong JVP rule of an
    operation there gives a wrong Hessian-vector product."""
    monkeypatch.setattr(ops.MatMul, "jvp", staticmethod(_first_term_only))
    with pytest.raises(AssertionError, match="f_hvp d/dx vs autograd"):
        check_program(Program(MODEL, "f"), SIZES, ("hvp",))


SATURATED = """import numpy as np

from gradgen import Array


def f(x: Array["n"], W: Array["n", "k"]) -> float:
    return np.sum(np.tanh(x * x)) + np.sum(np.tanh(0.1 * x @ W))
"""


def test_an_hvp_autograd_cannot_compute_is_checked_by_central_differences(
    monkeypatch, tmp_path
):
    """At x in (30, 40) autograd's tanh'' divides inf by inf: its HVP is nan, and the
    checker compares with central differences of the generated gradient instead, which
    still catch a wrong rule."""
    import autograd

    from programcheck import reference_function

    path = tmp_path / "saturated.py"
    path.write_text(SATURATED)
    x, W = np.full(3, 35.0), np.ones((3, 2))
    with np.errstate(all="ignore"):
        hvp, _ = autograd.make_hvp(reference_function(path, "f"), (0, 1))(x, W)
        assert not np.all(np.isfinite(hvp((x, W))[0]))
    program = Program(SATURATED, "f", domains={"x": (30.0, 40.0)})
    check_program(program, SIZES, ("hvp",))
    monkeypatch.setattr(ops.MatMul, "jvp", staticmethod(_first_term_only))
    with pytest.raises(AssertionError, match="autograd's is not finite"):
        check_program(program, SIZES, ("hvp",))


SATURATED_AND_FAST = """import numpy as np

from gradgen import Array


def f(x: Array["n"], y: Array["n"]) -> float:
    return np.sum(np.tanh(x * x)) + np.sum(np.sin(np.degrees(np.degrees(y))))
"""


def test_an_hvp_with_no_reference_at_the_point_is_not_checked():
    """autograd's HVP is nan (tanh'' at x in (30, 40)), and central differences of the
    gradient do not settle (its derivatives grow by 57.3**2 each, through two
    np.degrees): Unsettled, which the random programs count, not a failure (found by the
    long profile, seed 42)."""
    program = Program(SATURATED_AND_FAST, "f", domains={"x": (30.0, 40.0)})
    with pytest.raises(Unsettled, match="central differences of the gradient"):
        check_program(program, SIZES, ("hvp",))


CHAOTIC = """import numpy as np

from gradgen import Array


def f(s: float) -> float:
    x = np.radians(np.arccos(0.85 * np.tanh(s)))
    for _ in range(24):
        x = np.cos(10.0 / np.cosh(x) / ((x / np.exp(x)) ** 2 + 1.0))
    return x
"""


@pytest.mark.skipif(
    np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
    reason="NumPy has no extended precision here",
)
def test_a_model_that_amplifies_its_rounding_is_not_checked():
    """The loop multiplies a change of x at a step by up to 1e9: the model run in
    float64 is itself off by more than the tolerance (the generated code differed from it
    by 1.3e-8 of its value, found by the long profile, seed 41). Unsettled, not a failure.
    """
    program = Program(CHAOTIC, "f", domains={"s": (0.5, 2.0)})
    with pytest.raises(Unsettled, match="amplifies its rounding"):
        check_program(program, SIZES, ALL_MODES)


SATURATED_DEGREES = """import numpy as np

from gradgen import Array


def f(w: Array["n"], s: float) -> float:
    return np.tanh(s + np.sum(np.cos(np.rad2deg(np.rad2deg(w)))))
"""


@pytest.mark.skipif(
    not programcheck.EXTENDED, reason="NumPy has no extended precision here"
)
def test_a_derivative_the_generated_code_rounds_is_checked_in_extended_precision(
    monkeypatch,
):
    """tanh at s in (14, 15) saturates: the generated 1 - tanh**2 keeps a few digits in
    float64 (autograd's 1/cosh**2 all of them), and the HVP multiplies that rounding by
    (180/pi)**4; in float64 it differs from autograd's by more than the tolerance (long
    profile, seed 86). Run again in extended precision it agrees; a wrong one does not.
    """
    program = Program(SATURATED_DEGREES, "f", domains={"s": (14.0, 15.0)})
    sizes = [{"n": 2}, {"n": 3}]
    check_program(program, sizes, ("hvp",))
    monkeypatch.setattr(programcheck, "EXTENDED", False)
    with pytest.raises(AssertionError, match="f_hvp d/dw vs autograd"):
        check_program(program, sizes, ("hvp",))
    monkeypatch.setattr(programcheck, "EXTENDED", True)
    real_import = programcheck.import_source

    def wrong(source, name):
        module = real_import(source, name)
        real = module.f_hvp
        module.f_hvp = lambda *args: tuple(h * 1.01 for h in real(*args))
        return module

    monkeypatch.setattr(programcheck, "import_source", wrong)
    with pytest.raises(AssertionError, match="f_hvp d/dw vs autograd"):
        check_program(program, sizes, ("hvp",))


NO_SPREAD = """import numpy as np

from gradgen import Array


def model(W1: Array["n", "n"], b2: Array["n"], W4: Array[2, "n"], W5: Array[1, "n"]):
    h3 = np.tanh(W1 @ W1 @ b2)
    h6 = np.std(np.tanh(np.maximum(W4, W5)), axis=0, ddof=0)
    return np.mean(h3) + np.mean(h6)
"""


def test_a_gradient_autograd_gives_as_nan_is_checked_by_central_differences(
    monkeypatch, tmp_path
):
    """With W5 above both rows of W4, each column np.std reduces has no spread: the
    model does not depend on W4 or W5 there, but autograd's gradient is nan (sqrt'(0)
    times 0). The checker compares with central differences of the model instead, which
    still catch a wrong rule (found by the long profile)."""
    import autograd

    from programcheck import reference_function

    path = tmp_path / "no_spread.py"
    path.write_text(NO_SPREAD)
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in [(3, 3), (3,), (2, 3), (1, 3)]]
    args[2], args[3] = -np.abs(args[2]), np.abs(args[3]) + 0.1
    with np.errstate(all="ignore"):
        grads = autograd.grad(reference_function(path, "model"), (0, 1, 2, 3))(*args)
    assert not np.all(np.isfinite(grads[3]))
    domains = {"W4": (-1.0, 0.0), "W5": (0.1, 1.0)}
    program = Program(NO_SPREAD, "model", domains=domains)
    check_program(program, SIZES, ALL_MODES)
    monkeypatch.setattr(ops.MatMul, "vjp", staticmethod(_doubled_matmul))
    with pytest.raises(AssertionError, match="d/dW1 vs central.*autograd's is not"):
        check_program(program, SIZES, ("value", "grad"))


def test_hvp_is_skipped_for_an_array_output():
    check_program(Program(MODEL, "g"), SIZES, ("hvp",))


WRITES = """import numpy as np

from gradgen import Array


def f(x: Array["n"], W: Array[4, "n"], s: float) -> float:
    y = np.zeros_like(x)
    y[0] = s * x[-1]
    y[1:] += x[:-1] ** 2
    Z = W * 1.0
    Z[1:3, :] = np.tanh(Z[1:3, :] * y)
    Z += s
    return np.sum(Z**2) + np.sum(y * x)


def g(x: Array["n"], W: Array[4, "n"], s: float) -> Array[4]:
    Z = W * 1.0
    Z[:, 0] = np.abs(x[0] - s) + Z[:, -1]
    return Z @ x
"""


@pytest.mark.parametrize("name", ["f", "g"])
def test_writes_are_checked_against_central_differences(name):
    check_program(Program(WRITES, name, autograd=False), SIZES, ALL_MODES)


def _doubled_write(g, ans, a, value, key, *, shape):
    """The VJP of y[key] = value with the value's gradient doubled."""
    return Update(g, 0, key), 2 * Index(g, key)


@pytest.mark.parametrize("name", ["f", "g"])
def test_central_differences_catch_a_wrong_rule(monkeypatch, name):
    monkeypatch.setattr(Update, "vjp", staticmethod(_doubled_write))
    with pytest.raises(AssertionError, match="d/dx vs central differences"):
        check_program(Program(WRITES, name, autograd=False), SIZES, ("grad",))


def test_central_differences_refuse_a_point_near_a_kink():
    x = np.array([0.3, 2e-5, -0.7])
    with pytest.raises(numericref.NotSmooth):
        numericref.jacobian(lambda v: np.sum(np.abs(v)), [x], [0])
    jac = numericref.jacobian(lambda v, s: np.sin(v) * s, [x, 1.5], [0, 1])
    expected = np.hstack([np.diag(np.cos(x) * 1.5), np.sin(x)[:, None]])
    assert np.max(np.abs(jac - expected)) < 1e-9


ROUNDING = """import numpy as np

from gradgen import Array


def f(s: float, x: Array["n"]) -> float:
    # log(exp(s)) is s in real numbers (and in gradgen's code); in floats, for half of all s
    if s != np.log(np.exp(s)):
        return np.sum(np.tanh(x))
    return np.sum(x ** 2)


def g(s: float, x: Array["n"]) -> float:
    if s != np.log(np.exp(s)) + 0.5:
        return np.sum(np.tanh(x))
    return np.sum(x ** 2)
"""


def test_a_condition_rounding_decides_is_checked_where_it_does_not():
    """gradgen's code takes the branch real algebra says (log(exp(s)) is s); NumPy the one
    rounding says. The checker watches the model's comparisons and checks where none is
    tied by rounding (failing on the first point drawn otherwise: max error 1.42)."""
    f = ties.Probed(ROUNDING, "rounding.py", "f")
    g = ties.Probed(ROUNDING, "rounding.py", "g")
    x = np.ones(3)
    assert 0.01 != np.log(np.exp(0.01)) and f(0.01, x) and not g(0.01, x)
    assert 0.5 == np.log(np.exp(0.5)) and not f(0.5, x) and not g(0.5, x)
    check_program(Program(ROUNDING, "f"), SIZES, ALL_MODES)
    check_program(Program(ROUNDING, "g"), SIZES, ALL_MODES)


def test_a_condition_rounding_decides_everywhere_is_not_checked():
    """Not failed, not passed: Unsettled, which the random programs count."""
    tied = Program(ROUNDING, "f", domains={"s": (1e-4, 1e-3)})
    with pytest.raises(Unsettled) as raised:
        check_program(tied, SIZES, ALL_MODES)
    assert raised.value.reason == "rounding decides a condition of the model"
