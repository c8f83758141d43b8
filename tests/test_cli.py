"""The command line: outputs, options, exit codes, atomic writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gradcheck import ROOT, import_path, import_source
from gradgen.cli.commands import main

XOR = ROOT / "examples" / "xor.py"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copy(XOR, tmp_path / "xor.py")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _xor_args():
    rng = np.random.default_rng(0)
    return [rng.normal(size=s) for s in [(4, 2), (4, 1), (2, 4), (4, 1)]]


def test_default_output_is_generated_stem_under_the_current_folder(workdir, capsys):
    assert main(["compile", "xor.py"]) == 0
    assert (
        capsys.readouterr().out.strip()
        == f"wrote {os.path.join('generated', 'xor.py')}"
    )
    module = import_path(workdir / "generated" / "xor.py", "cli_default")
    assert len(module.loss_grad(*_xor_args())) == 4
    assert "gradgen compile xor.py\n" in (workdir / "generated" / "xor.py").read_text()


def test_output_option_and_wrt(workdir):
    assert main(["compile", "xor.py", "-o", "out/xor_grad.py", "--wrt", "W1,W0"]) == 0
    text = (workdir / "out" / "xor_grad.py").read_text()
    assert "gradgen compile xor.py -o out/xor_grad.py --wrt W1,W0" in text
    module = import_path(workdir / "out" / "xor_grad.py", "cli_wrt")
    dW0, dW1 = module.loss_grad(*_xor_args())  # parameter order, whatever --wrt's order
    assert dW0.shape == (2, 4) and dW1.shape == (4, 1)
    assert (
        "dX" not in text and "dy =" not in text
    )  # no work for gradients nobody asked for


def test_single_wrt_returns_one_gradient(workdir):
    assert main(["compile", "xor.py", "-o", "one.py", "--wrt", "W1"]) == 0
    module = import_path(workdir / "one.py", "cli_one")
    value, dW1 = module.loss_value_and_grad(*_xor_args())
    assert np.shape(value) == () and dW1.shape == (4, 1)
    assert module.loss_grad(*_xor_args()).shape == (4, 1)


def test_function_option_selects_targets(workdir, capsys):
    (workdir / "two.py").write_text(
        "import numpy as np\nfrom gradgen import Array\n\n\n"
        "def f(x: float) -> float:\n    return x**2\n\n\n"
        "def g(x: float) -> float:\n    return np.sin(x)\n"
    )
    assert main(["compile", "two.py", "--function", "g", "-o", "g.py"]) == 0
    module = import_path(workdir / "g.py", "cli_g")
    assert hasattr(module, "g_grad") and not hasattr(module, "f_grad")
    assert module.g_grad(0.3) == pytest.approx(np.cos(0.3))
    assert main(["compile", "two.py", "--function", "h"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("two.py: error: no compile target named 'h'") and "f, g" in err
    )


def test_unknown_wrt_is_located_at_the_function(workdir, capsys):
    assert main(["compile", "xor.py", "--wrt", "W2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "xor.py:15: error: --wrt names 'W2', which is not a parameter of "
        "loss(X, y, W0, W1)"
    )


def test_failed_compile_leaves_the_existing_output_untouched(workdir, capsys):
    out = workdir / "generated" / "xor.py"
    out.parent.mkdir()
    out.write_text("previous contents\n")
    (workdir / "xor.py").write_text(
        (workdir / "xor.py").read_text().replace("np.mean(", "np.median(")
    )
    assert main(["compile", "xor.py"]) == 2
    assert out.read_text() == "previous contents\n"
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "xor.py"
    ]  # no temporary left


def test_unwritable_output_is_one_line(workdir, capsys):
    (workdir / "blocker").write_text("a file where a folder should be\n")
    assert main(["compile", "xor.py", "-o", "blocker/xor.py"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("blocker/xor.py: error: cannot write blocker/xor.py")
    assert len(err.splitlines()) == 1


def test_folder_compiles_model_files_and_skips_scripts(workdir, capsys):
    folder = workdir / "models"
    folder.mkdir()
    shutil.copy(XOR, folder / "xor.py")
    (folder / "script.py").write_text(
        "def main(steps=2):\n    raise SystemExit('ran')\n"
    )
    assert main(["compile", "models", "-o", "out"]) == 0
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["xor.py"]
    assert main(["compile", "models", "--wrt", "W0"]) == 2
    assert "single model file" in capsys.readouterr().err


def test_ops_lists_the_supported_operations(capsys):
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    for name in [
        "np.exp",
        "np.tanh",
        "np.maximum",
        "np.where",
        "np.sum",
        "np.trace",
        "@",
        "np.concatenate",
        "np.zeros",
        "x.reshape",
        "gradgen.functions.log_softmax",
    ]:
        assert name in out


def test_ops_lists_every_call_the_tracer_dispatches(capsys):
    from gradgen import dispatch
    from gradgen.traced import numpy_name

    assert main(["ops"]) == 0
    listed = {
        line.split("  ")[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ")
    }
    tables = [dispatch.ELEMENTWISE, dispatch.COMPARISONS, dispatch.FUNCTIONS]
    for f in [f for table in tables for f in table]:
        assert numpy_name(f) in listed
    for name in dispatch.CREATION:  # np.zeros; np.r_ as np.r_[a, b, ...]
        assert name == "sum" or f"np.{name}" in {c.split("[")[0] for c in listed}


def test_operations_page_is_what_gradgen_ops_markdown_prints(capsys):
    from gradcheck import ROOT

    assert main(["ops", "--markdown"]) == 0
    page = (ROOT / "docs" / "operations.md").read_text()
    assert capsys.readouterr().out == page, "regenerate: gradgen ops --markdown"


def test_help_version_and_module_entry_point():
    run = subprocess.run(
        [sys.executable, "-m", "gradgen", "compile", "--help"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0
    for words in ["--wrt", "--function", "-o OUT", "f_value_and_grad", "f_vjp"]:
        assert words in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "gradgen", "--version"], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.startswith("gradgen ")
    run = subprocess.run(
        [sys.executable, "-m", "gradgen"], capture_output=True, text=True
    )
    assert run.returncode == 2 and "compile" in run.stdout


def test_model_imports_a_sibling_module_like_python_would(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "activations.py").write_text(
        "import numpy as np\n\n\ndef act(z):\n    return np.tanh(z)\n"
    )
    (folder / "net.py").write_text(
        "import numpy as np\nfrom gradgen import Array\nfrom activations import act\n\n\n"
        "def f(x: Array['n'], w: float) -> float:\n    return np.sum(act(w * x))\n"
    )
    monkeypatch.chdir(tmp_path)
    path_before = list(sys.path)
    assert main(["compile", "models/net.py", "-o", "net_grad.py"]) == 0
    assert sys.path == path_before
    module = import_path(tmp_path / "net_grad.py", "cli_sibling")
    x = np.array([0.5, -1.0])
    dx, dw = module.f_grad(x, 0.3)
    np.testing.assert_allclose(dx, 0.3 * (1 - np.tanh(0.3 * x) ** 2), rtol=1e-14)
    np.testing.assert_allclose(dw, np.sum(x * (1 - np.tanh(0.3 * x) ** 2)), rtol=1e-14)


def test_a_file_loaded_again_runs_afresh_and_an_edit_is_seen(tmp_path):
    """One process loads a model file again (gradgen.compile, the tests: once per
    target); its rewrites are kept by text, but the file still runs at every load (its
    import-time code runs again) and an edit to it is compiled."""
    from gradgen.pipeline import compile_file

    path, log = tmp_path / "counted.py", tmp_path / "imports.log"
    model = (
        "import numpy as np\nfrom gradgen import Array\n\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    log.write('imported\\n')\n\n\n"
        "def f(x: Array['n']) -> float:\n"
        "    if np.sum(x) > 0:\n"
        "        return np.sum({body})\n"
        "    return np.sum(x)\n"
    )
    x = np.array([0.5, 1.0])
    path.write_text(model.format(body="x * x"))
    for k in range(2):
        module = import_source(compile_file(str(path)), f"counted_{k}")
        np.testing.assert_allclose(module.f_grad(x), 2 * x, rtol=1e-14)
    assert log.read_text() == "imported\n" * 2
    path.write_text(model.format(body="np.exp(x)"))
    module = import_source(compile_file(str(path)), "counted_edited")
    np.testing.assert_allclose(module.f_grad(x), np.exp(x), rtol=1e-14)
    assert log.read_text() == "imported\n" * 3


def test_verbose_reports_the_time_of_each_stage(tmp_path, capsys):
    from gradcheck import ROOT

    out = tmp_path / "xor.py"
    assert (
        main(["compile", str(ROOT / "examples" / "xor.py"), "-o", str(out), "-v"]) == 0
    )
    err = capsys.readouterr().err
    stages = ["trace", "reverse sweep", "optimise", "printing", "black"]
    assert all(f"{s} " in err for s in stages), err
    positions = [err.index(f"{s} ") for s in stages]
    assert positions == sorted(positions)  # in pipeline order
    assert out.exists()


# --- arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["compile", "check", "latex", "explain", "graph"])
@pytest.mark.parametrize("wrt", [",", "", " , "])
def test_a_wrt_that_names_nothing_is_an_error(workdir, capsys, command, wrt):
    assert main([command, "xor.py", "--wrt", wrt]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --wrt names no parameter: nothing to differentiate")
    assert "--wrt W0,W1" in err and not (workdir / "generated").exists()


def test_the_api_wrt_is_checked_like_the_option():
    from gradgen import GradgenError, compile
    from gradgen.testing import check_grads

    def f(x: float, y: float) -> float:
        return x * y

    for bad, words in [([], "wrt names no parameter"), (3, "not int"), ([1], "list")]:
        for call in (compile, check_grads):
            with pytest.raises(GradgenError, match=words):
                call(f, wrt=bad)
    assert compile(f, wrt=" y, ").f_grad(2.0, 3.0) == 2.0
    assert compile(f, wrt=["y", "x", "y"]).f_grad(2.0, 3.0) == (3.0, 2.0)


def test_a_negative_seed_is_an_error_not_an_internal_one(workdir, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["check", "xor.py", "--seed", "-1"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: -1 is negative" in err and "internal" not in err


def test_odd_file_names_pass_through_the_command_line(workdir, capsys):
    odd = workdir / "my model 'v2' \"q\".py"
    shutil.copy(XOR, odd)
    assert main(["explain", odd.name, "--wrt", "W1"]) == 0
    assert "∂loss/∂W1" in capsys.readouterr().out
    spaced = workdir / "my model.py"
    shutil.copy(XOR, spaced)
    assert main(["compile", spaced.name]) == 0
    text = (workdir / "generated" / "my model.py").read_text()
    assert "gradgen compile 'my model.py'" in text


# --- folders and several models --------------------------------------------------------


def _folder(workdir):
    """good.py and bad.py import gradgen; train.py has annotated functions but does not,
    and would write a file if it ran."""
    folder = workdir / "models"
    folder.mkdir()
    shutil.copy(XOR, folder / "good.py")
    (folder / "bad.py").write_text(
        "import numpy as np\nimport gradgen\n\n\ndef f(x: gradgen.Array['n']) -> float:"
        "\n    return np.sum(np.median(x))\n"
    )
    (folder / "train.py").write_text(
        "from pathlib import Path\n\nPath(__file__).with_name('ran').write_text('!')\n\n\n"
        "def train(steps: int, lr: float) -> float:\n    return lr\n"
    )
    return folder


def test_a_folder_compiles_the_files_that_import_gradgen_each_on_its_own(
    workdir, capsys
):
    folder = _folder(workdir)
    assert main(["compile", "models", "-o", "out"]) == 2
    out, err = capsys.readouterr()
    assert out.strip() == f"wrote {os.path.join('out', 'good.py')}"
    assert err.strip() == (
        "models/bad.py:6: error: np.median is not supported "
        "(`gradgen ops` lists the supported operations)"
    )
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["good.py"]
    assert not (folder / "ran").exists()  # train.py was not run


def test_several_model_files_each_compile_or_fail_on_their_own(workdir, capsys):
    folder = _folder(workdir)
    (folder / "syntax.py").write_text("from gradgen import Array\ndef f(x: float)\n")
    assert main(["compile", "models/bad.py", "models/good.py", "models/syntax.py"]) == 2
    out, err = capsys.readouterr()
    assert out.strip() == f"wrote {os.path.join('generated', 'good.py')}"
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "models/bad.py",
        "models/syntax.py",
    ]
    assert (
        main(["compile", "models"]) == 2
    )  # the unparsable file is listed, not skipped
    assert "models/syntax.py:2: error: invalid Python" in capsys.readouterr().err


def test_a_folder_without_models_says_what_a_model_file_is(workdir, capsys):
    folder = workdir / "scripts"
    folder.mkdir()
    (folder / "train.py").write_text("def train(lr: float) -> float:\n    return lr\n")
    assert main(["compile", "scripts"]) == 2
    assert "a .py file that imports gradgen" in capsys.readouterr().err


def test_imports_gradgen_is_read_from_the_ast(tmp_path):
    from gradgen.cli.batch import imports_gradgen

    cases = {
        "import gradgen\n": True,
        "import numpy as np, gradgen.testing\n": True,
        "from gradgen import Array\n": True,
        "from gradgen.functions import sigmoid\n": True,
        "from . import gradgen\n": False,
        "import gradgenx\n": False,
        "# import gradgen\nx = 'from gradgen import Array'\n": False,
        "def f(:\nfrom gradgen import Array\n": True,  # does not parse: by its text
    }
    for k, (text, expected) in enumerate(cases.items()):
        path = tmp_path / f"m{k}.py"
        path.write_text(text)
        assert imports_gradgen(str(path)) is expected, text
