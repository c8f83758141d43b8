"""The compile cache: a hit gives the same bytes as a fresh compile without running the
model; a changed model, imported module or option is a miss; outputs stay protected on a
hit; concurrent compiles of one model are safe; ``gradgen cache info`` and ``clear``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from pathlib import Path

import pytest

from gradgen import cache
from gradgen.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent

MODEL = """\
import numpy as np
from gradgen import Array
from helpers import squash

open(__file__ + ".ran", "a").write("x")  # counts the runs of this file


def loss(x: Array["n"], w: float) -> float:
    return np.sum(squash(w * x))
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A model importing a helper module from its folder, and a cache of its own."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "helpers.py").write_text(
        "import numpy as np\n\n\ndef squash(z):\n    return np.tanh(z)\n"
    )
    yield tmp_path
    sys.modules.pop("helpers", None)


def _compile(*argv: str) -> int:
    sys.modules.pop("helpers", None)  # as in a new process
    return main(["compile", "model.py", *argv])


def _runs(folder) -> int:
    marker = folder / "model.py.ran"
    return len(marker.read_text()) if marker.exists() else 0


def test_a_hit_gives_the_same_bytes_without_running_the_model(folder, capsys):
    hits = cache.stats["hits"]
    assert _compile("-o", "fresh.py", "--no-cache") == 0
    assert cache.info()["entries"] == 0  # --no-cache writes nothing
    assert _compile("-o", "out.py") == 0 and _runs(folder) == 2
    first = (folder / "out.py").read_bytes()
    (folder / "out.py").unlink()
    assert _compile("-o", "out.py", "-v") == 0
    assert "model.py: cache hit" in capsys.readouterr().err
    assert cache.stats["hits"] == hits + 1 and _runs(folder) == 2  # not run again
    assert (folder / "out.py").read_bytes() == first
    fresh = (folder / "fresh.py").read_text().replace("fresh.py", "out.py")
    assert first.decode() == fresh


def test_a_changed_model_module_or_option_is_a_miss(folder):
    assert _compile() == 0
    assert "np.tanh" in (folder / "generated" / "model.py").read_text()
    (folder / "helpers.py").write_text(
        "import numpy as np\n\n\ndef squash(z):\n    return np.sin(z)\n"
    )
    assert _compile() == 0 and _runs(folder) == 2
    assert "np.sin" in (folder / "generated" / "model.py").read_text()
    assert _compile("--wrt", "w") == 0 and _runs(folder) == 3
    assert "loss_grad(x, w) -> dw" in (folder / "generated" / "model.py").read_text()
    assert _compile("--no-checks") == 0 and _runs(folder) == 4
    (folder / "model.py").write_text(MODEL.replace("w * x", "w * x * x"))
    assert _compile() == 0 and _runs(folder) == 5
    assert _compile() == 0 and _runs(folder) == 5
    assert cache.info()["entries"] == 4


def test_a_hit_still_protects_the_models_inputs(folder, capsys):
    """The modules the model imported come back with the entry: an output that is one
    of them (here through a hard link) is refused on a hit as on a fresh compile."""
    assert _compile() == 0
    out = folder / "generated" / "model.py"
    out.unlink()
    os.link(folder / "helpers.py", out)
    before = (folder / "helpers.py").read_bytes()
    assert _compile() == 2 and _runs(folder) == 1  # a hit: the model does not run
    err = capsys.readouterr().err
    assert "would overwrite" in err and "helpers.py, an input of this run" in err
    assert (folder / "helpers.py").read_bytes() == before == out.read_bytes()
    assert _compile("-o", "model.py") == 2  # refused before any lookup
    assert (folder / "model.py").read_text() == MODEL


def test_an_unreadable_or_broken_entry_is_a_miss(folder):
    assert _compile() == 0
    for entry in (folder / "cache").glob("??/*.json"):
        entry.write_text("{not json")
    assert _compile() == 0 and _runs(folder) == 2
    assert "def loss_value_and_grad" in (folder / "generated" / "model.py").read_text()


def test_the_key_covers_the_environment(monkeypatch):
    parts = {"model": "0" * 64}
    before = cache.key(parts)
    changed = dict(cache.environment(), packages={"sympy": "0.0"})
    monkeypatch.setattr(cache, "_environment", changed)
    assert cache.key(parts) != before


def test_cache_info_and_clear(folder, capsys):
    assert _compile() == 0
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert f"folder: {folder / 'cache'}" in out and "entries: 1" in out
    assert main(["cache", "clear"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert cache.info()["entries"] == 0
    assert _compile() == 0 and _runs(folder) == 2


def test_the_user_cache_folder_is_the_platforms(monkeypatch):
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    if sys.platform.startswith("linux"):
        assert str(cache.folder()) == "/somewhere/cache/gradgen"


def test_concurrent_compiles_of_one_model_are_safe(folder):
    """Two processes compile the model at once into an empty cache: both succeed with
    the same bytes, and the entry they leave is whole (a third compile hits it)."""
    env = dict(os.environ, GRADGEN_CACHE_DIR=str(folder / "cache"))
    command = [sys.executable, "-m", "gradgen", "compile", "model.py", "-o"]
    runs = [
        subprocess.Popen(
            command + [f"out{k}.py"], cwd=folder, env=env, stderr=subprocess.PIPE
        )
        for k in range(2)
    ]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
    texts = [(folder / f"out{k}.py").read_text() for k in range(2)]
    assert texts[0] == texts[1].replace("out1.py", "out0.py")
    assert cache.info()["entries"] == 2  # -o is part of the command in the docstring
    shutil.copy(folder / "out0.py", folder / "kept.py")
    assert _compile("-o", "out0.py") == 0 and _runs(folder) == 2
    assert (folder / "out0.py").read_text() == (folder / "kept.py").read_text()
    assert not list((folder / "cache").glob("??/*.tmp"))


def test_the_committed_modules_come_back_from_the_cache(monkeypatch, tmp_path):
    """The golden xor module, compiled twice from the project's root: the second
    compile is a hit with the committed bytes."""
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    monkeypatch.chdir(ROOT)
    out = tmp_path / "xor.py"
    for _ in range(2):
        assert main(["compile", "examples/xor.py", "-o", str(out)]) == 0
        text = out.read_text().replace(f" -o {out}", "")
        assert text == (ROOT / "generated" / "xor.py").read_text()
    assert cache.stats["hits"] >= 1
