"""Check one model program: compile it with gradgen and compare the generated functions with
the model run by NumPy and by HIPS autograd, at several sets of dimension sizes from one
compile.

``check_program(program, size_sets, modes, seed)`` runs each mode in ``modes`` on every size
set. A mode is a function ``check_<mode>(case)`` registered in ``MODES``; it compares one kind
of generated function with an independent reference and raises AssertionError on a
difference. To check another kind of generated function (say ``f_jvp`` against
``autograd.make_jvp``, or ``f_hvp`` against ``autograd.make_hvp``), write its mode function
beside ``check_grad`` and add it to ``MODES``; ``Case`` carries what a mode needs.

Tolerance. The generated code and the references compute the same mathematical function in
float64 with different operation orders and forms (CSE, reassociation, tanh' written as
1 - tanh**2 where autograd divides by cosh**2), so they differ by rounding: a few ulps per
operation, scaled by the size of the terms being combined, not by the size of the result
(1 - tanh(x)**2 is exactly 0 for large x, while 1/cosh(x)**2 is 1e-80). Inputs are O(1) and
the generator keeps every value within [-100, 100] through a few dozen operations, so rounding
stays below about 1e-12 of max(1, the largest entry); ``RTOL`` allows 1e-9 of that plus 1e-9
of the entry itself. A wrong derivative is off by far more.
"""

from __future__ import annotations

import tempfile
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np

from gradcheck import autograd_namespace, import_source, shape_for, targets
from gradgen.pipeline import compile_file

RTOL = 1e-9
PLAIN = (-1.0, 1.0)  # the default domain of a parameter


@dataclass
class Program:
    """A model file's text and how to call its target: each parameter's domain (default
    ``PLAIN``), the parameters passed as 0-d arrays rather than floats, and ``wrt``."""

    source: str
    name: str = "f"
    domains: dict = field(default_factory=dict)
    zero_dim: tuple = ()
    wrt: list | None = None

    def __repr__(self) -> str:  # hypothesis prints the failing program as a model file
        extras = f"domains={self.domains} wrt={self.wrt} zero_dim={self.zero_dim}"
        return f"Program({self.name!r}, {extras}):\n{self.source}"


@dataclass
class Case:
    """One program at one set of sizes: everything a mode compares."""

    program: Program
    generated: object  # the generated module
    model: object  # the target, run by NumPy
    reference: object  # the target, run by autograd
    params: list  # gradgen.ir.Param, in order
    wrt: list  # indices of the differentiated parameters
    args: list
    rng: np.random.Generator
    sizes: dict

    def what(self, text: str) -> str:
        return f"{self.program.name} at {self.sizes}: {text}"

    def run(self, function: str, *extra):
        """A generated function on the case's arguments. It must not overflow or divide by
        zero where the references compute finite numbers (they are run without that check:
        autograd's tanh' = 1/cosh(x)**2 overflows to the right answer, 0)."""
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return getattr(self.generated, function)(*self.args, *extra)


def _autograd_numpy() -> types.ModuleType:
    """autograd.numpy, except that ``where`` broadcasts its branches to the result's shape
    first: autograd's VJP of ``where`` does not un-broadcast them, so a scalar or row branch
    of a larger ``where`` gets a gradient of the wrong shape (or fails to accumulate).
    """
    module = types.ModuleType("autograd_numpy_reference")
    module.__dict__.update(vars(anp))

    def where(condition, x, y):
        zeros = np.zeros(
            np.broadcast_shapes(np.shape(condition), np.shape(x), np.shape(y))
        )
        return anp.where(
            condition, x + zeros, y + zeros
        )  # + un-broadcasts its gradient

    module.where = where
    return module


def reference_function(path: Path, name: str):
    """The model's target run by autograd (the model file with ``np`` rebound)."""
    namespace = autograd_namespace(path)
    namespace["np"] = _autograd_numpy()
    return namespace[name]


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert (
        actual.shape == expected.shape
    ), f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.all(np.isfinite(expected)), f"{what}: the reference is not finite"
    scale = np.max(np.abs(expected), initial=1.0)
    error = np.abs(actual - expected)
    limit = RTOL * (np.abs(expected) + scale)
    assert np.all(error <= limit), (
        f"{what}: max error {np.max(error):.3g} (largest entry {scale:.3g})\n"
        f"got {actual}\nexpected {expected}"
    )


# --- modes ---------------------------------------------------------------------------------


def check_value(case: Case) -> None:
    """The value function against the model run by NumPy and by autograd."""
    expected = case.model(*case.args)
    assert_close(case.reference(*case.args), expected, case.what("autograd vs NumPy"))
    name = case.program.name
    assert_close(case.run(name), expected, case.what(name))


def _grads(case: Case, function: str, *extra) -> tuple:
    grads = case.run(function, *extra)
    return (grads,) if len(case.wrt) == 1 else tuple(grads)


def check_grad(case: Case) -> None:
    """``f_grad`` and ``f_value_and_grad`` (scalar output) or ``f_vjp`` with a random
    cotangent (array output) against autograd's gradient."""
    name, value = case.program.name, case.model(*case.args)
    if np.ndim(value) == 0 and hasattr(case.generated, f"{name}_grad"):
        expected = autograd.grad(case.reference, tuple(case.wrt))(*case.args)
        got = _grads(case, f"{name}_grad")
        got_value, grads = case.run(f"{name}_value_and_grad")
        assert_close(got_value, value, case.what(f"{name}_value_and_grad value"))
        together = (grads,) if len(case.wrt) == 1 else tuple(grads)
        for a, b in zip(got, together):
            assert_close(a, b, case.what(f"{name}_grad vs {name}_value_and_grad"))
    else:
        cotangent = case.rng.normal(size=np.shape(value))

        def projected(*args):
            return anp.sum(case.reference(*args) * cotangent)

        expected = autograd.grad(projected, tuple(case.wrt))(*case.args)
        got = _grads(case, f"{name}_vjp", cotangent)
    assert len(got) == len(expected), case.what("number of gradients")
    for i, a, b in zip(case.wrt, got, expected):
        assert_close(a, b, case.what(f"d/d{case.params[i].name} vs autograd"))


MODES = {"value": check_value, "grad": check_grad}
DEFAULT_MODES = ("value", "grad")


# --- one program ------------------------------------------------------------------------------


def _arguments(program: Program, params, sizes: dict, rng) -> list:
    args = []
    for p in params:
        lo, hi = program.domains.get(p.name, PLAIN)
        value = rng.uniform(lo, hi, shape_for(p, sizes))
        scalar = value.shape == () and p.name not in program.zero_dim
        args.append(float(value) if scalar else value)
    return args


def check_program(
    program: Program, size_sets: list, modes=DEFAULT_MODES, seed: int = 0
) -> None:
    """Compile ``program`` once; run every mode at every set of sizes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random_model.py"
        path.write_text(program.source)
        source = compile_file(str(path), [program.name], program.wrt)
        generated = import_source(source, "generated_random_model")
        reference = reference_function(path, program.name)
        target = targets(path)[program.name]
    names = [p.name for p in target.params]
    wrt = [names.index(w) for w in program.wrt] if program.wrt else range(len(names))
    rng = np.random.default_rng(seed)
    for sizes in size_sets:
        args = _arguments(program, target.params, sizes, rng)
        case = Case(
            program,
            generated,
            target.fn,
            reference,
            target.params,
            list(wrt),
            args,
            rng,
            sizes,
        )
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # autograd warns when the output does not depend on an input
            warnings.simplefilter("ignore", UserWarning)
            for mode in modes:
                MODES[mode](case)
