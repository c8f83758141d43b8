"""Text from a model never runs from, or breaks, the generated module.

Source lines go into docstrings and ``# Grad of:`` comments, file names and the command into
the module docstring: each model here carries a hostile string (triple quotes of both kinds,
backslashes, ``\\N``, escaped and literal control characters) in a statement, or in its file
name, and the generated module (and the test ``--emit-test`` writes) is imported and called.
A payload that would run creates a marker file; the test fails if it exists.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gradcheck import central_difference, import_path
from gradgen.codegen import safe_text
from gradgen.cli.commands import main

MARKER = "pwned"
PAYLOAD = f'__import__("pathlib").Path("{MARKER}").touch()'
PAYLOAD_1 = PAYLOAD.replace('"', "'")  # for a literal in double quotes

# Literals as they appear in the model's source; each evaluates to a string whose length
# scales the model (so the value and gradient check that it was compiled as written).
LITERALS = [
    f'\'""";{PAYLOAD};"""\'',  # closes a """ docstring
    f"\"''';{PAYLOAD_1};'''\"",  # closes a ''' docstring
    f'\'"""\\n{PAYLOAD}\\n"""\'',  # closes it, with escaped newlines
    r'r"\N"',  # \N is a syntax error in a plain string
    r'r"\N{BULLET}\u2028\x00\\"',  # escapes that mean something in a docstring
    r'"trailing quote\""',
    r"'a\\'",  # a backslash before the closing quotes
    '"\u2028 \x0c \x1b \u0085"',  # characters some tools read as line breaks
    '\'ends with quotes"""\' \'""""\'',  # two literals, joined
]


def _model(literal: str) -> str:
    return (
        "import numpy as np\n"
        "from gradgen import Array\n\n\n"
        'def f(x: Array["n"]) -> float:\n'
        f"    h = x * len({literal})\n"
        "    return np.sum(h ** 2)\n"
    )


def _check_module(path, model_namespace):
    module = import_path(path, f"hostile_{abs(hash(str(path)))}")
    x = np.array([0.5, -1.0, 2.0])
    value, grad = module.f_value_and_grad(x)
    assert value == pytest.approx(model_namespace["f"](x), rel=1e-12)
    np.testing.assert_allclose(
        grad, central_difference(module.f, [x], 0), rtol=1e-6, atol=1e-8
    )
    return module


@pytest.mark.parametrize("literal", LITERALS, ids=range(len(LITERALS)))
def test_hostile_strings_in_a_statement_stay_text(tmp_path, monkeypatch, literal):
    monkeypatch.chdir(tmp_path)
    source = _model(literal)
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    assert main(["compile", "model.py", "-o", "gen.py", "--emit-test"]) == 0
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    module = _check_module(tmp_path / "gen.py", namespace)
    assert not (tmp_path / MARKER).exists()
    # the statement is shown as written: in the derivation and in the comment
    shown = " ".join(source.splitlines()[5].split())
    assert shown in module.f_value_and_grad.__doc__
    test = import_path(tmp_path / "test_gen.py", "hostile_emitted_test")
    assert test.TARGETS and not (tmp_path / MARKER).exists()


HOSTILE_NAMES = [
    'm""";' + PAYLOAD.replace("/", "") + ';"""m.py',
    "m'''x'''.py",
    "back\\slash \\N.py",
    'quote" and space.py',
]


@pytest.mark.skipif(sys.platform == "win32", reason="file names with quotes")
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_file_names_stay_text(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    source = _model('"abc"')
    (tmp_path / name).write_text(source, encoding="utf-8")
    assert main(["compile", name, "-o", "gen.py", "--emit-test"]) == 0
    namespace: dict = {}
    exec(compile(source, name, "exec"), namespace)
    module = _check_module(tmp_path / "gen.py", namespace)
    assert name in module.__doc__
    test = import_path(tmp_path / "test_gen.py", "hostile_name_test")
    assert name in test.__doc__
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(
    "text", ['"""', "'''", "\\", '"', "a\nb", "\x00\r\u2028", "\\N{x}", '""""']
)
def test_escaped_text_reads_back_unchanged(text):
    doc = safe_text.docstring(text)
    assert eval(f'"""{doc}"""') == text  # noqa: S307 - the point of the test
    line = safe_text.comment(text)
    assert len(f"# {line}".splitlines()) == 1 and "\n" not in line and "\r" not in line


def test_a_statement_over_several_lines_with_quotes_stays_text(tmp_path, monkeypatch):
    """Real newlines inside a triple-quoted literal, with the other kind of triple quotes
    and a payload on a line of its own: the comment and docstring stay text."""
    monkeypatch.chdir(tmp_path)
    literal = (
        '"""line one\n""" + \'\'\'\n"""; ' + PAYLOAD + "; \"\"\"\n\\N{BULLET}\n'''"
    )
    source = _model(literal)
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    assert main(["compile", "model.py", "-o", "gen.py", "--emit-test"]) == 0
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    _check_module(tmp_path / "gen.py", namespace)
    test = import_path(tmp_path / "test_gen.py", "hostile_lines_test")
    assert test.TARGETS and not (tmp_path / MARKER).exists()
