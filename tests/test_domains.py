"""``gradgen check --domain`` and ``--inputs``, and ``check_grads(domains=, inputs=)``:
a model with ``np.log(x)`` passes with ``--domain x=positive`` and fails cleanly without;
each domain draws what it says; bad domains and inputs are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradgen import Array, GradgenError
from gradgen.cli.commands import main
from gradgen.domains import parse_domains
from gradgen.testing import check_grads

MODEL = """\
import numpy as np
from gradgen import Array


def nll(x: Array["n"], p: Array["n"]) -> float:
    return -np.sum(np.log(x) * p + np.log(1 - p))
"""


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nll.py").write_text(MODEL)
    return "nll.py"


def test_a_log_model_passes_in_its_domain_and_fails_cleanly_outside(model, capsys):
    assert main(["check", model]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nll.py:5: error: nll is not finite at the random inputs")
    assert "--domain x=positive" in err and len(err.splitlines()) == 1
    assert main(["check", model, "--domain", "x=positive,p=0..1"]) == 0
    out = capsys.readouterr().out
    assert "nll(x, p) at n=3, x positive, p in 0..1, seed 0" in out
    assert "ok: 2 parameters" in out
    assert main(["check", model, "--domain", "x=positive", "--domain", "p=0..1"]) == 0


def test_inputs_from_an_npz_file_fix_the_sizes(model, tmp_path, capsys):
    np.savez(tmp_path / "v.npz", x=np.arange(1.0, 6.0), p=np.linspace(0.1, 0.9, 5))
    assert main(["check", model, "--inputs", "v.npz"]) == 0
    assert "nll(x, p) at n=5, x, p given, seed 0" in capsys.readouterr().out
    np.savez(tmp_path / "half.npz", x=np.arange(1.0, 5.0))
    assert main(["check", model, "--inputs", "half.npz", "--domain", "p=0.2..0.8"]) == 0
    assert "at n=4, p in 0.2..0.8, x given" in capsys.readouterr().out
    np.savez(tmp_path / "bad.npz", x=np.ones(4), p=np.full(3, 0.5))
    assert main(["check", model, "--inputs", "bad.npz"]) == 2
    err = capsys.readouterr().err
    assert "--inputs gives p the shape (3,); expected (n,), n = 4 (from x)" in err
    np.savez(tmp_path / "other.npz", q=np.ones(4))
    assert main(["check", model, "--inputs", "other.npz"]) == 2
    assert "--inputs names 'q', which is not a parameter" in capsys.readouterr().err
    assert main(["check", model, "--inputs", "v.npz", "--dims", "n=3"]) == 2
    assert "but the arrays of --inputs have n = 5" in capsys.readouterr().err
    assert main(["check", model, "--inputs", "none.npz"]) == 2
    assert "none.npz: error: no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "domain, message",
    [
        ("x=sometimes", "unknown domain 'sometimes'"),
        ("x", "cannot read 'x'"),
        ("x=2..1", "LOW..HIGH needs LOW < HIGH"),
        ("x=int:0.5..3", "the ends of an int range are integers"),
        ("x=positive,x=0..1", "--domain gives x twice"),
        ("k=positive", "--domain names 'k', which is not a parameter of nll(x, p)"),
        ("x=int:0..9", 'x is an array of floats, Array["n"]; integer ranges are for'),
    ],
)
def test_bad_domains_are_one_line_errors(model, capsys, domain, message):
    assert main(["check", model, "--domain", domain]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_each_domain_draws_what_it_says():
    rng = np.random.default_rng(0)
    d = parse_domains(["a=positive,b=negative", "c=nonzero", "e=-2..3", "k=int:0..9"])
    assert (d["a"].draw(1000, rng) > 0).all() and (d["b"].draw(1000, rng) < 0).all()
    c = d["c"].draw(1000, rng)
    assert np.abs(c).min() > 0.05 and (c > 0).any() and (c < 0).any()
    e = d["e"].draw(1000, rng)
    assert e.min() >= -1.75 and e.max() <= 2.75  # the middle 90% of -2..3
    k = d["k"].draw(1000, rng)
    assert k.dtype.kind == "i" and set(np.unique(k)) == set(range(10))
    assert str(d["e"]) == "-2..3" and str(d["k"]) == "int:0..9"


def entropy(p: Array["n"]) -> float:
    return -np.sum(p * np.log(p) + (1 - p) * np.log(1 - p))


def test_check_grads_takes_domains_and_inputs():
    with pytest.raises(GradgenError, match="not finite at the random inputs"):
        check_grads(entropy)
    report = check_grads(entropy, domains={"p": "0..1"}, modes="hvp")
    assert report.ok and report.at == "n=3, p in 0..1"
    report = check_grads(entropy, domains={"p": (0.3, 0.7)}, dims={"n": 6})
    assert report.shapes == [(6,)]
    report = check_grads(entropy, inputs={"p": np.array([0.2, 0.5, 0.6, 0.9])})
    assert report.shapes == [(4,)] and report.at == "n=4, p given"
