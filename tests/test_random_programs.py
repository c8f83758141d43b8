"""Randomized verification: random well-typed model programs (``programs.py``), each compiled
once by gradgen and compared with NumPy and HIPS autograd running the same model file, at two
sets of dimension sizes (``programcheck.py``).

How many programs comes from the hypothesis profile (``conftest.py``): under plain ``pytest``
the same 500 every run; ``pytest tests/test_random_programs.py --hypothesis-profile=long``
checks 10,000 new ones. A failure prints the program as a model file; every bug found this
way is kept as a named model in ``models/random_regressions.py``.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import event, given, note, reject

from programcheck import ALL_MODES, Unsettled, check_program
from programs import programs, size_sets


@given(program=programs(), sizes=size_sets(), seed=st.integers(0, 2**32 - 1))
def test_random_program(program, sizes, seed):
    note(repr(program))  # a failure shows the program as the model file it is
    try:
        check_program(program, sizes, ALL_MODES, seed)
    except Unsettled as unsettled:
        # no point to compare at: counted in --hypothesis-show-statistics
        event(f"not checked: {unsettled.reason}")
        reject()
