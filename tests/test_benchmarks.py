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
