"""No file is ever lost: outputs that are inputs, not regular files, read-only, or written
twice are refused before anything runs; a replaced file keeps its mode; temporary files go
away on SIGTERM and, after a SIGKILL, with the next run."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from gradgen.cli.commands import main

HEADER = "import numpy as np\nfrom gradgen import Array\n\n\n"
MODEL = HEADER + "def f(x: Array['n']) -> float:\n    return np.sum(x**2)\n"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def _refused(capsys, argv, *words):
    """Run the command line; it must refuse with one line naming ``words`` and a hint."""
    status = main(argv)
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "error: " in err and err.endswith(")"), err
    for word in words:
        assert word in err, err
    return err


def _tree(folder):
    """Every file under ``folder``, with its bytes (temporary files included)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_output_onto_the_model_itself_is_refused(work, capsys):
    for out in ["model.py", "./model.py", "sub/../model.py", str(work / "model.py")]:
        (work / "sub").mkdir(exist_ok=True)
        err = _refused(capsys, ["compile", "model.py", "-o", out], "an input")
        assert err.startswith(f"{out}: error: ")
    os.link(work / "model.py", work / "alias.py")  # the same file, by inode
    _refused(capsys, ["compile", "model.py", "-o", "alias.py"], "an input")
    assert (work / "model.py").read_text() == MODEL


def test_folder_compiled_onto_itself_is_refused(work, capsys):
    models = work / "models"
    models.mkdir()
    (models / "a.py").write_text(MODEL)
    (models / "b.py").write_text(MODEL.replace("x**2", "x**4"))
    before = _tree(models)
    _refused(capsys, ["compile", "models/", "-o", "models"], "an input")
    assert _tree(models) == before


def test_default_output_that_is_its_own_input_is_refused(work, capsys):
    (work / "generated").mkdir()
    (work / "generated" / "x.py").write_text(MODEL)
    _refused(capsys, ["compile", "generated/x.py"], "generated/x.py", "an input")
    assert (work / "generated" / "x.py").read_text() == MODEL


def test_emitted_test_onto_the_model_is_refused(work, capsys):
    (work / "test_m.py").write_text(MODEL)
    err = _refused(
        capsys, ["compile", "test_m.py", "-o", "m.py", "--emit-test"], "emitted test"
    )
    assert err.startswith("test_m.py: error:")
    assert (work / "test_m.py").read_text() == MODEL and not (work / "m.py").exists()


def test_two_models_onto_one_output_is_refused_before_writing(work, capsys):
    for name in "ab":
        (work / name).mkdir()
        (work / name / "model.py").write_text(MODEL)
    _refused(
        capsys,
        ["compile", "a/model.py", "b/model.py"],
        "a/model.py and b/model.py would both be written",
    )
    assert not (work / "generated").exists()


def test_empty_output_name_is_refused(work, capsys):
    _refused(capsys, ["compile", "model.py", "-o", ""], "-o names no file")
    _refused(capsys, ["latex", "model.py", "-o", ""], "output name is empty")
    assert not (work / "generated").exists()


def test_outputs_that_are_not_regular_files_are_refused(work, capsys):
    os.mkfifo(work / "pipe.py")
    (work / "folder.py").mkdir()
    _refused(capsys, ["compile", "model.py", "-o", "pipe.py"], "is a FIFO")
    _refused(capsys, ["compile", "model.py", "-o", "folder.py"], "is a folder")
    os.mkfifo(work / "pipe.tex")
    _refused(capsys, ["latex", "model.py", "-o", "pipe.tex"], "is a FIFO")
    assert stat.S_ISFIFO(os.lstat(work / "pipe.py").st_mode)
    assert stat.S_ISFIFO(os.lstat(work / "pipe.tex").st_mode)
    (work / "file").write_text("a file where a folder should be\n")
    _refused(capsys, ["compile", "model.py", "-o", "file/x.py"], "is not a folder")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_device_node_stays_a_device(work, capsys):
    node = work / "zero.py"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero, in tmp
    _refused(capsys, ["compile", "model.py", "-o", "zero.py"], "character device")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_symbolic_links_are_refused_with_their_target_in_the_hint(work, capsys):
    (work / "real.py").write_text("kept\n")
    os.symlink("real.py", work / "link.py")
    os.symlink("nowhere.py", work / "dangling.py")
    err = _refused(capsys, ["compile", "model.py", "-o", "link.py"], "symbolic link")
    assert f"-o {work / 'real.py'}" in err
    _refused(capsys, ["compile", "model.py", "-o", "dangling.py"], "symbolic link")
    os.symlink("real.py", work / "link.dot")
    _refused(capsys, ["graph", "model.py", "-o", "link.dot"], "symbolic link")
    assert (
        os.path.islink(work / "link.py") and (work / "real.py").read_text() == "kept\n"
    )
    assert main(["compile", "model.py", "-o", str(work / "real.py")]) == 0  # the target
    assert "def f_grad" in (work / "real.py").read_text()


def test_read_only_outputs_are_refused(work, capsys):
    out = work / "ro.py"
    out.write_text("read only\n")
    out.chmod(0o444)
    _refused(capsys, ["compile", "model.py", "-o", "ro.py"], "read-only")
    assert (
        out.read_text() == "read only\n" and stat.S_IMODE(out.stat().st_mode) == 0o444
    )


def test_a_replaced_file_keeps_its_mode(work, capsys):
    out = work / "out.py"
    out.write_text("old\n")
    out.chmod(0o751)
    assert main(["compile", "model.py", "-o", "out.py"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o751 and "def f_grad" in out.read_text()
    assert main(["latex", "model.py", "-o", "out.tex"]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((work / "out.tex").stat().st_mode) == 0o666 & ~umask


def _dead_pid() -> int:
    run = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
    )
    return int(run.stdout)


def test_the_next_run_removes_temporary_files_of_dead_runs(work, capsys):
    folder = work / "generated"
    folder.mkdir()
    stale = folder / f".gradgen-{_dead_pid()}-abc123.tmp"
    alive = folder / f".gradgen-{os.getppid()}-abc123.tmp"  # a live process's
    other = folder / ".gradgen-notes.tmp"
    for path in [stale, alive, other]:
        path.write_text("")
    assert main(["compile", "model.py"]) == 0
    assert not stale.exists() and alive.exists() and other.exists()


def _held_write(work, env_extra=None):
    """A compile paused (test-only hook) while its temporary file exists."""
    env = dict(os.environ, GRADGEN_TEST_HOLD_WRITE="1", **(env_extra or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradgen", "compile", "model.py", "-o", "out.py"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stderr.readline()
    assert line.startswith("gradgen: holding "), line + proc.stderr.read()
    temp = line.split("holding ", 1)[1].strip()
    assert os.path.exists(temp) and os.path.basename(temp).startswith(
        f".gradgen-{proc.pid}-"
    )
    return proc, temp


@pytest.mark.parametrize(
    "signum,status,said",
    [
        (signal.SIGTERM, 128 + signal.SIGTERM, "gradgen: terminated"),
        (signal.SIGINT, 130, "gradgen: interrupted"),  # a real Ctrl-C stays one
    ],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_while_writing_removes_the_temporary_file(work, signum, status, said):
    (work / "out.py").write_text("previous\n")
    proc, temp = _held_write(work)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status
    assert err.strip() == said
    assert not os.path.exists(temp)
    assert (work / "out.py").read_text() == "previous\n"


def test_sigkill_while_writing_leaves_a_file_the_next_run_removes(work, capsys):
    proc, temp = _held_write(work)
    proc.kill()
    proc.communicate(timeout=30)
    assert os.path.exists(temp) and not (work / "out.py").exists()
    assert main(["compile", "model.py", "-o", "out.py"]) == 0
    assert not os.path.exists(temp)
    assert sorted(p.name for p in work.iterdir()) == ["model.py", "out.py"]


def test_a_module_the_model_imports_is_an_input_too(work, capsys):
    (work / "helpers.py").write_text(
        "import numpy as np\n\n\ndef act(z):\n    return np.tanh(z)\n"
    )
    (work / "net.py").write_text(
        HEADER + "from helpers import act\n\n\n"
        "def f(x: Array['n']) -> float:\n    return np.sum(act(x))\n"
    )
    before = (work / "helpers.py").read_text()
    _refused(capsys, ["compile", "net.py", "-o", "helpers.py"], "helpers.py, an input")
    assert (work / "helpers.py").read_text() == before
    sys.modules.pop("helpers", None)


def test_a_link_hint_names_only_a_file_gradgen_would_write(work, capsys):
    """Like /dev/stdout, a link to a FIFO (or a folder) gets no hint to write its target;
    a target whose name has a space is quoted as a shell would need it."""
    os.mkfifo(work / "pipe")
    (work / "folder").mkdir()
    for target in ["pipe", "folder"]:
        os.symlink(work / target, work / f"to_{target}.py")
        err = _refused(
            capsys, ["compile", "model.py", "-o", f"to_{target}.py"], "symbolic link"
        )
        assert "-o " not in err and "not a regular file" in err
    (work / "a b.py").write_text("kept\n")
    os.symlink("a b.py", work / "spaced.py")
    err = _refused(capsys, ["compile", "model.py", "-o", "spaced.py"], "symbolic link")
    assert err.endswith(f"name it: -o '{work / 'a b.py'}')")
    assert stat.S_ISFIFO(os.lstat(work / "pipe").st_mode)
