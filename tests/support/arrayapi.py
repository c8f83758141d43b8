"""The Array API target's test harness: every target of a model file compiled for NumPy
and for the Array API, run on the same float64 inputs given as NumPy arrays and as
``array_api_strict`` arrays (which refuse anything outside the standard), and the values
and gradients of both compared to 1e-12.

``compare(path, name, sizes, seed, skip, libraries, checkpoint)`` compares one target
(the Array API module compiled from the file's targets but those in ``skip``, its loops
keeping their state every ``checkpoint`` steps if given) on each library of
``libraries`` (NumPy and array_api_strict by default); an assertion names the target,
the library and the result that differ. ``refusal(path, name)`` is the one-line error with
which the Array API target refuses a target, or None.
"""

from __future__ import annotations

import functools

import array_api_strict
import numpy as np

from compiled import compiled
from gradcheck import import_source, random_inputs, targets
from gradgen.codegen.formatting import layout_only_skipped
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


@functools.cache
def real_libraries() -> dict:
    """PyTorch's CPU tensors, JAX's arrays (float64: 64-bit types enabled around each
    conversion and call, not for the whole process) and Dask's arrays in chunks of rows,
    as ``compare`` takes them; imported once per process, at the first call."""
    import dask.array
    import jax
    import torch

    def x64(f):
        def in_x64(*args):
            with jax.enable_x64(True):
                return f(*args)

        return in_x64

    def rows(a):  # about two chunks along the first axis
        return dask.array.from_array(a, chunks=(-(-a.shape[0] // 2),) + a.shape[1:])

    return {
        "torch": torch.asarray,
        "jax": (x64(jax.numpy.asarray), x64),
        "dask": lambda a: rows(a) if a.ndim else dask.array.from_array(a),
    }


def jitted() -> dict:
    """JAX's arrays with the generated function under ``jax.jit``, as ``compare`` takes
    them."""
    import jax

    convert, x64 = real_libraries()["jax"]
    return {"jax.jit": (convert, lambda f: x64(jax.jit(f)))}


def module(path, target: str, skip=(), checkpoint: int = 0):
    """The module gradgen generates for ``path`` and ``target`` (without the targets in
    ``skip``; its loops keeping their state every ``checkpoint`` steps if given),
    imported (once)."""
    if target == "numpy" and not checkpoint:  # shared with the other tests
        return compiled(path)
    key = (str(path), target, tuple(sorted(skip)), checkpoint)
    if key not in _MODULES:
        functions = [n for n in targets(path) if n not in skip] if skip else None
        with layout_only_skipped():  # imported, not read (support/compiled.py)
            text = compile_file(
                str(path), functions, target=target, checkpoint=checkpoint
            )
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
    """A result of either module as a NumPy float64 array: Dask's computed, the other
    libraries' (array_api_strict, PyTorch, JAX) through DLPack."""
    if hasattr(value, "compute"):  # a Dask array
        value = value.compute()
    if not isinstance(value, (float, np.ndarray, np.generic)):
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


def compare(
    path,
    name: str,
    sizes: dict,
    seed: int = 0,
    skip=(),
    libraries=None,
    checkpoint: int = 0,
) -> None:
    """The Array API module's results on each library equal the NumPy module's.
    ``libraries`` maps a library's name to the conversion of a NumPy array into one of
    its arrays (``LIBRARIES`` by default), or to (conversion, wrapper of a generated
    function), such as ``jax.jit``. With ``checkpoint``, both modules keep their loops'
    state every ``checkpoint`` steps."""
    numpy_module = module(path, "numpy", checkpoint=checkpoint)
    array_module = module(path, "array-api", skip, checkpoint)
    for function, args in _calls(path, name, sizes, seed):
        expected = flat(getattr(numpy_module, function)(*args))
        for library, convert in (libraries or LIBRARIES).items():
            convert, wrap = convert if isinstance(convert, tuple) else (convert, None)
            called = getattr(array_module, function)
            called = wrap(called) if wrap else called
            got = flat(called(*[convert(a) for a in args]))
            assert len(got) == len(
                expected
            ), f"{function} on {library}: {len(got)} results"
            for k, (g, e) in enumerate(zip(got, expected)):
                what = f"{function} on {library}, result {k}"
                g, e = as_numpy(g), as_numpy(e)
                assert g.shape == e.shape, f"{what}: shape {g.shape} != {e.shape}"
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=what)
