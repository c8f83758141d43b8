"""Helpers for the numerical tests: random inputs, central differences, and an independent
reference (HIPS autograd running the very same model source)."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import sys
import types
from pathlib import Path

import numpy as np

from gradgen.frontend.model_file import find_targets, load_model

ROOT = Path(__file__).resolve().parents[2]
# the scripts of examples/ that run a model's generated module, rather than being models
DRIVERS = ("descent", "train_xor", "train_dask")


def import_source(source: str, name: str) -> types.ModuleType:
    """Import generated code from a string, as a module named ``name``."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def import_path(path: Path, name: str | None = None) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def autograd_namespace(path: Path) -> dict:
    """The model file run with ``np`` bound to autograd.numpy: the reference gradients."""
    text = (
        Path(path)
        .read_text()
        .replace("import numpy as np", "import autograd.numpy as np")
        .replace("from numpy import", "from autograd.numpy import")
    )
    namespace: dict = {"__name__": f"reference_{Path(path).stem}"}
    exec(code_of(text, str(path)), namespace)
    return namespace


@functools.lru_cache(maxsize=8)
def code_of(text: str, filename: str):
    """``compile`` of a model file's text, kept for the texts run again (one target at a
    time of a long file)."""
    return compile(text, filename, "exec")


_TARGETS: dict = {}


def targets(path: Path) -> dict:
    """The compile targets of a model file by name. Those of the repository's files are
    loaded once per process for each text of the file: loading runs the model file's
    loop and branch rewrites (most of a second for tests/models/ops.py), and the tests
    ask for a file's targets per case; others (the random programs' files) each time."""
    resolved = Path(path).resolve()
    if ROOT not in resolved.parents:
        return {t.name: t for t in find_targets(load_model(str(path)))}
    key = (str(path), resolved.read_bytes())
    if key not in _TARGETS:
        _TARGETS[key] = {t.name: t for t in find_targets(load_model(str(path)))}
    return _TARGETS[key]


def shape_for(param, sizes: dict) -> tuple:
    return tuple(int(d) if d.is_Integer else sizes[d.name] for d in param.shape)


def random_inputs(
    target, sizes: dict, rng: np.random.Generator, domains: dict | None = None
):
    """float64 arguments; ``domains`` maps a parameter to (low, high) or "nonzero".
    Integer data is drawn as integers: from 0 up to the size of the dimension its domain
    names (``("index", "c")``: an index into an axis of size c), else 0 or 1."""
    args = []
    for p in target.params:
        shape = shape_for(p, sizes)
        domain = (domains or {}).get(p.name)
        if p.integer:
            high = sizes[domain[1]] if domain else 2
            value = rng.integers(0, high, size=shape)
            args.append(int(value) if shape == () else value)
            continue
        if domain == "nonzero":
            value = rng.uniform(0.2, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
        elif domain is not None:
            value = rng.uniform(domain[0], domain[1], shape)
        else:
            value = rng.normal(size=shape)
        args.append(float(value) if shape == () else value)
    return args


def central_difference(f, args: list, index: int, eps: float = 1e-6) -> np.ndarray:
    """d f / d args[index] by central differences, element by element, in float64."""
    x = np.asarray(args[index], dtype=np.float64)
    grad = np.zeros_like(x)
    for pos in itertools.product(*[range(s) for s in x.shape]):
        plus, minus = x.copy(), x.copy()
        plus[pos] += eps
        minus[pos] -= eps
        a, b = list(args), list(args)
        a[index] = plus if x.shape else float(plus)
        b[index] = minus if x.shape else float(minus)
        grad[pos] = (f(*a) - f(*b)) / (2 * eps)
    return grad


def differentiated(target) -> list[int]:
    """The positions of the float parameters: integer data is never differentiated."""
    return [k for k, p in enumerate(target.params) if not p.integer]


def as_tuple(grads, count: int) -> tuple:
    return (grads,) if count == 1 else tuple(grads)


def assert_close(actual, expected, what: str, rtol: float = 1e-6, atol: float = 1e-8):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert (
        actual.shape == expected.shape
    ), f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


sys.path.insert(0, str(ROOT))
