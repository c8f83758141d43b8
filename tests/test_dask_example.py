"""examples/train_dask.py: the Array API module of examples/logistic.py on Dask arrays
chunked by rows gives the loss and gradient of the whole data set, as the NumPy module
gives them chunk by chunk (each chunk weighted by its share of the rows) and on the whole
array; and the example trains on a small in-process cluster. Small sizes: a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import ROOT, import_path

da = pytest.importorskip("dask.array")

ROWS, FEATURES, CHUNK = 2_300, 4, 500  # five chunks, the last of 300 rows


@pytest.fixture(scope="module")
def example():
    return import_path(ROOT / "examples" / "train_dask.py", "train_dask_example")


def test_dask_gradient_is_the_whole_data_sets(example):
    import dask

    logistic_xp, logistic_np = example.modules()
    X, y = example.dataset(ROWS, FEATURES, CHUNK, seed=3)
    assert X.chunks[0] == (500, 500, 500, 500, 300)
    w, b = np.linspace(-1, 1, FEATURES), 0.3
    lazy = example.dask_loss_and_grad(logistic_xp, X, y, w, b)
    loss, dw, db = dask.compute(*lazy, scheduler="threads")
    chunked = example.numpy_reference(logistic_np, ROWS, FEATURES, CHUNK, 3, w, b)
    whole_X, whole_y = (np.asarray(a) for a in dask.compute(X, y, scheduler="sync"))
    value, (_, _, g_w, g_b) = logistic_np.loss_value_and_grad(whole_X, whole_y, w, b)
    for got, by_chunks, whole in zip((loss, dw, db), chunked, (value, g_w, g_b)):
        np.testing.assert_allclose(got, by_chunks, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got, whole, rtol=1e-12, atol=1e-15)
    # unweighted chunk gradients (a plain mean of the chunks' means) would differ
    plain = np.mean(
        [
            logistic_np.loss_grad(*example.chunk(i, s, FEATURES, 3), w, b)[2]
            for i, s in enumerate(example.chunk_sizes(ROWS, CHUNK))
        ],
        axis=0,
    )
    assert not np.allclose(plain, dw, rtol=1e-6)


def test_chunks_are_drawn_the_same_wherever_they_are_drawn(example):
    X, y = example.dataset(ROWS, FEATURES, CHUNK, seed=3)
    X3, y3 = example.chunk(3, 500, FEATURES, 3)
    np.testing.assert_array_equal(X.blocks[3].compute(), X3)
    np.testing.assert_array_equal(y.blocks[3].compute(), y3)
    assert 0.2 < y3.mean() < 0.8  # both labels occur


def test_the_example_trains_on_a_local_cluster(example, capsys):
    pytest.importorskip("distributed")
    args = [
        "--rows",
        str(ROWS),
        "--features",
        str(FEATURES),
        "--chunk-rows",
        str(CHUNK),
    ]
    args += ["--epochs", "3", "--workers", "1", "--in-process", "--no-progress"]
    result = example.main(args)
    losses = result["losses"]
    assert losses[0] == pytest.approx(np.log(2))  # zero weights: p = 1/2 everywhere
    assert losses[2] < losses[1] < losses[0]
    for got, want in zip(result["grad"], result["reference"]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    out = capsys.readouterr().out
    assert "against the chunk-by-chunk NumPy reference" in out
    assert f"X {ROWS * FEATURES * 8 / 1024:.2f} kiB in 5 chunks" in out
