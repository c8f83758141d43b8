"""Every bug the random programs found, as a named model (tests/models/random_regressions.py)
checked like a random program: value, gradient, JVP and HVP against NumPy and autograd
(central differences for a model that writes into arrays), at two sets of sizes from one
compile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcheck import central_difference, import_source
from gradgen.pipeline import compile_file
from programcheck import ALL_MODES, Program, check_program, model_function

MODELS = Path(__file__).parent / "models" / "random_regressions.py"
SIZES = [{"n": 2, "d": 3, "k": 4}, {"n": 3, "d": 1, "k": 2}]
# target -> Program options (parameter domains, wrt) where the defaults do not do
OPTIONS: dict = {
    "abs_of_log_sqrt_power": {"domains": {"x": (0.5, 2.0)}},
    "matmul_with_a_reciprocal": {"domains": {"u": (0.5, 2.0)}},
    "second_derivative_through_abs": {"domains": {"x": (0.5, 2.0)}},
    "write_of_a_select": {"autograd": False},  # autograd has no writes
    "write_reversed_columns": {"autograd": False},
    "write_then_early_return": {"autograd": False},
    "write_of_a_select_on_an_or_folded_to_a_scalar": {"autograd": False},
    # s below 0.3: the branch not taken computes log(s - 0.3) = nan
    "tangent_of_an_undefined_branch": {
        "domains": {"s": (-1.0, 0.25)},
        "branch_nans": True,
    },
    "if_after_an_if": {
        "domains": {"s": (-1.0, 0.25), "c": (0.0, 1.0)},
        "branch_nans": True,
    },
    "select_compared_in_a_condition": {"branch_nans": True},
    "scalar_branch_broadcast_beside_an_array": {"branch_nans": True},
    "slice_times_itself": {"min_sizes": {"n": 2}},
    "not_on_floats": {"domains": {"a": (0.85, 1.35)}},
    "comparison_of_an_undefined_select": {"branch_nans": True},
    "write_of_an_integer_broadcast": {
        "domains": {k: (0.5, 2.0) for k in ("u1", "b3", "W4", "alpha5", "A9")},
        "zero_dim": ("s18",),
        "autograd": False,
        "branch_nans": True,
    },
    # b3 in (0.5, 1) against 1/2 and trace(W6) >= 1: the two branches differ
    "select_of_a_select_condition": {
        "domains": {"W6": (0.5, 2.0), "b3": (0.5, 1.0), "s5": (-1.0, 0.4)}
    },
    "comparison_of_a_log_of_a_select": {"branch_nans": True},
    "select_summed_inside_a_select": {"domains": {"u6": (0.5, 2.0), "A8": (0.5, 2.0)}},
    "division_at_its_pole_in_a_branch_not_taken": {
        "domains": {"s": (-1.0, 1.0)},
        "autograd": False,
        "branch_nans": True,
    },
    "fold_of_a_tanh_of_a_select": {
        "domains": {"b6": (0.5, 2.0), "W11": (0.5, 2.0)},
        "branch_nans": True,
    },
    # s below 1.15: the branch not taken computes log(s - 1.15) = nan
    "maximum_of_a_log_in_a_condition": {"branch_nans": True},
    # log(-u - 0.91) is nan for every z: the condition is false, the branch not taken
    "arccos_of_a_log_of_a_negated_select": {"branch_nans": True},
    "row_by_argmin_written_into": {"autograd": False},  # autograd has no writes
    "select_of_a_value_not_real": {
        "domains": {"W8": (0.5, 2.0), "b10": (0.5, 2.0), "X13": (0.5, 2.0)},
        "branch_nans": True,
    },
}
NAMES = [
    line[4 : line.index("(")]
    for line in MODELS.read_text().splitlines()
    if line.startswith("def ") and not line.startswith("def _")
]


@pytest.mark.parametrize("name", NAMES)
def test_regression(name):
    program = Program(MODELS.read_text(), name, **OPTIONS.get(name, {}))
    check_program(program, SIZES, ALL_MODES, formatted=False)


def test_abs_gradient_is_finite_where_its_argument_is_zero():
    """sign(a) da, not a form that divides by a: at x = 1 log(x), sqrt(x) - 1 and x**p - 1
    are all 0, and the gradient there is finite (each |.| contributes 0, like np.sign).
    """
    source = compile_file(str(MODELS), ["abs_of_log_sqrt_power"])
    module = import_source(source, "abs_of_log_sqrt_power")
    x = np.array([1.0, 2.0])
    dx, dp = module.abs_of_log_sqrt_power_grad(x, 1.5)
    assert np.all(np.isfinite(dx)) and np.isfinite(dp)
    assert dx[0] == 0.0


@pytest.mark.parametrize("name", ["return_in_nested_if", "return_in_nested_traced_if"])
def test_every_path_through_nested_returns(name):
    """The value on each path (both conditions true, one true, the else branch)."""
    module = import_source(compile_file(str(MODELS), [name]), name)
    model = model_function(MODELS, name)
    y = np.arange(4.0) + 0.5 if name == "return_in_nested_if" else None
    for x, yy in [(1.0, 2.0), (1.0, -2.0), (-1.0, -2.0), (-1.0, 2.0), (0.1, 0.3)]:
        args = (x, y if y is not None else yy)
        assert getattr(module, name)(*args) == pytest.approx(model(*args), rel=1e-12)


def test_gradients_through_a_select_of_integers_are_floats():
    source = compile_file(str(MODELS), ["select_between_parameters"])
    module = import_source(source, "select_between_parameters")
    for x in (0.5, 0.1):
        dx, dy = module.select_between_parameters_grad(x, 1.0)
        assert np.asarray(dx).dtype == np.float64 and np.asarray(dy).dtype == np.float64


NEGATIVE_LOG_POWER = """\
import numpy as np
from gradgen import Array


def layer3(p):
    if np.squeeze(p) > -0.4:
        return np.log(np.squeeze(p) - -0.4 + 0.1) + p * p
    return np.log(-0.4 - np.squeeze(p) + 0.1) * np.where(p >= 0.0, 1.0 / (p - 0.0 + 0.5), p)


def loss(b7: Array[1], W17: Array[1, 1]):
    dx1 = (1.25 + 0.67 * np.tanh(layer3(W17))) ** (np.where(b7 >= 0.0, np.log(b7 - 0.0 + 0.1), b7) / 10.0)
    return np.sum(dx1)
"""


def test_a_power_whose_exponent_derivative_sympy_cannot_select_compiles(tmp_path):
    """d/dy x**y = x**y log(x), log(x) 0 where x is 0: SymPy's select of it recursed
    without end for this base (the long profile, seed 61, as the generator wrote it);
    the module computes the same value and gradient as central differences."""
    path = tmp_path / "negative_log_power.py"
    path.write_text(NEGATIVE_LOG_POWER)
    module = import_source(compile_file(str(path)), "negative_log_power")
    namespace: dict = {}
    exec(NEGATIVE_LOG_POWER, namespace)
    args = [np.array([0.7]), np.array([[0.3]])]
    loss = namespace["loss"]
    with np.errstate(invalid="ignore"):  # the branch not taken: log of a negative value
        value, grads = module.loss_value_and_grad(*args)
        assert value == pytest.approx(loss(*args), rel=1e-12)
        for k, g in enumerate(grads):
            np.testing.assert_allclose(g, central_difference(loss, args, k), rtol=1e-6)


def test_sympy_functions_of_a_negated_sum_end_under_distribute_false():
    """gradgen.sympy_fixes: without it SymPy's odd and even functions of a sum it can
    pull a sign out of (Abs(-x - 0.91), tanh(-x - 1), cos(-x - 1)) recursed without end
    when products do not distribute (as gradgen builds them: long profile, seeds 62, 64
    and 76); and the products around them still do not distribute."""
    import sympy as sp
    from sympy.core.parameters import distribute

    import gradgen.ir  # noqa: F401 - applies the fix

    x = sp.Symbol("x", real=True)
    with distribute(False):
        assert sp.Abs(-x - sp.Float(0.91)) == sp.Abs(x + sp.Float(0.91))
        assert sp.Abs(-2 * (x - 1)) == 2 * sp.Abs(x - 1)
        assert sp.tanh(-x - 1) == -sp.tanh(x + 1)
        assert sp.cos(-x - 1) == sp.cos(x + 1)
        assert sp.erf(-x - 1) == -sp.erf(x + 1)
        assert str(2 * (x - 1)) == "2*(x - 1)"
        assert str(-(x - 1)) == "-(x - 1)"


def test_a_row_picked_by_a_computed_index_is_copied_before_a_write(tmp_path):
    """p[np.argmin(q)] is a view of p's row: written into, the generated code must not
    change the caller's p."""
    path = tmp_path / "row.py"
    path.write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        'def loss(p: Array[3, "k"], q: Array[3]) -> float:\n'
        "    row = p[np.argmin(q)] * 1.0\n"
        "    row[0] = 1.0\n"
        "    return np.sum(np.sin(row))\n"
    )
    module = import_source(compile_file(str(path)), "regression_row")
    p, q = np.arange(12.0).reshape(3, 4) / 10, np.array([0.5, -1.0, 2.0])
    before = p.copy()
    value, (dp, dq) = module.loss_value_and_grad(p, q)
    np.testing.assert_array_equal(p, before)
    assert value == pytest.approx(
        np.sin(1.0) + np.sum(np.sin(before[1, 1:])), rel=1e-14
    )
    expected = np.zeros_like(p)
    expected[1, 1:] = np.cos(before[1, 1:])
    np.testing.assert_allclose(dp, expected, rtol=1e-14)
