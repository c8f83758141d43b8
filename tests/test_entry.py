"""What the generated functions do with their arguments and results.

- They check the arguments first: a wrong number of dimensions, a fixed size that differs, a
  named size that differs between arguments or is 0 raise ValueError naming the argument,
  the shape it has and the one expected; complex or object arrays raise TypeError; integer
  and boolean arrays, Python ints and lists are taken as floats. ``--no-checks`` leaves the
  check out.
- Every array they return is a new one: never an argument, a view of one, or another
  result (``W -= lr * dW`` changes nothing else), across the examples and the op models.
- Division by a constant zero is refused where it is written, not folded into nan.
"""

from __future__ import annotations

import numpy as np
import pytest

from compiled import compiled
from gradcheck import (
    DRIVERS,
    ROOT,
    central_difference,
    import_source,
    random_inputs,
    targets,
)
from gradgen import GradgenError
from gradgen.cli.commands import main
from gradgen.pipeline import compile_file

XOR = ROOT / "examples" / "xor.py"


@pytest.fixture(scope="module")
def xor():
    return import_source(compile_file(str(XOR), modes="jvp,hvp"), "entry_xor")


def _args(rng=None):
    rng = rng or np.random.default_rng(0)
    return [rng.normal(size=s) for s in [(4, 2), (4, 1), (2, 4), (4, 1)]]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: [np.ones((4, 3))] + a[1:], "X has shape (4, 3); expected (n, 2)"),
        (lambda a: [np.ones(4)] + a[1:], "X has shape (4,); expected (n, 2)"),
        (
            lambda a: a[:1] + [np.ones((5, 1))] + a[2:],
            "y has shape (5, 1); expected (n, 1), n = 4 (from X)",
        ),
        (
            lambda a: a[:2] + [np.ones((3, 4))] + a[3:],
            "W0 has shape (3, 4); expected (2, 4)",
        ),
        (
            lambda a: [np.ones((0, 2)), np.ones((0, 1))] + a[2:],
            "X has shape (0, 2); expected (n, 2); sizes are at least 1",
        ),
        (lambda a: a[:3] + [5.0], "W1 has shape (); expected (4, 1)"),
    ],
)
def test_a_wrong_shape_is_a_value_error_naming_the_argument(xor, change, message):
    for call in (xor.loss, xor.loss_grad, xor.loss_value_and_grad):
        with pytest.raises(ValueError) as error:
            call(*change(_args()))
        assert message in str(error.value)
    with pytest.raises(ValueError, match="X_dot has shape"):
        xor.loss_jvp(*_args(), [np.ones((5, 2))] + _args()[1:])


@pytest.mark.parametrize("dtype", [complex, object])
def test_an_argument_that_is_not_real_numbers_is_a_type_error(xor, dtype):
    args = _args()
    with pytest.raises(TypeError, match="loss_value_and_grad: X is"):
        xor.loss_value_and_grad(args[0].astype(dtype), *args[1:])


def test_integers_booleans_and_lists_are_taken_as_floats(xor):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = [[False], [True], [True], [False]]
    W0, W1 = _args()[2:]
    value, grads = xor.loss_value_and_grad(X, y, W0, W1)
    expected = xor.loss_value_and_grad(X.astype(float), np.array(y, float), W0, W1)
    assert value == expected[0]
    for got, want in zip(grads, expected[1]):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    W0, W1 = (w.astype(np.float32) for w in (W0, W1))  # integers take the floats' type
    assert all(g.dtype == np.float32 for g in xor.loss_grad(X, y, W0, W1))


def test_python_numbers_for_float_parameters(tmp_path):
    gate = import_source(compile_file(str(ROOT / "examples" / "gate.py")), "entry_gate")
    at_ints = gate.gate_value_and_grad(2, -1, -3, -2, -3)
    at_floats = gate.gate_value_and_grad(2.0, -1.0, -3.0, -2.0, -3.0)
    assert at_ints[0] == pytest.approx(0.7310585786300049)
    assert at_ints == at_floats
    with pytest.raises(
        ValueError, match="gate: w0 has shape \\(2,\\); expected a float"
    ):
        gate.gate(np.ones(2), 1.0, 1.0, 1.0, 1.0)


def test_no_checks_leaves_the_check_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compile", str(XOR), "-o", "bare.py", "--no-checks"]) == 0
    text = (tmp_path / "bare.py").read_text()
    assert "check_inputs" not in text and "--no-checks" in text
    bare = import_source(text, "entry_bare")
    np.testing.assert_allclose(
        bare.loss(*_args()),
        import_source(compile_file(str(XOR)), "entry_checked").loss(*_args()),
        rtol=0,
    )


MODELS = [ROOT / "tests" / "models" / f for f in ("ops.py", "arrays.py", "branches.py")]
MODELS += sorted(p for p in (ROOT / "examples").glob("*.py") if p.stem not in DRIVERS)


def _arrays(value) -> list:
    found = value if isinstance(value, tuple) else (value,)
    return [a for a in found if isinstance(a, np.ndarray)]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_every_array_returned_is_a_new_one(path):
    module = compiled(path)  # test_gradients.py's and test_float_types.py's too
    for name, target in targets(path).items():
        domains = target.model.namespace.get("DOMAINS", {}).get(name)
        sizes = {d.name: 3 for p in target.params for d in p.shape if d.is_Symbol}
        args = random_inputs(target, sizes, np.random.default_rng(2), domains)
        if hasattr(module, f"{name}_vjp"):
            cotangent = np.ones_like(getattr(module, name)(*args))
            args = args + [cotangent]
            value, grads = None, getattr(module, f"{name}_vjp")(*args)
        else:
            value, grads = getattr(module, f"{name}_value_and_grad")(*args)
        returned = _arrays(value) + _arrays(grads)
        inputs = [a for a in args if isinstance(a, np.ndarray)]
        for k, out in enumerate(returned):
            assert out.flags.writeable, f"{name}: result {k} is read-only"
            for other in inputs + returned[:k]:
                assert not np.shares_memory(out, other), f"{name}: result {k} is shared"


def test_a_constant_division_by_zero_is_refused_where_it_is_written(tmp_path):
    path = tmp_path / "zero.py"
    path.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        "def f(x: Array['n']) -> float:\n"
        "    y = x * 2\n"
        "    return np.sum(y / 0)\n"
    )
    with pytest.raises(GradgenError) as error:
        compile_file(str(path))
    assert str(error.value).startswith(f"{path}:7: error: this value is infinite")


def test_shapes_that_passed_before_let_no_other_combination_through():
    """The check remembers, per function, the dtypes and shapes of calls that passed:
    n = 4 and n = 6 both pass, and then X with n = 6 beside y with n = 4 is still an
    error, float32 after float64 still keeps its type, and integers still become floats.
    """
    xor = import_source(compile_file(str(XOR)), "entry_remembered")
    rng = np.random.default_rng(1)
    four = _args(rng)
    six = [rng.normal(size=s) for s in [(6, 2), (6, 1), (2, 4), (4, 1)]]
    for args in (four, six, four, six):
        assert xor.loss_value_and_grad(*args)[1][0].shape == args[0].shape
    with pytest.raises(
        ValueError, match="y has shape \\(4, 1\\); expected \\(n, 1\\), n = 6"
    ):
        xor.loss_value_and_grad(six[0], four[1], *four[2:])
    with pytest.raises(ValueError, match="W1 has shape \\(4, 2\\)"):
        xor.loss_value_and_grad(*four[:3], np.ones((4, 2)))
    as32 = [a.astype(np.float32) for a in four]
    assert all(g.dtype == np.float32 for g in xor.loss_grad(*as32))
    as_int = [np.rint(four[0]).astype(int)] + four[1:]
    assert all(g.dtype == np.float64 for g in xor.loss_grad(*as_int))


SLICED = """import numpy as np
from gradgen import Array


def loss(xs: Array["T", "d"], h0: Array["k"], Wx: Array["d", "k"]) -> float:
    h = h0
    for x_t in xs[:4]:
        h = np.tanh(x_t @ Wx + h)
    return np.sum(h) + np.mean(xs[-3:] @ Wx)
"""


def test_a_slice_of_a_named_size_is_checked_at_entry(tmp_path):
    """A loop over xs[:4] runs 4 times only when T >= 4 (NumPy gives min(T, 4) rows) and
    np.mean(xs[-3:]) divides by 3 only when T >= 3: the generated functions check the
    sizes they were derived for, rather than return another function's value."""
    path = tmp_path / "sliced.py"
    path.write_text(SLICED)
    module = import_source(compile_file(str(path)), "entry_sliced")
    namespace: dict = {}
    exec(SLICED, namespace)
    rng = np.random.default_rng(0)
    h0, Wx = rng.normal(size=3), rng.normal(size=(2, 3))
    for rows in (4, 9):  # one compile, any T that the slices fit
        args = [rng.normal(size=(rows, 2)), h0, Wx]
        value, grads = module.loss_value_and_grad(*args)
        assert value == pytest.approx(namespace["loss"](*args), rel=1e-12)
        for k in range(3):
            expected = central_difference(namespace["loss"], args, k)
            np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8)
    short = [rng.normal(size=(3, 2)), h0, Wx]
    for function in (module.loss, module.loss_value_and_grad):
        with pytest.raises(ValueError) as error:
            function(*short)
        assert str(error.value) == (
            f"{function.__name__}: T = 3, but the slice [:4] at {path}:7 needs T >= 4"
        )


def test_a_slice_that_is_always_empty_is_refused(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text(SLICED.replace("xs[:4]", "xs[5:2]"))
    with pytest.raises(GradgenError) as error:
        compile_file(str(path))
    assert str(error.value) == (
        f"{path}:7: error: the slice [5:2] of an axis of size T is always empty "
        "(slice with bounds inside the axis)"
    )


PICKED = """\
import numpy as np
from gradgen import Array


def loss(x: Array["n"], c: Array[2]) -> float:
    return np.sum(x[np.array([0, 3])] * c) + np.take(x, -2) ** 2
"""


def test_constant_indices_into_a_named_size_are_checked_at_entry(tmp_path):
    """x[[0, 3]] needs n >= 4 and np.take(x, -2) n >= 2: with fewer entries NumPy raises
    an IndexError, and libraries of the Array API target may clip the index instead."""
    path = tmp_path / "picked.py"
    path.write_text(PICKED)
    module = import_source(compile_file(str(path)), "entry_picked")
    namespace: dict = {}
    exec(PICKED, namespace)
    rng = np.random.default_rng(0)
    for n in (4, 7):
        args = [rng.normal(size=n), rng.normal(size=2)]
        value, grads = module.loss_value_and_grad(*args)
        assert value == pytest.approx(namespace["loss"](*args), rel=1e-12)
        for k in range(2):
            expected = central_difference(namespace["loss"], args, k)
            np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8)
    with pytest.raises(IndexError):
        namespace["loss"](np.ones(3), np.ones(2))
    with pytest.raises(ValueError) as error:
        module.loss_value_and_grad(np.ones(3), np.ones(2))
    assert str(error.value) == (
        f"loss_value_and_grad: n = 3, but the index 3 at {path}:6 needs n >= 4"
    )


PLAIN = """\
import numpy as np
from gradgen import Array


def loss(x: Array["n"], W: Array["m", "n"]) -> float:
    z = np.zeros_like(x)
    z[-4] = x[0] * x[1]
    return np.sum(z * x) + x[5] ** 2 + np.sum(W[:, 2])
"""


@pytest.mark.parametrize(
    "n, m, message",
    [
        (5, 2, "n = 5, but the index 5 at {path}:8 needs n >= 6"),
        (6, 1, None),
        (3, 1, "n = 3, but the index -4 at {path}:7 needs n >= 4"),
    ],
)
def test_a_constant_integer_index_into_a_named_size_is_checked_at_entry(
    tmp_path, n, m, message
):
    """x[5], z[-4] = ... and W[:, 2] of named axes need n >= 6: NumPy would raise an
    IndexError (and a library of the Array API target might clip the index); the entry
    check names the index and its line."""
    path = tmp_path / "plain.py"
    path.write_text(PLAIN)
    module = import_source(compile_file(str(path)), "entry_plain")
    namespace: dict = {}
    exec(PLAIN, namespace)
    args = [np.linspace(0.5, 1.5, n), np.ones((m, n))]
    if message is None:
        value, grads = module.loss_value_and_grad(*args)
        assert value == pytest.approx(namespace["loss"](*args), rel=1e-12)
        for k in range(2):
            expected = central_difference(namespace["loss"], args, k)
            np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8)
        return
    with pytest.raises(IndexError):
        namespace["loss"](*args)
    with pytest.raises(ValueError) as error:
        module.loss_value_and_grad(*args)
    assert str(error.value) == "loss_value_and_grad: " + message.format(path=path)


@pytest.mark.parametrize(
    "index",
    [
        "x[[0, 3]]",
        "x[np.array([-4])]",
        "np.take(x, 7)",
        "x[np.arange(4)]",
        "np.eye(3)[[3]]",
    ],
)
def test_a_constant_index_outside_an_axis_of_fixed_size_is_refused(tmp_path, index):
    path = tmp_path / "outside.py"
    path.write_text(
        PICKED.replace('x: Array["n"]', "x: Array[3]").replace(
            "np.sum(x[np.array([0, 3])] * c) + np.take(x, -2) ** 2",
            f"np.sum({index} * c[0]) + np.sum(x)",
        )
    )
    with pytest.raises(GradgenError) as error:
        compile_file(str(path))
    assert str(error.value).startswith(f"{path}:6: error: index ")
    assert str(error.value).endswith(
        "is out of range for an axis of size 3 (index inside the axis)"
    )


REVERSED = """\
import numpy as np
from gradgen import Array


def loss(X: Array["n", "d"], w: Array["d"]) -> float:
    return np.sum(X[2::-1] @ w) + np.sum(X[::-1][1:] ** 2) + np.sum(X[:0:-1, 0] ** 3)
"""


def test_reversed_slices_of_a_named_axis_compile_and_check_their_bounds(tmp_path):
    """X[2::-1] of an axis of size n takes 3 rows where n >= 3 (NumPy clips the start
    below that, and the gradient's shapes would not hold): checked at entry, like
    X[5:]."""
    path = tmp_path / "reversed.py"
    path.write_text(REVERSED)
    module = import_source(compile_file(str(path)), "entry_reversed")
    namespace: dict = {}
    exec(REVERSED, namespace)
    rng = np.random.default_rng(3)
    for n in (3, 6):
        args = [rng.normal(size=(n, 2)), rng.normal(size=2)]
        value, grads = module.loss_value_and_grad(*args)
        assert value == pytest.approx(namespace["loss"](*args), rel=1e-12)
        for k in range(2):
            expected = central_difference(namespace["loss"], args, k)
            np.testing.assert_allclose(grads[k], expected, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError) as error:
        module.loss_value_and_grad(np.ones((2, 2)), np.ones(2))
    assert str(error.value) == (
        f"loss_value_and_grad: n = 2, but the slice [2::-1] at {path}:6 needs n >= 3"
    )


def test_a_reversed_slice_from_a_size_expression_is_checked_at_entry(tmp_path):
    """x[n - 2::-1] starts at n - 2, which NumPy counts from the end when it is
    negative (n = 1): the generated code would take a length of n - 1 = 0 entries
    where NumPy takes 1, so n >= 2 is checked at entry."""
    path = tmp_path / "bounded.py"
    path.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def loss(x: Array["n"]) -> float:\n'
        "    return np.mean(x[x.shape[0] - 2::-1] ** 2)\n"
    )
    module = import_source(compile_file(str(path)), "entry_bounded")
    x = np.array([0.5, -1.5, 2.0])
    value, dx = module.loss_value_and_grad(x)
    assert value == pytest.approx(np.mean(x[1::-1] ** 2), rel=1e-14)
    np.testing.assert_allclose(dx, [0.5, -1.5, 0.0], rtol=1e-14)
    with pytest.raises(ValueError, match=r"n = 1, but the slice \[n - 2::-1\] at "):
        module.loss_value_and_grad(np.ones(1))
