"""Forward mode and second order: f_jvp, f_hvp, f_hessian and f_jacobian on every example
and every operation target, against HIPS autograd running the same model source (central
differences where autograd cannot run it), at two sets of sizes from one compile."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from gradcheck import ROOT, import_source, random_inputs, targets, autograd_namespace
from gradgen.pipeline import compile_file
from modecheck import (
    Flat,
    hessian_matrix,
    jacobian_matrix,
    numeric_jacobian,
    reference,
)
from test_gradients import DOMAINS, NO_AUTOGRAD, SIZES

OPS = ROOT / "tests" / "models" / "ops.py"
EXAMPLES = {
    "xor": [{"n": 4}, {"n": 7}],
    "deep": [{"n": 3, "d": 2, "k": 2, "m": 4}, {"n": 5, "d": 3, "k": 1, "m": 2}],
    "sigmoid": [{"n": 3}, {"n": 6}],
    "elementary": [{}],
    "gate": [{}],
    "neuron": [{}],
    "bowl": [{}],
}
RTOL, ATOL = 1e-8, 1e-10


@functools.lru_cache(maxsize=None)
def compiled(path: Path):
    return import_source(compile_file(str(path), modes="all"), f"modes_{path.stem}")


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


def check_modes(path: Path, name: str, args: list, rng) -> None:
    module, target = compiled(path), targets(path)[name]
    model = target.fn
    flat, count = Flat(args), len(args)
    if name in NO_AUTOGRAD and path == OPS:  # central differences instead
        jac = numeric_jacobian(model, args)
        grad = getattr(module, f"{name}_grad", None)
        hess = None if grad is None else numeric_jacobian(grad, args)
        tol = dict(rtol=1e-5, atol=1e-6)
    else:
        jac, hess = reference(reference_model(path)[name], args)
        tol = dict(rtol=RTOL, atol=ATOL)
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
        for part, arg in zip((hvp,) if count == 1 else hvp, args):
            assert np.shape(part) == np.shape(arg), f"{name}_hvp: shape"
        np.testing.assert_allclose(
            flat.pack(hvp, count), hess @ u, **tol, err_msg=f"{name}_hvp vs H u"
        )
        blocks = getattr(module, f"{name}_hessian")(*args)
        matrix = hessian_matrix(blocks, flat.sizes)
        np.testing.assert_allclose(matrix, hess, **tol, err_msg=f"{name}_hessian")
        np.testing.assert_allclose(matrix, matrix.T, rtol=1e-12, atol=1e-14)
        first = blocks if count == 1 else blocks[0][-1]
        assert np.shape(first) == np.shape(args[0]) + np.shape(args[-1])
    else:
        blocks = getattr(module, f"{name}_jacobian")(*args)
        matrix = jacobian_matrix(blocks, out.size, flat.sizes)
        np.testing.assert_allclose(matrix, jac, **tol, err_msg=f"{name}_jacobian")
        first = blocks if count == 1 else blocks[0]
        assert np.shape(first) == out.shape + np.shape(args[0])


@pytest.mark.parametrize("sizes", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize("name", sorted(targets(OPS)))
def test_every_operation(name, sizes):
    rng = np.random.default_rng(len(name))
    args = random_inputs(targets(OPS)[name], sizes, rng, DOMAINS.get(name))
    check_modes(OPS, name, args, rng)


@pytest.mark.parametrize(
    "stem,sizes",
    [(stem, sizes) for stem, sets in EXAMPLES.items() for sizes in sets],
    ids=lambda v: (
        v if isinstance(v, str) else ",".join(f"{k}={n}" for k, n in v.items())
    ),
)
def test_every_example(stem, sizes):
    path = ROOT / "examples" / f"{stem}.py"
    for name, target in targets(path).items():
        rng = np.random.default_rng(7)
        check_modes(path, name, random_inputs(target, sizes, rng), rng)
