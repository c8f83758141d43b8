"""``--target array-api``: every example and every per-op model that compiles for the
Array API gives, on NumPy arrays and on ``array_api_strict`` arrays (float64), the values
and gradients of the NumPy target to 1e-12; the ops without an Array API form yet are
refused with one line at the model's file:line (``REFUSED`` lists them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrayapi import compare, refusal
from gradcheck import targets

ROOT = Path(__file__).resolve().parents[1]
# the model files of examples/ (those gradgen compile examples/ writes to generated/)
EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").glob("*.py")
    if (ROOT / "generated" / p.name).exists()
)
SIZES = {"n": 4, "d": 3, "k": 2, "m": 3, "h": 5, "c": 3, "T": 3, "t": 3}
EXAMPLE_CASES = [(p, name) for p in EXAMPLES for name in targets(p)]
MODELS = [ROOT / "tests" / "models" / f for f in ("ops.py", "arrays.py", "branches.py")]
MODEL_CASES = [(p, name) for p in MODELS for name in targets(p)]
# What the Array API target refuses, by target of tests/models: target -> the refusal
REFUSED: dict[str, str] = {}


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=lambda c: f"{c[0].stem}:{c[1]}")
def test_example(case):
    path, name = case
    compare(path, name, _sizes(path, name))


def _sizes(path, name) -> dict:
    """A size for every dimension name of the target (3 unless SIZES says)."""
    target = targets(path)[name]
    names = {d.name for p in target.params for d in p.shape if not d.is_Integer}
    return {n: SIZES.get(n, 3) for n in names}


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: f"{c[0].stem}:{c[1]}")
def test_op_model(case):
    path, name = case
    if name in REFUSED:
        message = refusal(path, name)
        assert re.fullmatch(
            rf"{re.escape(str(path))}:\d+: error: {re.escape(REFUSED[name])} has no "
            r"Array API form in gradgen yet \(.*compile without --target array-api\)",
            message,
        ), message
        return
    skip = [n for n in REFUSED if n in targets(path)]
    compare(path, name, _sizes(path, name), seed=len(name), skip=skip)
