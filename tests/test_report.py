"""gradgen report: the page's numbers (read back from the HTML and checked against central
differences of the model), its links, its validity, that it references nothing outside
itself, and the command's errors. The browser tests are in test_report_browser.py."""

from __future__ import annotations

import html
import os
import re
import shutil

import html5lib
import numpy as np
import pytest

from gradcheck import ROOT, import_path
from gradgen.cli.commands import main
from report_pages import EXAMPLES, GATE_POINT

NEEDS_DOT = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot program is not installed (apt-get install graphviz)",
)
SVG = "{http://www.w3.org/2000/svg}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def _tree(path):
    return html5lib.parse(path.read_text(encoding="utf-8"), namespaceHTMLElements=False)


def _ids(tree) -> dict:
    return {el.get("id"): el for el in tree.iter() if el.get("id")}


def _text(element) -> str:
    return " ".join(t.strip() for t in element.itertext() if t.strip())


def _label(group) -> str:
    """The text a graph's node or edge shows (not its tooltip title)."""
    return " ".join(_text(t) for t in group.iter(f"{SVG}text"))


def _central(f, args: list, k: int, step=1e-6) -> float:
    up, down = list(args), list(args)
    up[k] += step
    down[k] -= step
    return (f(*up) - f(*down)) / (2 * step)


@NEEDS_DOT
def test_gate_graph_carries_the_cs231n_values_and_gradients(report_pages):
    ids = _ids(_tree(report_pages["gate"]))
    point = {k: float(v) for k, v in (p.split("=") for p in GATE_POINT.split(","))}
    gate = import_path(EXAMPLES / "gate.py", "gate_model").gate
    expected = {"w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59", "w2": "0.20"}
    for k, (name, shown) in enumerate(expected.items()):
        assert _label(ids[f"f0-f-{name}-gate"]) == f"{name} = {point[name]:.2f}"
        assert _label(ids[f"f0-b-{name}-gate"]) == f"d{name} = {shown}"
        assert _central(gate, list(point.values()), k) == pytest.approx(
            float(shown), abs=0.005
        )
    output = _label(ids["f0-n-gate"])
    assert "value 0.73" in output and "gradient 1" in output
    assert gate(*point.values()) == pytest.approx(0.73, abs=0.005)


def _row(tree, key: str) -> list[str]:
    row = next(tr for tr in tree.iter("tr") if tr.get("data-key") == key)
    return [_text(td) for td in row.iter("td")]


def test_sigmoid_shows_each_local_derivative_and_their_product(report_pages):
    tree = _tree(report_pages["sigmoid"])
    numbers = next(d for d in tree.iter("div") if d.get("class") == "numbers")
    mathml = ["".join(m.itertext()) for m in numbers.iter(f"{MATHML}math")]
    # ∂i/∂h · ∂h/∂g · ∂g/∂f · ∂f/∂z at z = 1: (-1/h²) · 1 · e^f · (-1)
    assert "(−0.534)·1·0.368·(−1)" in mathml
    assert "0.197" in mathml
    sigma = 1 / (1 + np.exp(-1.0))
    assert sigma * (1 - sigma) == pytest.approx(0.197, abs=5e-4)
    assert "The generated code computes dz = 0.196612." in _text(numbers)
    # the table: each node's value and gradient, as the generated code computes them
    assert _row(tree, "f0:h")[2:] == ["1.36788", "delta_h", "-0.534447"]
    assert _row(tree, "f0:g")[2:] == ["0.367879", "delta_h", "-0.534447"]
    assert _row(tree, "f0:z")[2:] == ["1", "dz", "0.196612"]


def _array(details) -> np.ndarray:
    text = "".join(next(details.iter("pre")).itertext())
    return np.array([float(x) for x in re.findall(r"[-+0-9.e]+", text)])


def test_xor_at_its_trained_point(report_pages):
    tree = _tree(report_pages["xor"])
    cells = {tr.get("data-key"): tr for tr in tree.iter("tr") if tr.get("data-key")}
    predictions = _array(next(cells["f0:yhat"].iter("details")))
    np.testing.assert_allclose(predictions, [0.030, 0.972, 0.974, 0.025], atol=5e-4)
    point = np.load(EXAMPLES / "xor_trained.npz")
    loss = import_path(EXAMPLES / "xor.py", "xor_model").loss
    args = [point[n] for n in ("X", "y", "W0", "W1")]
    shown = _array(list(cells["f0:W0"].iter("details"))[1])  # its gradient, dW0
    numeric = []
    for index in np.ndindex(args[2].shape):
        up, down = [a.copy() for a in args], [a.copy() for a in args]
        up[2][index] += 1e-6
        down[2][index] -= 1e-6
        numeric.append((loss(*up) - loss(*down)) / 2e-6)
    np.testing.assert_allclose(shown, numeric, rtol=1e-5, atol=1e-9)


def test_array_output_is_shown_through_its_vjp(report_pages):
    tree = _tree(report_pages["sigmoid_array"])
    cells = {tr.get("data-key"): tr for tr in tree.iter("tr") if tr.get("data-key")}
    z = _array(next(cells["f0:z"].iter("details")))
    dz = _array(list(cells["f0:z"].iter("details"))[1])
    sigma = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(dz, sigma * (1 - sigma), rtol=1e-5)  # cotangent: ones
    assert _row(tree, "f0:sigmoid_array")[3] == "cotangent"


EXTERNAL = [
    r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""",
    r"@import",
    r"url\(\s*['\"]?\s*(?:https?:)?//",
    r"<(?:link|img|iframe|object|embed|base)\b",
]


def test_pages_reference_nothing_outside_themselves(report_pages):
    for name, path in report_pages.items():
        text = path.read_text(encoding="utf-8")
        for pattern in EXTERNAL:
            assert not re.search(pattern, text, re.IGNORECASE), (name, pattern)


def test_pages_are_valid_html_with_their_references_resolved(report_pages):
    for name, path in report_pages.items():
        parser = html5lib.HTMLParser(strict=True)
        parser.parse(path.read_text(encoding="utf-8"))  # raises at a parse error
        tree = _tree(path)
        ids = [el.get("id") for el in tree.iter() if el.get("id")]
        assert len(ids) == len(set(ids)), name
        for el in tree.iter():
            refs = " ".join(
                el.get(a, "") for a in ("aria-labelledby", "aria-describedby")
            ).split()
            refs += [el.get("href")[1:]] if el.get("href", "").startswith("#") else []
            assert set(refs) <= set(ids), (name, refs)


@NEEDS_DOT
def test_every_key_links_to_the_nodes_and_lines_on_the_page(report_pages):
    import json

    for name, path in report_pages.items():
        tree = _tree(path)
        ids = _ids(tree)
        data = json.loads(_text(ids["gradgen-data"]))
        keys = {el.get("data-key") for el in tree.iter() if el.get("data-key")}
        for fn, entry in data.items():
            for key, link in entry["links"].items():
                assert link["node"] is None or link["node"] in ids, (name, key)
                assert set(link["edges"]) <= set(ids), (name, key)
                assert all(f"m-{n}" in ids for n in link["model"]), (name, key)
            assert {k for k in keys if k.startswith(fn + ":")} <= set(entry["links"])


def _fails(capsys, *args) -> str:
    assert main(["report", *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "at, message",
    [
        (
            "w0=2,x0=-1",
            "--at gives no value for w1, x1, w2 of gate(w0, x0, w1, x1, w2)",
        ),
        ("w0=2,x0", "cannot read 'x0' in --at w0=2,x0"),
        (GATE_POINT + ",q=1", "--at names q, which is not a parameter of gate("),
        ("w0=2,w0=3", "--at gives w0 twice"),
    ],
)
def test_bad_inputs_are_one_line_and_write_nothing(capsys, tmp_path, at, message):
    out = tmp_path / "gate.html"
    assert message in _fails(capsys, EXAMPLES / "gate.py", "--at", at, "-o", out)
    assert not out.exists()


def test_inputs_of_the_wrong_shape_are_refused(capsys, tmp_path):
    np.savez(tmp_path / "bad.npz", X=np.ones((4, 3)), y=np.ones((4, 1)),
             W0=np.ones((2, 4)), W1=np.ones((4, 1)))  # fmt: skip
    err = _fails(capsys, EXAMPLES / "xor.py", "--at", tmp_path / "bad.npz")
    assert "--at gives X the shape (4, 3), but loss declares X: (n, 2)" in err
    assert "examples/xor.py:15: error:" in err
    err = _fails(capsys, EXAMPLES / "xor.py", "--at", tmp_path / "missing.npz")
    assert "cannot read the inputs" in err and "No such file" in err


def test_output_must_be_html(capsys, tmp_path):
    err = _fails(capsys, EXAMPLES / "gate.py", "-o", tmp_path / "gate.txt")
    assert "cannot tell what to write from the name" in err and "(name it .html)" in err


def test_default_output_is_the_model_name_here(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(EXAMPLES / "bowl.py")]) == 0
    assert capsys.readouterr().out.strip() == "wrote bowl.html"
    assert "<math" in (tmp_path / "bowl.html").read_text(encoding="utf-8")


def test_without_dot_the_page_says_so_and_shows_the_rest(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    out = tmp_path / "gate.html"
    assert main(["report", str(EXAMPLES / "gate.py"), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "needs Graphviz's dot program, which is not installed" in captured.err
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert "needs Graphviz's dot program" in page and "<svg" not in page
    assert "<math" in page and "gate_value_and_grad" in page


def test_help_lists_report(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    assert (
        "--at NAME=VALUE,...|FILE.npz" in text
        and "gradgen report examples/gate.py" in text
    )


def test_values_of_nodes_written_over_in_place(tmp_path):
    """A value the code writes into later keeps the value it had when computed."""
    from sympy.core.parameters import distribute

    from gradgen.explain import report_run
    from gradgen.cli import show
    from gradgen.pipeline import generate, gradient_statements

    path = str(ROOT / "tests" / "models" / "arrays.py")
    with distribute(False):
        (program,) = show.programs(path, ["write_accumulate"])
        source = generate([program], path, "gradgen compile")
    named = gradient_statements(program)
    x, c = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    run = report_run.run(program, named, source, {"x": x, "c": c})
    held: dict = {}
    for sym, value in run.values.items():
        if sym in named[2]:
            held.setdefault(named[2][sym].name, []).append(value)
    assert any(np.array_equal(v, np.zeros(3)) for v in held["acc"])  # before +=
    value, (dx, dc) = run.result
    x_sym, c_sym = (p.sym for p in program.params)
    np.testing.assert_array_equal(run.adjoints[x_sym], dx)
    np.testing.assert_array_equal(run.adjoints[c_sym], dc)
    acc = np.zeros(3)
    acc[1:] += x[:-1] * c[1:]
    acc[0] += x[-1]
    acc = acc + c * acc
    assert value == pytest.approx(np.sum(acc**2))


def test_readme_shows_the_command_and_the_screenshots():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"gradgen report examples/gate.py --at {GATE_POINT}" in readme
    for png in re.findall(r"docs/report_\w+\.png", readme):
        assert (ROOT / png).exists()
    assert len(set(re.findall(r"docs/report_\w+\.png", readme))) >= 2
    assert os.path.getsize(ROOT / "examples" / "xor_trained.npz") < 4096


def test_the_page_shows_the_module_gradgen_compile_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the module names the model as the command line does
    out = tmp_path / "gate.html"
    assert main(["report", "examples/gate.py", "--at", GATE_POINT, "-o", str(out)]) == 0
    module = "".join(_ids(_tree(out))["module"].find(".//pre").itertext())
    assert module == (ROOT / "generated" / "gate.py").read_text()


def test_a_chain_rule_explain_cannot_write_leaves_a_note_not_a_failure(
    capsys, tmp_path, monkeypatch
):
    from gradgen.explain import paths
    from gradgen import ir

    def fails(*args):
        raise ir.ShapeError("shapes (n, 2) and (2, n) do not broadcast")

    monkeypatch.setattr(paths, "explain", fails)
    out = tmp_path / "xor.html"
    assert main(["report", str(EXAMPLES / "xor.py"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("note: the chain rule for") == 4  # X, y, W0, W1
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert "the chain rule for W0 cannot be written out: shapes (n, 2)" in page
    assert "please report it" in page and "<svg" in page


def test_a_function_returning_its_parameter(tmp_path):
    out = tmp_path / "ops.html"
    model = ROOT / "tests" / "models" / "ops.py"
    args = ["--function", "first_of_two", "--at", "a=2,b=3", "-o", str(out)]
    assert main(["report", str(model), *args]) == 0
    tree = _tree(out)
    assert _row(tree, "f0:a")[2:] == ["2", "da", "1"]
    assert _row(tree, "f0:b")[2:] == ["3", "db", "0"]
