"""A quick start: ``gradgen --help``, ``gradgen COMMAND --help``, ``gradgen ops`` and bad
options load none of SymPy, black, Jinja or NumPy (checked in a fresh process, by what
``sys.modules`` holds at exit, not by a timing)."""

import subprocess
import sys

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sympy", "black", "jinja2", "numpy")

PROBE = f"""
import atexit, sys
atexit.register(lambda: print("LOADED", *[m for m in {HEAVY!r} if m in sys.modules],
                              file=sys.stderr))
from gradgen.cli.commands import main
sys.exit(main(sys.argv[1:]))
"""

XOR = str(ROOT / "examples" / "xor.py")


def _loaded(*argv: str, status: int) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == status, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("LOADED"), run.stderr
    return last.split()[1:]


@pytest.mark.parametrize(
    "argv, status",
    [
        (["--help"], 0),
        (["compile", "--help"], 0),
        (["check", "--help"], 0),
        (["report", "--help"], 0),
        (["ops"], 0),
        (["ops", "--markdown"], 0),
        (["compile", XOR, "--bogus"], 2),
        (["compile", XOR, "--wrt", ","], 2),
        (["compile", XOR, "--mode", "nope"], 2),
        (["compile", "no_such_model.py"], 2),
        (["check", XOR, "--dims", "n=x"], 2),
        (["check", XOR, "--domain", "W0=sometimes"], 2),
        (["latex", XOR, "-o", "derivation.doc"], 2),
    ],
)
def test_help_ops_and_bad_options_load_nothing_heavy(argv, status):
    assert _loaded(*argv, status=status) == []


def test_operations_list_is_what_the_dispatch_tables_give():
    from gradgen import operations
    from gradgen.cli.catalog import operations_source, supported_operations

    assert operations.ROWS == supported_operations()
    assert (
        ROOT / "gradgen" / "operations.py"
    ).read_text() == operations_source(), (
        "regenerate: python -m gradgen.cli.catalog > gradgen/operations.py"
    )
