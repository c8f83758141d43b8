"""The generated modules pass the tools Python teams run: ``ruff check`` (default rules)
and ``mypy --strict``, over every committed module in generated/ (the Array API ones of
generated/array_api/ too) and over modules compiled with ``--mode all`` and their
``--emit-test`` tests. One run of each tool over all files,
in a subprocess, with mypy's cache in a temporary folder; a failure shows their output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradgen.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
# every mode: of scalar results (xor), of float parameters and array results (sigmoid),
# and of integer data (its helpers scatter_add and put_at, IntArray)
MODELS = [
    ROOT / "examples" / "xor.py",
    ROOT / "examples" / "sigmoid.py",
    ROOT / "tests" / "models" / "integers.py",
]

LIBRARIES = "torch.*,jax.*,jaxlib.*,dask.*,distributed.*,cupy.*,sparse.*,ndonnx.*"


@pytest.fixture(scope="module")
def modules(tmp_path_factory) -> list[Path]:
    """generated/, and the models above compiled with --mode all --emit-test, as
    all_<model>.py, and generated/array_api/ as array_api_<model>.py (module names must
    not repeat in one mypy run)."""
    folder = tmp_path_factory.mktemp("lint")
    for path in (GENERATED / "array_api").glob("*.py"):
        shutil.copy(path, folder / f"array_api_{path.name}")
    for path in MODELS:
        out = str(folder / f"all_{path.name}")
        argv = ["compile", str(path), "-o", out, "--mode", "all"]
        assert main(argv + ["--emit-test", "--no-cache"]) == 0
    return sorted(GENERATED.glob("*.py")) + [folder]


def _tool(name: str) -> list[str]:
    """The tool, run by this Python (its install in this environment)."""
    if shutil.which(name) is None and not _module_available(name):
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def _module_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_ruff_accepts_the_generated_modules(modules, tmp_path):
    run = _run(
        _tool("ruff") + ["check", "--no-cache", "--isolated", *map(str, modules)],
        tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _mypy_cache(request, tmp_path) -> Path:
    """pytest's cache folder (.pytest_cache), where mypy's analysis of NumPy and pytest
    is kept from run to run (a cold run takes seconds); else a temporary folder."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("gradgen-mypy") if cache is not None else tmp_path / "mypy"


def test_mypy_strict_accepts_the_generated_modules(modules, tmp_path, request):
    config = tmp_path / "mypy.ini"
    # mypy's defaults, whatever the project configures, except that it does not analyse
    # the array libraries array_api_compat can hand arrays to (an Array API module names
    # none of them; their sources are four fifths of the run's time)
    config.write_text(f"[mypy]\n[mypy-{LIBRARIES}]\nfollow_imports = skip\n")
    command = _tool("mypy") + ["--strict", "--config-file", str(config)]
    command += ["--cache-dir", str(_mypy_cache(request, tmp_path)), *map(str, modules)]
    run = _run(command, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
