"""The Array API target's test harness: every target of a model file compiled for NumPy
and for the Array API, run on the same float64 inputs given as NumPy arrays and as
``array_api_strict`` arrays (which refuse anything outside the standard), and the values
and gradients of both compared to 1e-12.

``compare(path, name, sizes, seed, skip)`` compares one target (the Array API module
compiled from the file's targets but those in ``skip``); an assertion names the target,
the library and the result that differ. ``refusal(path, name)`` is the one-line error with
which the Array API target refuses a target, or None.
"""

from __future__ import annotations

import array_api_strict
import numpy as np

from compiled import compiled
from gradcheck import import_source, random_inputs, targets
from gradgen.errors import GradgenError
from gradgen.pipeline import compile_file

# Python numbers as arguments of the standard's functions are the 2024.12 revision's
array_api_strict.set_array_api_strict_flags(api_version="2024.12")

LIBRARIES = {
    "numpy": np.asarray,  # a float parameter as a 0-d array too
    "array_api_strict": lambda a: array_api_strict.asarray(
        a, dtype=array_api_strict.float64
    ),
}
_MODULES: dict = {}


def module(path, target: str, skip=()):
    """The module gradgen generates for ``path`` and ``target`` (without the targets in
    ``skip``), imported (once)."""
    if target == "numpy":  # shared with the other tests of the process
        return compiled(path)
    key = (str(path), target, tuple(sorted(skip)))
    if key not in _MODULES:
        functions = [n for n in targets(path) if n not in skip] if skip else None
        text = compile_file(str(path), functions, target=target)
        _MODULES[key] = import_source(
            text, f"{target.replace('-', '_')}_{len(_MODULES)}"
        )
    return _MODULES[key]


def refusal(path, name: str) -> str | None:
    try:
        compile_file(str(path), [name], target="array-api")
    except GradgenError as exc:
        return str(exc)
    return None


def as_numpy(value) -> np.ndarray:
    """A result of either module as a NumPy float64 array."""
    if not isinstance(value, (float, np.ndarray, np.generic)):  # array_api_strict's
        return np.from_dlpack(value)
    return np.asarray(value, dtype=np.float64)


def flat(result) -> list:
    if isinstance(result, (tuple, list)):
        return [v for item in result for v in flat(item)]
    return [result]


def _calls(path, name: str, sizes: dict, seed: int) -> list[tuple[str, list]]:
    """(function, float64 NumPy arguments) to compare: the value, and the value and
    gradient (for an array output the VJP with a random cotangent)."""
    target = targets(path)[name]
    rng = np.random.default_rng(seed)
    domains = target.model.namespace.get("DOMAINS", {}).get(name)
    args = [
        np.asarray(a, dtype=np.float64)
        for a in random_inputs(target, sizes, rng, domains)
    ]
    if not target.returns_array:
        return [(name, args), (f"{name}_value_and_grad", args)]
    value = np.asarray(getattr(module(path, "numpy"), name)(*args))
    cotangent = rng.normal(size=value.shape)
    return [(name, args), (f"{name}_vjp", args + [cotangent])]


def compare(path, name: str, sizes: dict, seed: int = 0, skip=()) -> None:
    """The Array API module's results on each library equal the NumPy module's."""
    numpy_module, array_module = module(path, "numpy"), module(path, "array-api", skip)
    for function, args in _calls(path, name, sizes, seed):
        expected = flat(getattr(numpy_module, function)(*args))
        for library, convert in LIBRARIES.items():
            got = flat(getattr(array_module, function)(*[convert(a) for a in args]))
            assert len(got) == len(
                expected
            ), f"{function} on {library}: {len(got)} results"
            for k, (g, e) in enumerate(zip(got, expected)):
                what = f"{function} on {library}, result {k}"
                g, e = as_numpy(g), as_numpy(e)
                assert g.shape == e.shape, f"{what}: shape {g.shape} != {e.shape}"
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=what)
