"""generated/ is exactly what the compiler produces, byte for byte, whatever the hash seed;
and every generated module stands alone: it imports numpy and nothing else."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest

from gradcheck import ROOT

GENERATED = ROOT / "generated"
REGENERATE = [sys.executable, "-m", "gradgen", "compile", "examples/"]


def _regenerate(out, seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    subprocess.run(
        REGENERATE + ["-o", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("regenerated")
    _regenerate(out, "0")
    return out


def test_generated_folder_is_reproduced_byte_for_byte(regenerated):
    committed = sorted(p.name for p in GENERATED.glob("*.py"))
    fresh = sorted(p.name for p in regenerated.glob("*.py"))
    assert (
        fresh == committed
    ), "generated/ and the example models differ in their file list"
    for name in committed:
        expected = (GENERATED / name).read_bytes()
        assert (
            regenerated / name
        ).read_bytes() == expected, (
            f"generated/{name} is stale: regenerate with `gradgen compile examples/`"
        )


def test_output_does_not_depend_on_the_hash_seed(regenerated, tmp_path):
    """Compiled under another hash seed than ``regenerated``'s (0: no randomisation),
    every example gives the same bytes (SymPy orders terms by hashes in places)."""
    _regenerate(tmp_path, "12345")
    for path in regenerated.glob("*.py"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("path", sorted(GENERATED.glob("*.py")), ids=lambda p: p.name)
def test_generated_module_imports_only_numpy_and_reads_like_backprop(path):
    source = path.read_text()
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == [
        "from typing import Any",  # the standard library's, for the type hints
        "import numpy as np",
    ]
    docstring = ast.get_docstring(tree)
    assert f"gradgen compile examples/{path.name}" in docstring
    assert not re.search(
        r"^\s+x\d+ = ", source, re.M
    ), "CSE temporaries leaked as x0, x1"
    assert "# Grad of:" in source
    for line in source.splitlines():
        assert len(line) <= 88, f"line longer than black's 88 columns: {line}"


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_black_afterwards_gives_the_committed_module(name, monkeypatch):
    """The numerical tests run modules compiled without black's layout
    (``support/compiled.py``): formatted afterwards, such a module is the one gradgen
    compile writes, so they run the code users get."""
    from gradgen.codegen.formatting import format_source, layout_only_skipped
    from gradgen.pipeline import compile_file

    monkeypatch.chdir(ROOT)
    with layout_only_skipped():
        laid_out = compile_file(f"examples/{name}.py")
    committed = (GENERATED / f"{name}.py").read_text()
    assert laid_out != committed  # the layout was skipped
    assert _code(laid_out) == _code(committed)
    assert format_source(laid_out) == committed


def _code(source: str) -> str:
    """The syntax tree, docstrings with their whitespace collapsed (black indents them)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = " ".join(node.value.split())
    return ast.dump(tree)


def test_readme_shows_the_committed_generated_code():
    readme = (ROOT / "README.md").read_text()
    marker = "<!-- generated/xor.py: loss_value_and_grad -->\n```python\n"
    excerpt = readme.split(marker, 1)[1].split("```", 1)[0]
    assert excerpt.strip() and excerpt in (GENERATED / "xor.py").read_text()


# generated/array_api/ modules that this file checks (tests/test_array_api.py checks the
# others): examples/train_dask.py runs this one on Dask arrays
ARRAY_API_GOLDEN = ["logistic"]


@pytest.mark.parametrize("name", ARRAY_API_GOLDEN)
def test_array_api_module_is_reproduced_byte_for_byte(name, monkeypatch):
    from gradgen.pipeline import compile_file

    monkeypatch.chdir(ROOT)
    command = (
        f"gradgen compile examples/{name}.py -o generated/array_api/{name}.py "
        "--target array-api"
    )
    fresh = compile_file(f"examples/{name}.py", command=command, target="array-api")
    committed = (GENERATED / "array_api" / f"{name}.py").read_text()
    assert fresh == committed, f"generated/array_api/{name}.py is stale: {command}"
