"""Every bug the random programs found, as a named model (tests/models/random_regressions.py)
checked like a random program: value and gradient against NumPy and autograd, at two sets of
sizes from one compile."""

from __future__ import annotations

from pathlib import Path

import pytest

from programcheck import Program, check_program

MODELS = Path(__file__).parent / "models" / "random_regressions.py"
SIZES = [{"n": 2, "d": 3, "k": 4}, {"n": 3, "d": 1, "k": 2}]
# target -> Program options (parameter domains, wrt) where the defaults do not do
OPTIONS: dict = {}
NAMES = [
    line[4 : line.index("(")]
    for line in MODELS.read_text().splitlines()
    if line.startswith("def ") and not line.startswith("def _")
]


@pytest.mark.parametrize("name", NAMES)
def test_regression(name):
    check_program(Program(MODELS.read_text(), name, **OPTIONS.get(name, {})), SIZES)
