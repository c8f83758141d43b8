"""Randomized verification: random well-typed model programs (``programs.py``), each
compiled once by gradgen and compared with NumPy and HIPS autograd running the same
model file, at two sets of dimension sizes (``programcheck.py``).

How many programs comes from the hypothesis profile (``conftest.py``): under plain
``pytest`` the same 40 every run; ``pytest tests/test_random_programs.py
--hypothesis-profile=long`` checks 10,000 new ones. They are split over ``SHARDS``
tests, so that ``pytest -n auto`` checks them on every core. A failure prints the
program as a model file; every bug found this way is kept as a named model in
``models/random_regressions.py``.
"""

from __future__ import annotations

import hypothesis
import hypothesis.strategies as st
from hypothesis import event, given, note, reject, settings

from programcheck import ALL_MODES, Unsettled, check_program
from programs import programs, size_sets

SHARDS = 10


def _shard(index: int):
    """The test of shard ``index``: its part of the profile's programs. Derandomized
    (the default profile) each shard has its own fixed seed, so the shards check
    different programs, and every run the same ones; otherwise each draws new ones
    (``conftest.py`` gives each its own seed under ``--hypothesis-seed``)."""

    # the default profile draws the newer operations (program_ops) rarely, to keep to its
    # time budget; the long profile draws every kind at its weight
    every_kind = not settings.default.derandomize

    @given(
        program=programs(every_kind),
        sizes=size_sets(),
        seed=st.integers(0, 2**32 - 1),
    )
    def test(program, sizes, seed):
        note(repr(program))  # a failure shows the program as the model file it is
        try:
            # the long profile compiles as users do, through black
            check_program(program, sizes, ALL_MODES, seed, formatted=every_kind)
        except Unsettled as unsettled:
            # no point to compare at: counted in --hypothesis-show-statistics
            event(f"not checked: {unsettled.reason}")
            reject()

    total = settings.default.max_examples
    count = max(1, total // SHARDS + (index < total % SHARDS))
    test = settings(max_examples=count)(test)
    test.shard = index
    return hypothesis.seed(index)(test) if settings.default.derandomize else test


for _index in range(SHARDS):  # each shard is a test of its own, for pytest -n
    globals()[f"test_random_programs_{_index}"] = _shard(_index)
