"""Forward mode and second order: f_jvp, f_hvp, f_hessian and f_jacobian on every example
and every operation target, against HIPS autograd running the same model source (central
differences where autograd cannot run it), at two sets of sizes from one compile (the
``modes_module`` fixture, shared by every test of a model file)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from compiled import compiled
from gradcheck import ROOT, autograd_namespace, differentiated, random_inputs, targets
from modecheck import (
    Flat,
    hessian_matrix,
    jacobian_matrix,
    numeric_jacobian,
    reference,
)
from test_examples import DOMAINS as EXAMPLE_DOMAINS
from test_examples import EVERY_TARGET, ROLLED
from test_examples import SIZES as EXAMPLE_SIZES
from test_gradients import FILES, SIZES

MODELS = ROOT / "tests" / "models"
EXAMPLES = ROOT / "examples"
# gradgen.functions are plain NumPy: autograd cannot trace through them.
NUMERIC_ONLY = {"helpers_elementwise", "helpers_rows"}
SAFE = (0.1, 0.9)  # numerics.py's targets take logs and roots; its own test goes wide
RTOL, ATOL = 1e-8, 1e-10


@pytest.fixture(scope="session")
def modes_module(request):
    """The model file ``request.param`` compiled with every mode (tests name the file by
    indirect parametrization, so pytest runs the tests of one file together)."""
    return compiled(request.param, modes="all")


@functools.lru_cache(maxsize=None)
def reference_model(path: Path) -> dict:
    return autograd_namespace(path)


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def _direction(flat: Flat, count: int, rng):
    """A random direction: one array per differentiated argument (or the array itself)."""
    u = rng.normal(size=flat.x.shape)
    parts = flat.unpack(u)
    return u, (parts[0] if count == 1 else tuple(parts))


def _of_floats(fn, args: list, wrt: list):
    """``fn`` as a function of the float arguments (positions ``wrt``) only: integer
    data is held at its value."""

    def of_floats(*floats):
        full = list(args)
        for i, value in zip(wrt, floats):
            full[i] = value
        return fn(*full)

    return of_floats


def _references(module, path: Path, name: str, model, args, wrt):
    """The Jacobian (and Hessian) to compare with, and their tolerances: autograd's, or
    central differences where autograd cannot run the model. Of the float arguments."""
    target = targets(path)[name]
    floats = [args[i] for i in wrt]
    if name in target.model.namespace.get("NO_AUTOGRAD", set()) | NUMERIC_ONLY:
        grad = getattr(module, f"{name}_grad", None)
        grad = None if grad is None else _of_floats(grad, args, wrt)
        hess = None if grad is None else numeric_jacobian(grad, floats)
        jac = numeric_jacobian(_of_floats(model, args, wrt), floats)
        return jac, hess, dict(rtol=1e-5, atol=1e-6)
    fn = _of_floats(reference_model(path)[name], args, wrt)
    jac, hess = reference(fn, floats)
    return jac, hess, dict(rtol=RTOL, atol=ATOL)


def check_modes(module, path: Path, name: str, args: list, rng) -> None:
    target = targets(path)[name]
    model = target.model.namespace.get("REFERENCE", {}).get(name, target.fn)
    wrt = differentiated(target)
    floats = [args[i] for i in wrt]
    flat, count = Flat(floats), len(floats)
    jac, hess, tol = _references(module, path, name, model, args, wrt)
    out = np.asarray(model(*args))
    u, tangents = _direction(flat, count, rng)
    value, value_dot = getattr(module, f"{name}_jvp")(*args, tangents)
    _close(value, out, f"{name}_jvp value")
    assert np.shape(value_dot) == out.shape, f"{name}_jvp: tangent shape"
    np.testing.assert_allclose(
        np.ravel(value_dot), jac @ u, **tol, err_msg=f"{name}_jvp vs J u"
    )
    if out.shape == ():
        hvp = getattr(module, f"{name}_hvp")(*args, tangents)
        for part, arg in zip((hvp,) if count == 1 else hvp, floats):
            assert np.shape(part) == np.shape(arg), f"{name}_hvp: shape"
        np.testing.assert_allclose(
            flat.pack(hvp, count), hess @ u, **tol, err_msg=f"{name}_hvp vs H u"
        )
        blocks = getattr(module, f"{name}_hessian")(*args)
        matrix = hessian_matrix(blocks, flat.sizes)
        np.testing.assert_allclose(matrix, hess, **tol, err_msg=f"{name}_hessian")
        np.testing.assert_allclose(matrix, matrix.T, rtol=1e-12, atol=1e-14)
        first = blocks if count == 1 else blocks[0][-1]
        assert np.shape(first) == np.shape(floats[0]) + np.shape(floats[-1])
    else:
        blocks = getattr(module, f"{name}_jacobian")(*args)
        matrix = jacobian_matrix(blocks, out.size, flat.sizes)
        np.testing.assert_allclose(matrix, jac, **tol, err_msg=f"{name}_jacobian")
        first = blocks if count == 1 else blocks[0]
        assert np.shape(first) == out.shape + np.shape(floats[0])


MODEL_TARGETS = [
    (MODELS / f, name) for f in FILES + ["numerics.py"] for name in targets(MODELS / f)
]


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize(
    "modes_module,path,name",
    [(path, path, name) for path, name in MODEL_TARGETS],
    ids=[f"{path.name}:{name}" for path, name in MODEL_TARGETS],
    indirect=["modes_module"],
)
def test_every_model_target(modes_module, path, name, sizes):
    target = targets(path)[name]
    rng = np.random.default_rng(len(name))
    domains = target.model.namespace.get("DOMAINS", {}).get(name)
    if path.name == "numerics.py":
        domains = {p.name: SAFE for p in target.params}
    args = random_inputs(target, sizes, rng, domains)
    check_modes(modes_module, path, name, args, rng)


@pytest.mark.parametrize("sizes", EXAMPLE_SIZES, ids=["small", "larger"])
@pytest.mark.parametrize(
    "modes_module,stem,name",
    [
        (EXAMPLES / f"{stem}.py", stem, name)
        for stem, name in EVERY_TARGET
        if stem not in ROLLED
    ],
    ids=[f"{stem}-{name}" for stem, name in EVERY_TARGET if stem not in ROLLED],
    indirect=["modes_module"],
)
def test_every_example_target(modes_module, stem, name, sizes):
    path = EXAMPLES / f"{stem}.py"
    rng = np.random.default_rng(7)
    args = random_inputs(targets(path)[name], sizes, rng, EXAMPLE_DOMAINS.get(stem))
    check_modes(modes_module, path, name, args, rng)
