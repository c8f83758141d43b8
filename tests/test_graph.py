"""gradgen graph: the computational graph, values forward in green and adjoints backward in
red, with the generated code's names; DOT without Graphviz, pictures with its dot."""

from __future__ import annotations

import ast
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from gradcheck import ROOT
from gradgen.cli.commands import main
from gradgen.explain.graph import BACKWARD, FORWARD

XOR = ROOT / "examples" / "xor.py"
NEEDS_DOT = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot program is not installed (apt-get install graphviz)",
)


def _attributes(text: str) -> dict:
    return {
        k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|<.*>|[^\s\]]+)', text)
    }


def _parse(dot: str):
    """(nodes: name -> attributes, edges: [(tail, head, attributes)]) of DOT text."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        edge = re.fullmatch(r"\s*(\S+) -> (\S+) \[(.*)\]", line)
        node = re.fullmatch(r"\s*(\S+) \[(.*)\]", line)
        if edge:
            edges.append((edge[1], edge[2], _attributes(edge[3])))
        elif node and node[1] not in ("node", "edge", "graph"):
            nodes[node[1]] = _attributes(node[2])
    return nodes, edges


def _dot(capsys, *args) -> str:
    assert main(["graph", *map(str, args)]) == 0
    return capsys.readouterr().out


def _code_names(module: str, function: str) -> set:
    tree = ast.parse((ROOT / "generated" / module).read_text())
    body = next(f for f in tree.body if getattr(f, "name", None) == function)
    return {n.id for n in ast.walk(body) if isinstance(n, ast.Name)}


def test_xor_graph_has_operations_values_and_adjoints(capsys):
    nodes, edges = _parse(_dot(capsys, XOR))
    assert set(nodes) == {"X", "y", "W0", "W1", "z", "h", "z_1", "yhat", "loss"}
    assert nodes["h"]["label"] == "h = σ(z)" and nodes["h"]["shape"] == "box"
    assert nodes["z_1"]["label"] == "z_1 = h·W1"
    assert nodes["W0"]["shape"] == "ellipse"
    forward = {(t, h, a["label"]) for t, h, a in edges if a["color"] == FORWARD}
    backward = {(t, h, a["label"]) for t, h, a in edges if a["color"] == BACKWARD}
    assert forward == {
        ("X", "z", "X"),
        ("W0", "z", "W0"),
        ("z", "h", "z"),
        ("h", "z_1", "h"),
        ("W1", "z_1", "W1"),
        ("z_1", "yhat", "z_1"),
        ("yhat", "loss", "yhat"),
        ("y", "loss", "y"),
    }
    assert backward == {
        ("X", "z", "dX"),
        ("W0", "z", "dW0"),
        ("z", "h", "delta_z"),
        ("h", "z_1", "delta_h"),
        ("W1", "z_1", "dW1"),
        ("z_1", "yhat", "delta_z_1"),
        ("yhat", "loss", "delta_yhat"),
        ("y", "loss", "dy"),
    }
    assert all(a.get("dir") == "back" for _, _, a in edges if a["color"] == BACKWARD)
    names = _code_names("xor.py", "loss_value_and_grad")
    assert {label for _, _, label in forward | backward} <= names


def test_only_the_differentiated_paths_carry_adjoints(capsys):
    _, edges = _parse(_dot(capsys, ROOT / "examples" / "neuron.py", "--wrt", "W1"))
    backward = {(t, h, a["label"]) for t, h, a in edges if a["color"] == BACKWARD}
    assert backward == {
        ("W1", "z", "dW1"),
        ("z", "h", "delta_z"),
        ("h", "z_1", "delta_h"),
        ("z_1", "y", "delta_z_1"),
        ("y", "cost", "delta_y"),
    }


def test_a_value_used_twice_gets_a_part_of_its_adjoint_on_each_edge(capsys):
    nodes, edges = _parse(_dot(capsys, ROOT / "examples" / "elementary.py"))
    into_x = {
        (h, a["label"]) for t, h, a in edges if t == "x" and a["color"] == BACKWARD
    }
    assert into_x == {("a", "y"), ("b", "cos(x)")}  # dx = y + cos(x), the two paths
    assert ">dx</font>" in nodes["x"]["label"]


def test_dot_needs_no_graphviz_program(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot to be found
    out = tmp_path / "xor.dot"
    assert main(["graph", str(XOR), "-o", str(out)]) == 0
    assert _parse(out.read_text())[0]["yhat"]["label"] == "yhat = σ(z_1)"


def test_pictures_without_graphviz_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "xor.svg"
    assert main(["graph", str(XOR), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"{out}: error: drawing .svg needs Graphviz's dot program, which is not installed"
    )
    assert len(err.splitlines()) == 1 and not out.exists()


@NEEDS_DOT
def test_svg_is_drawn_with_the_code_names(tmp_path, capsys):
    out = tmp_path / "xor.svg"
    assert main(["graph", str(XOR), "-o", str(out)]) == 0
    texts = {t.text for t in ET.parse(out).iter("{http://www.w3.org/2000/svg}text")}
    assert {"h = σ(z)", "delta_h", "dW1", "loss = mean((yhat - y)²)"} <= texts


@NEEDS_DOT
def test_png_is_a_picture(tmp_path, capsys):
    out = tmp_path / "xor.png"
    assert main(["graph", str(XOR), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_functions_need_a_choice(capsys):
    assert main(["graph", str(ROOT / "examples" / "sigmoid.py")]) == 2
    err = capsys.readouterr().err
    assert (
        "2 functions to draw (sigmoid, sigmoid_array) (choose one with --function)"
        in err
    )


def test_unwritable_output_is_one_line(tmp_path, capsys):
    (tmp_path / "blocker").write_text("a file where a folder should be\n")
    out = tmp_path / "blocker" / "xor.dot"
    assert main(["graph", str(XOR), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"{out}: error: cannot write {out}")
        and len(err.splitlines()) == 1
    )


def test_an_adjoint_the_code_folds_is_labelled_with_the_name_it_equals(capsys):
    """h = 1 + g: g's adjoint is delta_h, which the code does not copy into delta_g."""
    nodes, edges = _parse(
        _dot(capsys, ROOT / "examples" / "sigmoid.py", "--function", "sigmoid")
    )
    backward = {(t, h): a["label"] for t, h, a in edges if a["color"] == BACKWARD}
    assert backward[("g", "h")] == "delta_h" and backward[("h", "i")] == "delta_h"
    assert backward[("f", "g")] == "delta_f" and backward[("z", "f")] == "dz"


def test_a_look_gives_ids_colours_and_numbers_without_changing_the_default(capsys):
    from gradgen.explain import graph
    from gradgen.cli import show
    from gradgen.pipeline import gradient_statements

    class Numbered(graph.Look):
        def number(self, name):
            return {"z": "1.00", "dz": "0.20"}.get(name)

    (program,) = show.programs(str(ROOT / "examples" / "sigmoid.py"), ["sigmoid"])
    stmts, _, mapping = gradient_statements(program)
    look = Numbered(
        forward="#0072b2", backward_style="dashed", ids="f0-", caption=False
    )
    source = graph.draw(program, stmts, mapping, look).source
    nodes, edges = _parse(source)
    assert nodes["z"]["id"] == "f0-n-z" and "values forward" not in source
    by_id = {a["id"]: a for _, _, a in edges}
    assert by_id["f0-f-z-f"]["label"] == "z = 1.00"
    assert by_id["f0-f-z-f"]["color"] == "#0072b2"
    assert by_id["f0-b-z-f"]["label"] == "dz = 0.20"
    assert by_id["f0-b-z-f"]["style"] == "dashed"
    assert by_id["f0-f-f-g"]["label"] == "f"  # no number: the name alone
    default = _parse(graph.draw(program, stmts, mapping).source)[1]
    assert all("id" not in a and "style" not in a for _, _, a in default)


def test_a_loop_that_stays_a_loop_is_drawn_once_with_its_back_edge(capsys):
    """The RNN over a named length: one node for the loop in the function, and its step
    once in a box, values forward, adjoints backward under the helpers' names (dWh
    summed over the steps, dX[t] a row), and the back edges of the carried value: h_next
    is h at the next step, whose adjoint dh is the next step's seed."""
    dot = _dot(capsys, ROOT / "examples" / "rnn_sequence.py")
    assert "subgraph cluster_loop1 {" in dot
    assert 'label="loop_25, one step of: for t in range(X.shape[0])"' in dot
    nodes, edges = _parse(dot.replace('"loop1.h"', "step_h").replace('"loop1.', '"'))
    nodes = {n.strip('"'): a for n, a in nodes.items()}
    edges = [(t.strip('"'), h.strip('"'), a) for t, h, a in edges]
    step = "h_next = tanh(b + X_t·Wx + h·Wh)"
    assert nodes["loop"]["label"] == "loop = loop_25(h0, X, Wx, Wh, b)"
    assert nodes["h_next"]["label"] == step and nodes["h_next"]["shape"] == "box"
    backward = {(t, h, a["label"]) for t, h, a in edges if a["color"] == BACKWARD}
    forward = {(t, h, a["label"]) for t, h, a in edges if a["color"] == FORWARD}
    assert {
        ("Wh", "h_next", "dWh"),
        ("X_t", "h_next", "dX[t]"),
        ("step_h", "h_next", "dh"),
        ("h_next", "step_h", "dh"),
    } <= backward
    assert ("h_next", "step_h", "h, next step") in forward
    back = [a for t, h, a in edges if (t, h) == ("h_next", "step_h")]
    assert all(a["style"] == "dashed" and a["constraint"] == "false" for a in back)
    # the step's names are its own: the outer h (the loop's result) is another node
    assert nodes["h"]["label"] == "h = loop[0]" and nodes["step_h"]["label"] == "h"


def test_a_report_of_a_loop_draws_the_step_without_numbers(tmp_path, capsys):
    """Numbers on a report's graph are the function's; the step's names (h) would read
    the outer value of the same name, so the step carries none."""
    from gradgen.explain import graph
    from gradgen.cli.show import programs
    from gradgen.pipeline import gradient_statements, loop_steps

    class Numbered(graph.Look):
        def number(self, name):
            return "7"

    program = programs(ROOT / "examples" / "rnn_sequence.py", None, None)[0]
    stmts, _, mapping = gradient_statements(program)
    steps = loop_steps(program)
    dot = graph.draw(program, stmts, mapping, Numbered(ids="g"), steps).source
    inside = dot[dot.index("subgraph cluster_loop1") :]
    outside = dot[: dot.index("subgraph cluster_loop1")]
    assert "= 7" in outside and "= 7" not in inside
    assert 'id="gn-h"' in outside and "id=" not in inside
