"""The operation registry (gradgen/ops): every operation holds all of its parts, the check
that says so can fail, and no formula shown to a person names an IR class."""

from __future__ import annotations

import re

import pytest

from gradcheck import DRIVERS, ROOT
from gradgen import ops
from gradgen.cli.show import derivation, explanation, programs
from gradgen.explain.paths import to_latex, to_text
from gradgen.explain.latex import to_latex as derivation_latex

IR_NAMES = re.compile(
    r"\b(" + "|".join(c.__name__ for c in ops.STRUCTURAL + ops.ELEMENTWISE) + r")\("
)


def test_every_operation_has_its_rules_and_printers():
    assert ops.missing_parts() == []


@pytest.mark.parametrize(
    "cls, part",
    [(ops.MatMul, "jvp"), (ops.Transpose, "_gradgen_latex"), (ops.CumSum, "vjp")],
)
def test_the_check_names_a_missing_part(monkeypatch, cls, part):
    monkeypatch.setattr(cls, part, None)
    assert f"{cls.__name__}.{part}" in ops.missing_parts()


def test_the_check_names_an_elementwise_function_without_a_derivative(monkeypatch):
    monkeypatch.delattr(ops.Softplus, "fdiff")
    assert "Softplus.fdiff" in ops.missing_parts()


MODELS = sorted(
    p for p in (ROOT / "examples").glob("*.py") if p.stem not in DRIVERS
) + [
    ROOT / "tests" / "models" / f
    for f in ("ops.py", "arrays.py", "numerics.py", "integers.py")
]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_no_derivation_names_an_ir_class(path):
    """Docstrings (the generated module's), LaTeX and explain output."""
    shown = []
    for program in programs(str(path)):
        d = derivation(program)
        shown += [e.text for e in d.equations()] + [derivation_latex([d])]
        if path.parent.name == "examples":  # explain is the slow one: the examples
            for name in program.wrt:
                x = explanation(program, name)
                shown += [to_text(x), to_latex(x)]
    leaks = sorted({m for text in shown for m in IR_NAMES.findall(text)})
    assert not leaks, f"{path.name}: {leaks}"
