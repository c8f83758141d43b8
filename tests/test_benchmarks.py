"""The benchmark workloads (benchmarks/): before anything is timed, the hand-written
value-and-gradient functions must agree with gradgen's generated ones and with autograd
running the same model source, on small sizes. Nothing here is timed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gradcheck import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import peers  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

pytest.importorskip("autograd")


def _params(workload) -> list[str]:
    import inspect

    fn = peers.model_function(workload.model, workload.function)
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_gradients_agree_before_timing(workload):
    from timing import disagreement

    args = workload.inputs(scale=0.1)
    params = _params(workload)
    reference = workload.handwritten(*args)
    generated = peers.gradgen_impls(workload, args, params)[1]
    autograd = peers.autograd_impl(workload, args, params)
    for impl in (generated, autograd):
        assert disagreement(impl.to_numpy(impl.run()), reference) is None, impl.name
    assert disagreement(reference, autograd.to_numpy(autograd.run())) is None


def test_a_wrong_gradient_is_caught():
    from timing import disagreement

    value, grads = np.float64(1.0), (np.ones(3), np.zeros(2))
    assert disagreement((value, grads), (value, grads)) is None
    off = (value, (np.ones(3) * (1 + 1e-5), np.zeros(2)))
    assert "gradient 1" in disagreement(off, (value, grads))
    assert "value" in disagreement((2.0, grads), (value, grads))


@pytest.mark.parametrize(
    "workload",
    [w for w in WORKLOADS if w.name in ("xor", "mlp", "sigmoid_array", "gate")],
    ids=lambda w: w.name,
)
def test_variant_rows_agree_and_float32_stays_float32(workload):
    """The rows timed beside each workload (variants.py): gradgen without entry checks,
    the A/A copy, and gradgen and the hand-written code on float32 inputs, which must
    return float32 values and gradients within float32's precision of the float64 ones.
    """
    import variants
    from timing import disagreement

    args = workload.inputs(scale=0.1)
    params = _params(workload)
    reference = workload.handwritten(*args)
    generated = peers.gradgen_impls(workload, args, params)[1]
    unchecked = peers.gradgen_impls(workload, args, params, False, " no checks")[1]
    impls = variants.variant_impls(workload, args, params, generated.source)
    impls = {i.name: i for i in impls + [unchecked]}
    expected = {variants.UNCHECKED, variants.AA}
    if variants.float32(args) is not None:
        expected |= {variants.GENERATED_F32, variants.HAND_F32}
    assert set(impls) == expected
    assert "check_inputs" in generated.source
    assert "check_inputs" not in unchecked.source
    for impl in impls.values():
        out = impl.to_numpy(impl.run())
        assert disagreement(out, reference, impl.rtol) is None, impl.name
        if impl.dtype is not None:
            assert variants.dtype_problem(out, impl.dtype) is None, impl.name
            assert impl.dtype == np.float32 and impl.rtol > 1e-7


def test_a_float64_gradient_is_named_in_a_float32_row():
    import variants

    out = (np.float32(1), (np.ones(2, np.float32), np.ones(2)))
    assert (
        variants.dtype_problem(out, np.float32) == "gradient 2 is float64, not float32"
    )
    assert variants.dtype_problem((None, out[1][:1]), np.float32) is None


def test_array_api_rows_agree():
    """The Array API target's rows (array_api.py): the module on NumPy, and where
    PyTorch and JAX are installed, on PyTorch tensors and under jax.jit (float64, as
    run.py sets JAX), give the hand-written value and gradients; a GPU row without a
    GPU says so."""
    import contextlib

    import array_api
    from timing import disagreement

    workload = next(w for w in WORKLOADS if w.name == "xor")
    args = workload.inputs()
    reference = workload.handwritten(*args)
    try:
        import jax

        x64 = jax.enable_x64(True)
    except ImportError:
        x64 = contextlib.nullcontext()
    with x64:
        rows = array_api.array_api_impls(workload, args, _params(workload))
        outs = {row.name: row.to_numpy(row.run()) for row in rows if not row.missing}
    names = [row.name for row in rows]
    assert names[0] == array_api.XP_NUMPY
    for row in rows:
        if row.missing:
            assert row.name not in (array_api.XP_NUMPY, array_api.XP_TORCH_AA)
            assert row.missing.startswith(("not installed", "no CUDA", "no GPU"))
            continue
        assert disagreement(outs[row.name], reference) is None, row.name


# --- benchmarks/loops.py: loops over a sequence ------------------------------------------

SMALL = {"n": 3, "d": 2, "k": 5}


@pytest.mark.parametrize("name", ["rnn", "lstm"])
def test_loop_gradients_agree_before_timing(name):
    """The hand-written backpropagation through time (and the RNN's hoisted form) agrees
    with central differences, and autograd running the model source with it."""
    import loop_workloads
    from timing import disagreement

    model = next(m for m in loop_workloads.MODELS if m.name == name)
    assert loop_workloads.check_against_differences(model) is None
    args = loop_workloads.inputs(model, 4, SMALL)
    reference = model.handwritten(*args)
    impls = loop_workloads.implementations(model, 4, args, with_peers=False)
    impls.append(loop_workloads.autograd_impl(model, args))
    assert len(impls) == (4 if name == "rnn" else 3)
    for impl in impls:
        assert disagreement(impl.to_numpy(impl.run()), reference) is None, impl.name


def test_a_wrong_loop_gradient_is_caught():
    import handwritten
    import loop_workloads

    def transposed_dWh(*args):
        value, grads = handwritten.rnn(*args)
        return value, grads[:4] + (grads[4].T,) + grads[5:]

    model = loop_workloads.MODELS[0]
    wrong = loop_workloads.LoopModel(
        **{**vars(model), "handwritten": transposed_dWh, "hoisted": None}
    )
    assert "gradient 5" in loop_workloads.check_against_differences(wrong)


def test_the_generated_loop_module_agrees_at_every_length(tmp_path):
    """--module: rnn_loop.py compiled by gradgen (T a name: a loop of the model) agrees
    with the hand-written code at two lengths; inputs its entry check refuses make the
    row unavailable, not a wrong gradient."""
    import loop_workloads
    from gradgen.pipeline import compile_file
    from timing import disagreement

    model = loop_workloads.MODELS[0]
    module = tmp_path / "rnn_loop.py"
    module.write_text(compile_file(str(model.path), functions=["loss"]))
    for T in (3, 4):
        args = loop_workloads.inputs(model, T, SMALL)
        row = loop_workloads.implementations(model, T, args, module, 0, False)[-1]
        assert row.name == loop_workloads.GRADGEN
        reference = model.handwritten(*args)
        assert disagreement(row.to_numpy(row.run()), reference) is None
    args[2] = args[2][:, :-1]  # h0 one column short of Wh's
    refused = loop_workloads.implementations(model, 4, args, module, 0, False)[-1]
    assert "does not take these inputs" in refused.missing
