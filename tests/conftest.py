"""pytest's set-up for gradgen's tests: the helpers in tests/support/ (checkers, the
random program generator, compiled models) are imported by their module names, as the
test files beside this one are; and the hypothesis profiles of the random programs
(tests/test_random_programs.py).
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck, settings

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE / "support"), str(_HERE)]

# The compile cache of the tests is their own, never the user's (subprocesses inherit it).
os.environ["GRADGEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="gradgen-test-cache-")
atexit.register(shutil.rmtree, os.environ["GRADGEN_CACHE_DIR"], ignore_errors=True)

# Modules support/compiled.py compiled in this run, shared by the pytest -n workers: made
# by the first process (pytest itself, before it starts the workers, which inherit it) and
# removed by it when it ends.
if "GRADGEN_TEST_SHARED" not in os.environ:
    os.environ["GRADGEN_TEST_SHARED"] = tempfile.mkdtemp(prefix="gradgen-test-shared-")
    atexit.register(
        shutil.rmtree, os.environ["GRADGEN_TEST_SHARED"], ignore_errors=True
    )

# Hypothesis profiles for the random programs:
# "gradgen-ci", the default: 40 programs, derandomized, so every run checks the same
# ones; "long": 10,000 programs drawn afresh each run (--hypothesis-profile=long), or as
# many as GRADGEN_LONG_PROGRAMS says. Either is split over the shards of
# test_random_programs.py, which pytest -n runs side by side.
# Compile times vary, so no deadline; a program is many draws, so no size health checks.
_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "gradgen-ci", max_examples=40, derandomize=True, database=None, **_COMMON
)
_LONG = int(os.environ.get("GRADGEN_LONG_PROGRAMS", "10000"))
settings.register_profile("long", max_examples=_LONG, **_COMMON)
settings.load_profile("gradgen-ci")


def pytest_collection_modifyitems(config, items):
    """--hypothesis-seed=S gives every test the seed S, so that the shards of the random
    programs would all draw the same ones: each draws from "S-<shard>" instead (in the
    default profile each has a fixed seed already)."""
    forced = config.getoption("--hypothesis-seed", None)
    if forced is None or settings.default.derandomize:
        return
    for item in items:
        shard = getattr(getattr(item, "obj", None), "shard", None)
        if shard is not None:
            hypothesis.seed(f"{forced}-{shard}")(item.obj)


@pytest.fixture(scope="session")
def report_pages():
    """The report of every example (support/report_pages.py), built once per run by the
    first process that needs them (``compiled.once_per_run``); the others read them."""
    from compiled import once_per_run
    from report_pages import build

    def made() -> str:
        shared = os.environ["GRADGEN_TEST_SHARED"]
        folder = Path(tempfile.mkdtemp(prefix="reports-", dir=shared))
        return json.dumps({name: str(page) for name, page in build(folder).items()})

    return {k: Path(v) for k, v in json.loads(once_per_run("reports", made)).items()}
