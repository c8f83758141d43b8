"""Randomised: any NumPy-broadcastable pair of shapes, with the gradient un-broadcast back to
each parameter's shape, agrees with autograd."""

from __future__ import annotations

import autograd
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck import autograd_namespace, import_source
from gradgen.pipeline import compile_file


@st.composite
def broadcast_pair(draw):
    full = draw(st.lists(st.integers(2, 3), min_size=1, max_size=3))
    shapes = []
    for _ in range(2):
        drop = draw(st.integers(0, len(full)))
        tail = full[drop:]
        ones = draw(st.lists(st.booleans(), min_size=len(tail), max_size=len(tail)))
        shapes.append(tuple(1 if one else size for one, size in zip(ones, tail)))
    return shapes


MODEL = """import numpy as np
from gradgen import Array


def f(a: Array[{a}], b: Array[{b}], c: Array[{c}]) -> float:
    return np.sum(np.tanh(a * b + a) * c + b / (1.0 + a**2))
"""


def _dims(shape):
    return "()" if not shape else ", ".join(map(str, shape))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(broadcast_pair())
def test_unbroadcast_gradients_agree_with_autograd(tmp_path, shapes):
    a_shape, b_shape = shapes
    out = np.broadcast_shapes(a_shape, b_shape)
    path = tmp_path / "bcast.py"
    path.write_text(MODEL.format(a=_dims(a_shape), b=_dims(b_shape), c=_dims(out)))
    module = import_source(compile_file(str(path)), "bcast")
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in (a_shape, b_shape, out)]
    grads = module.f_grad(*args)
    expected = autograd.grad(autograd_namespace(path)["f"], (0, 1, 2))(*args)
    for got, want, shape in zip(grads, expected, (a_shape, b_shape, out)):
        assert np.shape(got) == shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
