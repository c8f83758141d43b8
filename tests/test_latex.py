"""gradgen latex: the derivation as formulas. Every emitted formula is rendered by a real
TeX-math renderer (matplotlib's mathtext), and the names are the generated module's."""

from __future__ import annotations

import ast
import os
import re

import pytest

from gradcheck import ROOT
from gradgen.cli.commands import main
from gradgen.cli.show import derivation, programs
from mathtext import aligned_rows, blocks, render, render_rows

EXAMPLES = ["bowl", "deep", "elementary", "gate", "neuron", "sigmoid", "xor"]
MODELS = [ROOT / "examples" / f"{name}.py" for name in EXAMPLES] + [
    ROOT / "tests" / "models" / "ops.py"
]


def _latex(capsys, *args) -> str:
    assert main(["latex", *map(str, args)]) == 0
    return capsys.readouterr().out


def _equations(text: str) -> dict:
    """lhs -> rhs of every row of the aligned blocks, each rendered."""
    rows = {}
    for block in blocks(text, r"\[", r"\]"):
        render_rows(block)
        for row in aligned_rows(block):
            lhs, rhs = row.split(" &= ")
            rows[lhs] = rhs
    return rows


def test_xor_derivation_is_the_textbook_one(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = _latex(capsys, "examples/xor.py")
    rows = _equations(text)
    assert rows["h"] == r"\sigma\left(z\right)"
    assert rows[r"\hat{y}"] == r"\sigma\left(z_{1}\right)"
    assert rows["z_{1}"] == "h W_{1}"
    assert rows[r"\mathrm{loss}"] == r"\frac{1}{n} \sum \left(\hat{y} - y\right)^{2}"
    assert rows[r"\delta_{\hat{y}}"] == r"\frac{2}{n} \left(\hat{y} - y\right)"
    assert rows[r"\delta_{z_{1}}"] == (
        r"\delta_{\hat{y}} \odot \hat{y} \odot \left(1 - \hat{y}\right)"
    )
    assert rows[r"\frac{\partial \mathrm{loss}}{\partial W_{1}}"] == (
        r"h^{\top} \delta_{z_{1}}"
    )
    assert rows[r"\delta_{h}"] == r"\delta_{z_{1}} W_{1}^{\top}"
    assert rows[r"\delta_{z}"] == r"\delta_{h} \odot h \odot \left(1 - h\right)"
    assert (
        rows[r"\frac{\partial \mathrm{loss}}{\partial W_{0}}"] == r"X^{\top} \delta_{z}"
    )
    assert "% Grad of: yhat = sigmoid(h @ W1)" in text


def _assigned_names(path, function: str) -> set:
    tree = ast.parse(path.read_text())
    body = next(f for f in tree.body if getattr(f, "name", None) == function)
    return {
        t.id
        for node in ast.walk(body)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


@pytest.mark.parametrize("name", EXAMPLES)
def test_names_are_the_generated_modules(name):
    """Every equation defines a value the generated function assigns, under that name;
    only single-operation temporaries (t1 = yhat - y) and the parts the code computes a
    sigmoid and its derivative from (exp_neg_abs_z = exp(-|z|), sigmoid_abs_z,
    sigmoid_neg_abs_z) are written out instead."""
    path = ROOT / "examples" / f"{name}.py"
    for program in programs(str(path)):
        function = (
            f"{program.name}_{'vjp' if program.array_output else 'value_and_grad'}"
        )
        assigned = _assigned_names(ROOT / "generated" / f"{name}.py", function)
        shown = {e.name for e in derivation(program).equations()}
        dims = {d.name for p in program.params for d in p.shape if d.is_Symbol}
        assert shown <= assigned | {program.value_name}, shown - assigned
        hidden = assigned - shown - dims
        assert all(
            re.fullmatch(r"t\d+|(exp_neg|sigmoid|sigmoid_neg)_abs_\w+|dtype", n)
            for n in hidden
        ), hidden


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_every_emitted_formula_renders(capsys, model):
    """All examples and every supported operation: each row of each aligned block is
    valid TeX math for mathtext, and the blocks are well formed."""
    text = _latex(capsys, model)
    count = sum(render_rows(block) for block in blocks(text, r"\[", r"\]"))
    # a row per operation of ops.py's; a forward and a backward row at least elsewhere
    assert count > (250 if model.name == "ops.py" else 2)


def test_the_renderer_rejects_broken_tex():
    """The check above can fail: mathtext refuses what LaTeX would refuse."""
    for broken in [r"\frac{a}", r"W_{1}_{2}", r"\left( x", r"\hat{y", r"\sigmoid(x)"]:
        with pytest.raises(ValueError):
            render(broken)
    # nor when rendered with other rows (render_rows renders them ten to a call)
    good = [r"z &= x W", r"h &= \sigma\left(z\right)", r"\delta_{z} &= x^{2}"]
    for broken in [
        r"y &= x^",
        r"y &= \frac{a}",
        r"y &= W_{1}_{2}",
        r"y &= \sigmoid(x)",
    ]:
        rows = good + [broken] + good
        block = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
        assert render_rows(block.replace(broken, good[0])) == len(rows)
        with pytest.raises(ValueError):
            render_rows(block)


def test_markdown_has_a_display_block_per_section(tmp_path, capsys):
    out = tmp_path / "xor.md"
    assert main(["latex", str(ROOT / "examples" / "xor.py"), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("## The derivation of `loss`")
    found = blocks(text, "$$", "$$")
    assert len(found) == 4  # forward pass and three Grad of: sections
    assert sum(render_rows(b) for b in found) == 13
    assert "**Grad of:** `h = sigmoid(X @ W0)`" in text
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # like any file, not 0600


def test_png_is_drawn_with_the_formulas(tmp_path, capsys):
    out = tmp_path / "xor.png"
    assert main(["latex", str(ROOT / "examples" / "xor.py"), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(
        data[20:24], "big"
    )
    assert 400 < width < 2000 and height > 1200  # 13 equations, 4 headings, a title


def test_unknown_output_kind_is_one_line(tmp_path, capsys):
    out = tmp_path / "xor.txt"
    assert main(["latex", str(ROOT / "examples" / "xor.py"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"{out}: error: cannot tell what to write from the name {out} "
        "(name it .tex, .md, .png, .svg or .pdf)\n"
    )
    assert not out.exists()


def test_bad_input_gets_the_compile_errors(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["latex", "examples/xor.py", "--wrt", "W2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("examples/xor.py:15: error: --wrt names 'W2'")
    assert main(["latex", "examples/xor.py", "--function", "nope"]) == 2
    assert capsys.readouterr().err.startswith(
        "examples/xor.py: error: no compile target named 'nope'"
    )


def test_missing_matplotlib_is_one_line(tmp_path, capsys, monkeypatch):
    import sys

    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    out = tmp_path / "xor.png"
    assert main(["latex", str(ROOT / "examples" / "xor.py"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{out}: error: drawing formulas as .png needs matplotlib")
    assert len(err.splitlines()) == 1 and not out.exists()


def test_readme_shows_what_gradgen_latex_prints(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("```latex\n", 1)[1].split("```", 1)[0]
    assert shown.startswith(r"\[") and shown in _latex(capsys, "examples/xor.py")
