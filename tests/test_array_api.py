"""``--target array-api``: the generated module gives, on NumPy arrays, on
``array_api_strict`` arrays (which refuse anything outside the standard), on PyTorch's
CPU tensors, on JAX's arrays and on Dask's arrays chunked by rows (float64), the values
and gradients of the NumPy target to 1e-12.

By default every example (the loops that stay loops too, with and without checkpoints)
runs on every library, every per-op model on NumPy and array_api_strict and a sample of
them (``MODEL_SAMPLE``) on PyTorch, JAX and Dask, and a sample of both under
``jax.jit`` (``JITTED``). ``GRADGEN_ALL_LIBRARIES=1`` runs the full cross product: every
per-op model on every library, every example and the sample of models under ``jax.jit``.
What a library lacks of the standard is listed in ``GAPS`` (and checked to fail there);
integer data is refused with one line at the model's file:line.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import array_api_strict
import numpy as np
import pytest

import gradgen
from arrayapi import (
    LIBRARIES,
    as_numpy,
    compare,
    flat,
    jitted,
    real_libraries,
    refusal,
)
from gradcheck import import_source, targets
from gradgen import Array, ops
from gradgen.cli.commands import main
from gradgen.codegen.formatting import layout_only_skipped
from gradgen.errors import GradgenError
from gradgen.pipeline import compile_file

ROOT = Path(__file__).resolve().parents[1]
# Every per-op model on every library, every example under jax.jit (minutes on 2 cores)
ALL_LIBRARIES = os.environ.get("GRADGEN_ALL_LIBRARIES", "0") not in ("", "0")
# the model files of examples/ (those gradgen compile examples/ writes to generated/)
EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").glob("*.py")
    if (ROOT / "generated" / p.name).exists()
)
SIZES = {"n": 4, "d": 3, "k": 2, "m": 3, "h": 5, "c": 3, "T": 3, "t": 3}
# (model file, target, checkpoint): the loops of the sequence examples also keep their
# state every 2 steps (--checkpoint 2), the backward pass recomputing the rest
EXAMPLE_CASES = [(p, name, 0) for p in EXAMPLES for name in targets(p)] + [
    (ROOT / "examples" / f"{stem}.py", "loss", 2) for stem in ["lstm", "rnn_sequence"]
]
MODELS = [ROOT / "tests" / "models" / f for f in ("ops.py", "arrays.py", "branches.py")]
MODEL_CASES = [(p, name) for p in MODELS for name in targets(p)]
# The per-op models that run on PyTorch, JAX and Dask by default: contractions, writes
# into arrays, joins and reshapes, indexing (reversed slices too), linear algebra,
# reductions, branches
MODEL_SAMPLE = [
    "einsum_forms",
    "batched_matmul",
    "softmax_forms",
    "var_std",
    "cumprod_axes",
    "reshapes",
    "concatenate",
    "fixed_slices",  # x[::-2]: PyTorch takes no negative step
    "rearranged",  # np.flip, np.rot90
    "write_accumulate",
    "write_broadcast",
    "static_condition",
    "piecewise_array",
    "linalg_solve_inv",
]
# What a library lacks of the standard, by target: target -> (library, what it lacks)
GAPS: dict[str, tuple[str, str]] = {
    **{
        name: ("dask", "dask.array.linalg lacks it, or wants square chunks")
        for name in [
            "linalg_solve_inv",  # lu: square chunks only
            "linalg_cholesky",  # square chunks only
            "linalg_det",  # no slogdet
            "linalg_eigh",  # no eigvalsh
            "linalg_norms",  # svd(full_matrices=True)
            "linalg_norms_more",
            "linalg_svd",
            "linalg_pinv",  # no pinv
        ]
    },
}
# What runs on a library in principle but takes minutes there: (model file, library)
SLOW = {
    # 1000 steps, one after the other: Dask adds a layer to the graph for every
    # operation of every step; the loops of a few steps (lstm, rnn_sequence) run on Dask
    ("euler", "dask"),
    # under jax.jit the trace unrolls the 1000 steps, and XLA compiles them for minutes
    ("euler", "jax.jit"),
}
# Under jax.jit of the generated functions: the entry check traces (it reads shapes and
# dtypes only), writes into arrays, contractions and loops (unrolled by the trace) too
JITTED = [
    ("examples/xor.py", "loss"),
    ("examples/rnn_sequence.py", "loss"),
    ("tests/models/ops.py", "einsum_forms"),
    ("tests/models/arrays.py", "write_accumulate"),
]
if ALL_LIBRARIES:
    JITTED += [
        (f"examples/{p.name}", name)
        for p, name, checkpoint in EXAMPLE_CASES
        if not checkpoint
        and not any(q.integer for q in targets(p)[name].params)
        and (p.stem, "jax.jit") not in SLOW
        and (f"examples/{p.name}", name) not in JITTED
    ] + [
        (f"tests/models/{p.name}", name)
        for p, name in MODEL_CASES
        if name in MODEL_SAMPLE and (f"tests/models/{p.name}", name) not in JITTED
    ]


def _libraries(path: Path, name: str, real: bool = True) -> dict:
    """NumPy and array_api_strict, and with ``real`` PyTorch, JAX and Dask but the
    library a target's operation is missing from (``GAPS``) or takes minutes on
    (``SLOW``)."""
    if not real:
        return dict(LIBRARIES)
    lacking = {GAPS.get(name, ("",))[0]}
    lacking |= {library for stem, library in SLOW if stem == path.stem}
    reals = {k: v for k, v in real_libraries().items() if k not in lacking}
    return {**LIBRARIES, **reals}


def _case_id(case) -> str:
    path, name, checkpoint = case
    return f"{path.stem}:{name}" + (f":checkpoint{checkpoint}" if checkpoint else "")


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=_case_id)
def test_example(case):
    path, name, checkpoint = case
    if any(p.integer for p in targets(path)[name].params):
        message = refusal(path, name)
        assert re.fullmatch(
            rf"{re.escape(str(path))}:\d+: error: integer data \(\w+(, \w+)*\) has no "
            r"Array API form in gradgen yet \(compile without --target array-api\)",
            message,
        ), message
        return
    libraries = _libraries(path, name)
    compare(path, name, _sizes(path, name), libraries=libraries, checkpoint=checkpoint)


def _sizes(path, name) -> dict:
    """A size for every dimension name of the target (3 unless SIZES says)."""
    target = targets(path)[name]
    names = {d.name for p in target.params for d in p.shape if not d.is_Integer}
    return {n: SIZES.get(n, 3) for n in names}


# Per-op models refused on this target, and the refusal's text before "has no Array API
# form in gradgen yet (...compile without --target array-api)"
REFUSED = {
    **dict.fromkeys(
        ["sort_vector", "sort_axes", "argsort_order", "constant_mask_index"],
        r"indexing by integer arrays \(.*\)",
    ),
    "reversed_slice_bounds": r"the reversed slice \[:1:-2\] of an axis of size n "
    r"\(written through, or a read whose gradient is\)",
}


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: f"{c[0].stem}:{c[1]}")
def test_op_model(case):
    path, name = case
    if name in REFUSED:
        message = refusal(path, name)
        assert re.fullmatch(
            rf"{re.escape(str(path))}:\d+: error: {REFUSED[name]} has no Array API "
            r"form in gradgen yet \((.*, or )?compile without --target array-api\)",
            message,
        ), message
        return
    libraries = _libraries(path, name, real=ALL_LIBRARIES or name in MODEL_SAMPLE)
    compare(path, name, _sizes(path, name), len(name), _skip(path), libraries)


def _skip(path) -> list:
    return sorted(set(REFUSED) & set(targets(path)))


def test_the_samples_name_targets():
    names = [name for _, name in MODEL_CASES]
    assert [n for n in MODEL_SAMPLE + list(GAPS) if n not in names] == []
    assert [c for c in JITTED if c[1] not in targets(ROOT / c[0])] == []


@pytest.mark.parametrize("case", JITTED, ids=lambda c: f"{Path(c[0]).stem}:{c[1]}")
def test_under_jax_jit(case):
    path, name = ROOT / case[0], case[1]
    compare(path, name, _sizes(path, name), len(name), _skip(path), jitted())


@pytest.mark.parametrize("name", sorted(GAPS))
def test_a_gap_of_a_library_is_the_library_s(name):
    """What GAPS excuses fails on that library alone, and with the library's error (not
    gradgen's): the day the library has it, this test says to take it out of GAPS."""
    path = next(p for p, n in MODEL_CASES if n == name)
    library, why = GAPS[name]
    with pytest.raises((ValueError, AttributeError, NotImplementedError)) as error:
        compare(
            path,
            name,
            _sizes(path, name),
            seed=len(name),
            skip=_skip(path),
            libraries={library: real_libraries()[library]},
        )
    assert "gradgen" not in str(error.value) and "1e-12" not in str(error.value)


# --- slices of negative step, which PyTorch refuses: reversed axes instead -------------
def _slices(size: int) -> list[slice]:
    """Every slice of an axis of ``size`` with bounds omitted or from -size - 1 to size
    (outside the axis too: NumPy clips them), of steps -1 to -4, 2 and omitted."""
    bounds = [None, *range(-size - 1, size + 1)]
    steps = [None, 2, -1, -2, -3, -4]
    return [slice(a, b, c) for a in bounds for b in bounds for c in steps]


@pytest.mark.parametrize("size", range(6))
def test_a_read_of_negative_step_is_a_slice_of_the_reversed_axis(size):
    """``x[a:b:-s]`` is printed ``xp.flip(x, axis=k)[a':b':s]``: the same elements in the
    same order, for every slice (``ops.reversed_first``); bounds inside the axis (which
    the standard takes) stay inside it, and no step is negative."""
    x = np.arange(2.0 * size * 3).reshape(2, size, 3)
    for i, s in enumerate(_slices(size)):
        # every slice after an integer; every third beside other axes and new ones
        others = [
            (None, slice(None), s, None, 2),
            (slice(None, None, -1), s, None),
            (slice(0, None, -2), s, -1),
        ]
        for key in [(1, s)] + others[i % 3 : i % 3 + 1]:
            turned, axes = ops.reversed_first(ops.encode_key(key))
            entries = ops.decode_key(turned)
            got = np.flip(x, axis=tuple(axes))[entries]
            assert np.array_equal(got, x[key]), (key, entries)
            sizes = iter(x.shape)
            for k, t in zip(key, entries, strict=True):
                n = None if k is None else next(sizes)
                if not isinstance(k, slice):
                    continue
                assert t.step is None or t.step > 0, (key, entries)
                if all(-n <= b < n for b in (k.start, k.stop) if b is not None):
                    bounds = [b for b in (t.start, t.stop) if b is not None]
                    assert all(-n <= b <= n for b in bounds), (key, entries)


@pytest.mark.parametrize("size", range(6))
def test_a_write_of_negative_step_is_a_write_of_the_reversed_value(size):
    """``dx[a:b:-s] = v`` is printed ``dx[c:d:s] = xp.flip(v, axis=k)``: every element
    written where NumPy writes it, for every slice and a value of every number of
    dimensions that broadcasts into the slot (``ops.array_api_slot``), with new axes
    squeezed out; every bound inside the axis, and no step negative."""
    rng = np.random.default_rng(size)
    shape = (2, size, 3)
    for i, s in enumerate(_slices(size)):
        # every slice after an integer; every other one beside other axes and new ones
        others = [(None, slice(None, None, -1), s, None, 2), (0, s, -1)]
        for key in [(1, s)] + others[i % 2 : i % 2 + 1]:
            slot = np.zeros(shape)[key].shape
            for ndim in range(len(slot) + 1) if None in key else [len(slot)]:
                value = rng.normal(size=slot[len(slot) - ndim :])
                expected = np.zeros(shape)
                expected[key] = value
                written, squeeze, flip = ops.array_api_slot(
                    ops.encode_key(key), shape, ndim
                )
                entries = ops.decode_key(written)
                got = np.zeros(shape)
                got[entries] = np.flip(np.squeeze(value, axis=tuple(squeeze)), flip)
                assert np.array_equal(got, expected), (key, ndim, entries)
                assert None not in entries
                originals = [k for k in key if k is not None]
                for k, t, n in zip(originals, entries, shape):
                    if isinstance(k, slice) and k.step is not None and k.step < 0:
                        bounds = [b for b in (t.start, t.stop) if b is not None]
                        assert t.step is None or t.step > 0, (key, entries)
                        assert all(0 <= b <= n for b in bounds), (key, entries)


# --- the committed Array API modules, and what the target refuses ----------------------
GOLDEN = ["xor", "mlp"]
REGENERATE = (
    "gradgen compile examples/{0}.py -o generated/array_api/{0}.py --target array-api"
)


@pytest.mark.parametrize("name", GOLDEN)
def test_generated_array_api_module_is_reproduced_byte_for_byte(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    command = REGENERATE.format(name)
    fresh = compile_file(f"examples/{name}.py", command=command, target="array-api")
    committed = (ROOT / "generated" / "array_api" / f"{name}.py").read_text()
    assert fresh == committed, f"generated/array_api/{name}.py is stale: {command}"


@pytest.mark.parametrize("name", GOLDEN)
def test_array_api_module_imports_no_numpy(name):
    source = (ROOT / "generated" / "array_api" / f"{name}.py").read_text()
    imports = [
        ast.unparse(n)
        for n in ast.walk(ast.parse(source))
        if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    assert imports == [
        "from typing import Any",
        "from array_api_compat import array_namespace",
    ]
    code = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    assert "xp = array_namespace(" in source
    assert not [line for line in code if "np." in line and "Grad of" not in line]


def test_an_unknown_target_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "xor.py"
    args = ["compile", "examples/xor.py", "--target", "torch", "-o", str(out)]
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2
    assert "invalid choice: 'torch'" in capsys.readouterr().err
    assert not out.exists()


def test_api_target_option():
    def f(x: Array["n"]) -> float:
        return np.sum(np.sin(x) * x)

    compiled = gradgen.compile(f, target="array-api")
    x = array_api_strict.asarray([0.5, -1.0, 2.0], dtype=array_api_strict.float64)
    value, dx = compiled.f_value_and_grad(x)
    expected = np.sin(np.from_dlpack(x)) + np.from_dlpack(x) * np.cos(np.from_dlpack(x))
    np.testing.assert_allclose(np.from_dlpack(dx), expected, rtol=1e-12)
    with pytest.raises(GradgenError, match="unknown target 'torch'"):
        gradgen.compile(f, target="torch")


def _modules_with_modes(example: str) -> list:
    path = str(ROOT / "examples" / example)
    with layout_only_skipped():  # imported, not read (support/compiled.py)
        return [
            import_source(
                compile_file(path, modes="all", target=t), f"all_{example}_{k}"
            )
            for k, t in enumerate(["numpy", "array-api"])
        ]


def _assert_same(got, expected) -> None:
    for g, e in zip(flat(got), flat(expected), strict=True):
        np.testing.assert_allclose(as_numpy(g), e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("library", ["array_api_strict", "jax"])
def test_modes(library):
    """f_jvp, f_hvp, f_hessian and f_jacobian of the Array API module equal the NumPy
    module's, on array_api_strict arrays and on JAX's (which the dense modes' loops fill
    by functional updates). On JAX the Hessian of examples/xor.py, each of its entries
    written by a JAX call of its own (seconds), is in the full profile only
    (GRADGEN_ALL_LIBRARIES)."""
    numpy_xor, array_xor = _modules_with_modes("xor.py")
    numpy_sigmoid, array_sigmoid = _modules_with_modes("sigmoid.py")
    rng = np.random.default_rng(3)
    args = [rng.normal(size=s) for s in [(5, 2), (5, 1), (2, 4), (4, 1)]]
    tangents = tuple(rng.normal(size=a.shape) for a in args)
    z = rng.normal(size=4)
    if library == "jax":
        convert, wrap = real_libraries()["jax"]
    else:
        convert, wrap = LIBRARIES[library], lambda f: f
    arrays = [convert(a) for a in args]
    directions = tuple(convert(t) for t in tangents)
    for function in ["loss_jvp", "loss_hvp"]:
        expected = getattr(numpy_xor, function)(*args, tangents)
        got = wrap(getattr(array_xor, function))(*arrays, directions)
        _assert_same(got, expected)
    if library != "jax" or ALL_LIBRARIES:
        hessian = wrap(array_xor.loss_hessian)(*arrays)
        _assert_same(hessian, numpy_xor.loss_hessian(*args))
    for function in ["sigmoid_array_jacobian", "sigmoid_array"]:
        expected = getattr(numpy_sigmoid, function)(z)
        _assert_same(wrap(getattr(array_sigmoid, function))(convert(z)), expected)
    z0 = convert(np.asarray(0.3))
    expected = numpy_sigmoid.sigmoid_hessian(0.3)
    _assert_same(wrap(array_sigmoid.sigmoid_hessian)(z0), expected)


SIZES_MODEL = """import numpy as np

from gradgen import Array, ops


def of_size(x: Array["n"]) -> float:
    return np.sum(x * np.log(x.shape[0]))


def softplus_of_size(x: Array["n"]) -> float:
    s = np.logaddexp(x.shape[0], 1.0)
    return np.sum(x * s)
"""


def test_functions_of_sizes(tmp_path, capsys):
    """A size's function is math's (the standard's take arrays); one that math lacks is
    refused at its line, and nothing is written."""
    model = tmp_path / "sizes.py"
    model.write_text(SIZES_MODEL)
    source = compile_file(str(model), ["of_size"], target="array-api")
    assert "import math" in source and "math.log(n)" in source
    x = array_api_strict.asarray([1.0, 2.0, 3.0], dtype=array_api_strict.float64)
    value = import_source(source, "sizes_module").of_size(x)
    assert abs(float(value) - 6 * np.log(3)) < 1e-12
    out = tmp_path / "out.py"
    assert main(["compile", str(model), "--target", "array-api", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"{model}:11: error: logaddexp of array sizes has no Array API form in gradgen "
        "yet (compute it from an array, or compile without --target array-api)\n"
    )
    assert not out.exists()
