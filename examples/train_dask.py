"""Train logistic regression on more data than the workers' memory, with Dask.

The model is examples/logistic.py, compiled for any Array API library; its loss is a mean
over the rows, so its generated value and gradient, called on Dask arrays chunked by rows,
give the gradient of the whole data set: each worker computes the gradient terms of its
chunks and Dask adds them up. The data is never held anywhere as a whole: every chunk is
drawn by its own random generator (seeded by the chunk's number) when a worker needs it,
and dropped once the chunk's terms are summed, in every step of gradient descent.

    pip install -e ".[dask]"
    gradgen compile examples/logistic.py -o generated/array_api/logistic.py --target array-api
    gradgen compile examples/logistic.py     # generated/logistic.py, the NumPy reference
    python examples/train_dask.py            # a LocalCluster of 2 workers of 1 GiB each
    python examples/train_dask.py --scheduler tcp://HOST:8786   # a running cluster

By default the features are 12,000,000 rows of 50 float64 numbers, 4.8 GB, against 2 GiB
(2.1 GB) of memory for the two workers together, with spilling to disk turned off: the
workers' nannies restart a worker that goes past its limit, so the run finishes only if
no worker ever held more than its share. At the end the gradient at the trained point is
checked against a chunk-by-chunk NumPy reference (generated/logistic.py on one chunk at a
time, each chunk's gradient weighted by its share of the rows), and the workers' peak
memory is printed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def modules():
    """The generated Array API module (any library) and NumPy module of the model."""
    sys.path.insert(0, str(ROOT))
    from generated import logistic
    from generated.array_api import logistic as logistic_xp

    return logistic_xp, logistic


def true_weights(features: int, seed: int) -> tuple[np.ndarray, float]:
    """The weights and bias the labels are drawn from."""
    rng = np.random.default_rng([seed, 2**32 - 1])
    return rng.normal(size=features) * 2 / np.sqrt(features), 0.5


def chunk(index: int, rows: int, features: int, seed: int) -> tuple:
    """Chunk ``index`` of the data set: standard normal features and labels 1 where
    x·w_true + b_true plus logistic noise is positive; the same numbers wherever and
    however often it is drawn."""
    w_true, b_true = true_weights(features, seed)
    rng = np.random.default_rng([seed, index])
    X = rng.standard_normal((rows, features))
    y = (X @ w_true + b_true + rng.logistic(size=rows) > 0).astype(np.float64)
    return X, y


def chunk_sizes(rows: int, chunk_rows: int) -> list[int]:
    full, rest = divmod(rows, chunk_rows)
    return [chunk_rows] * full + ([rest] if rest else [])


def dataset(rows: int, features: int, chunk_rows: int, seed: int = 0):
    """The features X (rows x features) and labels y as lazy Dask arrays chunked by rows:
    nothing is drawn until a computation needs a chunk."""
    import dask
    import dask.array as da

    xs, ys = [], []
    for index, size in enumerate(chunk_sizes(rows, chunk_rows)):
        # pure=False: a key of its own per call, so that two data sets of the same
        # numbers (one held in memory, one drawn afresh) do not share chunks
        pair = dask.delayed(chunk, pure=False, nout=2)(index, size, features, seed)
        xs.append(da.from_delayed(pair[0], (size, features), dtype=np.float64))
        ys.append(da.from_delayed(pair[1], (size,), dtype=np.float64))
    return da.concatenate(xs), da.concatenate(ys)


def dask_loss_and_grad(module, X, y, w: np.ndarray, b: float):
    """The lazy loss and gradients (dw, db) of the whole data set, from the generated
    module; dX and dy (as large as the data) are left out of the graph."""
    import dask.array as da

    loss, (_, _, dw, db) = module.loss_value_and_grad(X, y, da.from_array(w), b)
    return loss, dw, db


def numpy_reference(module, rows, features, chunk_rows, seed, w, b):
    """The loss and (dw, db) chunk by chunk with the NumPy module: the mean over all rows
    is the sum of each chunk's mean weighted by its share of the rows."""
    loss, dw, db = 0.0, np.zeros(features), 0.0
    for index, size in enumerate(chunk_sizes(rows, chunk_rows)):
        X, y = chunk(index, size, features, seed)
        value, (_, _, g_w, g_b) = module.loss_value_and_grad(X, y, w, b)
        share = size / rows
        loss, dw, db = loss + share * value, dw + share * g_w, db + share * g_b
    return loss, dw, db


def peak_rss(dask_worker=None) -> int:
    """The largest resident memory of this process so far, in bytes (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def train(client, X, y, module, epochs: int, rate: float, progress=True):
    """Gradient descent from zero weights; returns the weights, bias and losses."""
    from distributed import progress as progress_bar

    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for epoch in range(epochs):
        start = time.perf_counter()
        futures = client.compute(list(dask_loss_and_grad(module, X, y, w, b)))
        if progress:
            progress_bar(futures)
            print()
        loss, dw, db = client.gather(futures)
        w, b = w - rate * np.asarray(dw), b - rate * float(db)
        losses.append(float(loss))
        seconds = time.perf_counter() - start
        print(
            f"epoch {epoch:3d}  loss {float(loss):.6f}  {seconds:6.1f} s  "
            f"{X.shape[0] / seconds:,.0f} rows/s",
            flush=True,
        )
    return w, b, losses


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=12_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rate", type=float, default=2.0, help="learning rate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GiB", help="per worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument(
        "--in-process", action="store_true", help="threads, not processes"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    import dask
    from dask.utils import format_bytes
    from distributed import Client, LocalCluster

    logistic_xp, logistic_np = modules()
    X, y = dataset(args.rows, args.features, args.chunk_rows, args.seed)
    if args.scheduler:
        client = cluster = Client(args.scheduler)
    else:
        # no spilling to disk: each worker holds what it computes within its limit.
        # In-process workers are threads of this process, whose memory (the caller's
        # too: a test runner's other libraries) is not theirs to limit: nothing pauses
        # or stops them
        memory = {"distributed.worker.memory.spill": False}
        if args.in_process:
            memory.update(
                {
                    "distributed.worker.memory.pause": False,
                    "distributed.worker.memory.terminate": False,
                }
            )
        with dask.config.set(memory):
            cluster = LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                memory_limit=args.memory_limit,
                processes=not args.in_process,
                dashboard_address=None,
            )
        client = Client(cluster)
    with cluster, client:
        limits = [
            w["memory_limit"] for w in client.scheduler_info()["workers"].values()
        ]
        given = sum(limits)
        print(
            f"data: X {format_bytes(X.nbytes)} in {X.numblocks[0]} chunks of "
            f"{format_bytes(X.blocks[0].nbytes)}; the {len(limits)} workers have "
            f"{format_bytes(given)} together: the data is {X.nbytes / given:.2f} times that"
        )
        w, b, losses = train(
            client, X, y, logistic_xp, args.epochs, args.rate, not args.no_progress
        )
        loss, dw, db = client.compute(
            list(dask_loss_and_grad(logistic_xp, X, y, w, b)), sync=True
        )
        peaks = list(client.run(peak_rss).values())
    print(f"workers' peak resident memory: {', '.join(map(format_bytes, peaks))}")
    start = time.perf_counter()
    want = numpy_reference(
        logistic_np, args.rows, args.features, args.chunk_rows, args.seed, w, b
    )
    seconds = time.perf_counter() - start
    error = max(
        abs(float(loss) - want[0]) / abs(want[0]),
        float(np.max(np.abs(dw - want[1])) / np.max(np.abs(want[1]))),
        abs(float(db) - want[2]) / np.max(np.abs(want[1])),
    )
    print(
        f"gradient at the trained point against the chunk-by-chunk NumPy reference "
        f"({seconds:.1f} s): largest relative difference {error:.1e}"
    )
    if error > 1e-9:
        sys.exit("the Dask gradient differs from the NumPy reference")
    return {
        "losses": losses,
        "w": w,
        "b": b,
        "grad": (float(loss), np.asarray(dw), float(db)),
        "reference": want,
        "memory_given": given,
        "data_bytes": X.nbytes,
        "worker_peaks": peaks,
    }


if __name__ == "__main__":
    main()
