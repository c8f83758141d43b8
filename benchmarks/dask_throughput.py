"""Rows per second of one gradient step of examples/logistic.py: NumPy against Dask.

    pip install -e ".[dask]"
    gradgen compile examples/logistic.py      # and --target array-api, see the README
    python benchmarks/dask_throughput.py [--rows 1000000] [--features 50]
                                         [--chunks 4,16,64] [--workers 1] [--repeats 7]

On data that fits in memory (``--rows`` x ``--features`` float64, drawn as
examples/train_dask.py draws it), in one run, single-threaded (each Dask worker has one
thread and one BLAS thread; ``--workers 1`` compares one core with one core), in interleaved
rounds, timing the CPU seconds of this process (the client and the LocalCluster's scheduler)
and of the workers together, which a busy machine does not inflate as it does elapsed time
(reading the workers' clocks adds a few milliseconds to every step alike), and the elapsed
time:

- ``numpy``: the NumPy module (generated/logistic.py) on the whole array, twice (the second
  an A/A control), and the Array API module (generated/array_api/logistic.py) on it;
- ``numpy k chunks``: the NumPy module chunk by chunk, the chunks' gradients weighted by
  their share of the rows (the reference of the example);
- ``dask k chunks``: the Array API module on the data as a Dask array of k chunks, held in
  the workers' memory (``persist``), computed on a LocalCluster: a step builds the graph,
  runs it and brings back the loss, dw and db;
- ``… drawn``: the same two with every chunk drawn afresh in each step, as the example
  does with data larger than memory.

It prints the median CPU and elapsed time per step, rows per second, and paired ratios (of
CPU time) to ``numpy``; and the per-chunk overhead of Dask: the slope of the step's time
against the number of chunks (a least-squares line through the persisted rows), beside the
same slope of the NumPy chunk loop.
"""

import os

THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(THREADS)

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "examples"))

import train_dask  # noqa: E402
from timing import interleaved, paired_ratio  # noqa: E402

NUMPY, AA, XP = "numpy", "numpy A/A", "array-api on numpy"


def slope(points: list[tuple[int, float]]) -> float:
    """The least-squares slope of seconds against chunks."""
    ks, ts = np.array(points, dtype=float).T
    return float(np.polyfit(ks, ts, 1)[0])


def steps(args, client, xp, npm) -> dict:
    """Every timed step, by name: a closure of no arguments."""
    rows, features, seed = args.rows, args.features, 0
    # the whole data set in memory: the chunks the drawn steps draw, concatenated
    size = -(-rows // args.drawn)
    parts = [
        train_dask.chunk(i, s, features, seed)
        for i, s in enumerate(train_dask.chunk_sizes(rows, size))
    ]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    del parts
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=features) / np.sqrt(features), 0.1
    fns = {
        NUMPY: lambda: npm.loss_value_and_grad(X, y, w, b),
        AA: lambda: npm.loss_value_and_grad(X, y, w, b),
        XP: lambda: xp.loss_value_and_grad(X, y, w, b),
    }

    def numpy_chunks(bounds):
        def run():
            out = [0.0, 0.0, 0.0]
            for start, stop in bounds:
                value, (_, _, dw, db) = npm.loss_value_and_grad(
                    X[start:stop], y[start:stop], w, b
                )
                share = (stop - start) / rows
                out = [out[0] + share * value, out[1] + share * dw, out[2] + share * db]
            return out

        return run

    def dask_step(Xd, yd):
        def run():
            return client.compute(
                list(train_dask.dask_loss_and_grad(xp, Xd, yd, w, b)), sync=True
            )

        return run

    k = args.drawn
    c = -(-rows // k)
    drawn = train_dask.dataset(rows, features, c, seed)  # drawn by the workers
    fns[f"numpy {k} chunks drawn"] = lambda c=c: train_dask.numpy_reference(
        npm, rows, features, c, seed, w, b
    )
    fns[f"dask {k} chunks drawn"] = dask_step(*drawn)
    for k in args.chunk_list:
        c = -(-rows // k)
        bounds = [(s, min(s + c, rows)) for s in range(0, rows, c)]
        fns[f"numpy {k} chunks"] = numpy_chunks(bounds)
        # the same numbers, in k chunks, held by the workers
        X_k, y_k = train_dask.dataset(rows, features, size, seed)  # keys of their own
        held = client.persist([X_k.rechunk((c, features)), y_k.rechunk(c)])
        fns[f"dask {k} chunks"] = dask_step(*held)
    check(fns, fns[NUMPY]())
    return fns


def check(fns: dict, reference) -> None:
    """Every step gives the loss, dw and db of the NumPy module on the whole array."""
    want = [reference[0], reference[1][2], reference[1][3]]
    for name, fn in fns.items():
        out = fn()
        got = [out[0], out[1][2], out[1][3]] if len(out) == 2 else out
        for g, r in zip(got, want):
            if not np.allclose(np.asarray(g), r, rtol=1e-10, atol=1e-14):
                sys.exit(f"{name}: differs from the NumPy module on the whole array")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunks", default="4,16,64", help="chunk counts")
    parser.add_argument("--drawn", type=int, default=16, help="chunks, drawn rows")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--json", help="output file (default benchmarks/results/...)")
    args = parser.parse_args()
    args.chunk_list = [int(k) for k in args.chunks.split(",")]

    from distributed import Client, LocalCluster

    xp, npm = train_dask.modules()
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        fns = steps(args, client, xp, npm)

        def cpu() -> float:
            """CPU seconds of this process (the client, and the LocalCluster's
            scheduler, which runs in it) and of every worker process."""
            return time.process_time() + sum(client.run(time.process_time).values())

        samples, walls, _ = interleaved(fns, args.repeats, 1e-3, cpu)
    medians = {name: statistics.median(times) for name, times in samples.items()}
    wall_medians = {name: statistics.median(times) for name, times in walls.items()}
    versions = {
        p: importlib.metadata.version(p) for p in ("numpy", "dask", "distributed")
    }
    print(
        f"{args.rows:,} rows x {args.features} features (float64, "
        f"{args.rows * args.features * 8 / 1e6:.0f} MB), {args.workers} Dask worker(s) of "
        f"1 thread; {args.repeats} rounds; CPU time of client and workers, and elapsed; "
        f"load average "
        f"{os.getloadavg()[0]:.2f}; {versions}"
    )
    print(
        f"  {'step':<24} {'CPU':>9} {'rows/CPU s':>12}  ÷ numpy [IQR]      "
        f"{'elapsed':>9} {'rows/s':>11}"
    )
    for name, t in medians.items():
        r = paired_ratio(samples[name], samples[NUMPY])
        wall = wall_medians[name]
        print(
            f"  {name:<24} {t * 1e3:6.0f} ms {args.rows / t:12,.0f}  "
            f"{r['median']:.2f} [{r['q1']:.2f}-{r['q3']:.2f}]  "
            f"{wall * 1e3:6.0f} ms {args.rows / wall:11,.0f}"
        )
    overhead = {
        f"{kind} {clock}": slope(
            [(k, times[f"{kind} {k} chunks"]) for k in args.chunk_list]
        )
        for kind in ("numpy", "dask")
        for clock, times in (("CPU", medians), ("elapsed", wall_medians))
    }
    print(
        f"per-chunk overhead (slope of the step's time over {args.chunks} chunks): "
        + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in overhead.items())
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.json) if args.json else HERE / "results" / f"dask-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": " ".join(["python"] + sys.argv),
                "threads": THREADS,
                "versions": versions,
                "args": {k: v for k, v in vars(args).items()},
                "cpu_samples_s": samples,
                "wall_samples_s": walls,
                "per_chunk_overhead_s": overhead,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
