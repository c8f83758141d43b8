"""The program checker (``programcheck.py``) passes a correct compile and catches a wrong
value, a wrong gradient and a wrong vector-Jacobian product."""

from __future__ import annotations

import pytest

from gradgen import ir, rules
from programcheck import Program, check_program

SIZES = [{"n": 2, "d": 3, "k": 4}, {"n": 3, "d": 1, "k": 2}]
MODEL = """import numpy as np

from gradgen import Array


def f(x: Array["n", "d"], W: Array["n", "k"], s: float) -> float:
    return np.sum(np.tanh(x.T @ W) * s)


def g(x: Array["n", "d"], W: Array["n", "k"]) -> Array["d", "k"]:
    return np.log(x.T @ W + 10.0)
"""


def _doubled_transpose(g, ans, a, *, shape):
    return (2 * ir.Transpose(g),)


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_correct_compile_passes(name):
    check_program(Program(MODEL, name, wrt=["x", "W"] if name == "f" else None), SIZES)


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_wrong_derivative_rule_is_caught(monkeypatch, name):
    monkeypatch.setitem(rules.VJP, ir.Transpose, _doubled_transpose)
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
