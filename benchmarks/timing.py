"""Interleaved timing, paired ratios, peak traced memory, and the check that gradients agree.

``interleaved(fns, repeats, batch_seconds, clock)`` calibrates a batch size per function (so one
batch lasts about ``batch_seconds``), then runs ``repeats`` rounds; in each round every
function runs one batch, in an order shuffled from round to round (so that no function
always runs after the same neighbour, whose data may have left the caches cold: in a
rotated order, an A/A control, one function timed twice as two entries, gave 1.03-1.08
where the two copies' neighbours differed). It returns per-call seconds, one sample per
round. ``paired_ratio(a, b)`` is the median over rounds of a[r] / b[r]: both come from the
same round, so a burst of load from another process on the machine hits numerator and
denominator alike.
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
import tracemalloc

import numpy as np

CLOCKS = {
    "thread": time.thread_time,  # CPU time of the calling thread
    "process": time.process_time,  # CPU time of every thread of the process
    "wall": time.perf_counter,
}


def _batch(fn, count: int, clock) -> tuple[float, float]:
    """(seconds on ``clock``, elapsed seconds) for ``count`` calls, after one call not
    timed: the first call after another function's batch finds the caches cold, and in
    batches of two or three calls (a millisecond each) that cost, shared among fewer
    calls in the slower function's batches, made a 1% difference look like 6%."""
    fn()
    start, wall = clock(), time.perf_counter()
    for _ in range(count):
        fn()
    return clock() - start, time.perf_counter() - wall


def calibrate(fn, batch_seconds: float, tries: int = 3) -> int:
    """Calls per batch so that a batch lasts about ``batch_seconds`` (at least one). Each
    count is timed ``tries`` times and the fastest kept: one call slowed down by another
    process would otherwise give a batch of a few calls, each starting with caches cold
    from the functions timed before it (seen as an A/A ratio of 2 and more)."""
    count = 1
    while True:
        elapsed = min(_batch(fn, count, time.perf_counter)[1] for _ in range(tries))
        if elapsed >= batch_seconds / 5 or count >= 10**7:
            return max(1, math.ceil(count * batch_seconds / max(elapsed, 1e-9)))
        count *= 5 if elapsed < batch_seconds / 50 else 2


def interleaved(
    fns: dict, repeats: int, batch_seconds: float, clock="process"
) -> tuple[dict, dict, dict]:
    """({name: [per-call seconds per round]}, the same in elapsed time, {name: calls per
    batch}). The ``process`` clock, CPU time of every thread of the process, leaves out
    the time other processes hold the CPU and counts the helper threads PyTorch and JAX
    may use: about what a call costs on one core of its own. ``thread`` counts the calling
    thread only; ``wall`` is elapsed time; a function of no arguments is a clock of the
    caller's (dask_throughput.py: the CPU time of this process and of Dask's workers).
    """
    timer = CLOCKS[clock] if isinstance(clock, str) else clock
    for fn in fns.values():
        fn()  # warm caches and lazy imports
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        counts = {name: calibrate(fn, batch_seconds) for name, fn in fns.items()}
        samples: dict = {name: [] for name in fns}
        walls: dict = {name: [] for name in fns}
        names = list(fns)
        shuffle = random.Random(0)  # the same orders in every run
        for _ in range(repeats):
            order = shuffle.sample(names, len(names))
            for name in order:
                elapsed, wall = _batch(fns[name], counts[name], timer)
                samples[name].append(elapsed / counts[name])
                walls[name].append(wall / counts[name])
    finally:
        if enabled:
            gc.enable()
    return samples, walls, counts


def paired_ratio(a: list, b: list) -> dict:
    ratios = sorted(x / y for x, y in zip(a, b))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {"median": statistics.median(ratios), "q1": q[0], "q3": q[2]}


def peak_bytes(fn) -> int:
    """Peak memory NumPy allocates during one call, beyond what was live before it."""
    fn()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def _scale(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.max(np.abs(x))) if x.size else 0.0


def disagreement(got: tuple, want: tuple, rtol: float = 1e-7) -> str | None:
    """None if ``got`` = (value, grads) matches ``want``; else what differs."""
    (value, grads), (ref_value, ref_grads) = got, want
    pairs = [("value", value, ref_value)] if value is not None else []
    if len(grads) != len(ref_grads):
        return f"{len(grads)} gradients, expected {len(ref_grads)}"
    pairs += [
        (f"gradient {i + 1}", g, r) for i, (g, r) in enumerate(zip(grads, ref_grads))
    ]
    for what, x, ref in pairs:
        x, ref = np.asarray(x, dtype=float), np.asarray(ref, dtype=float)
        if x.shape != ref.shape:
            return f"{what}: shape {x.shape}, expected {ref.shape}"
        tolerance = rtol * (np.abs(ref) + _scale(ref)) + 1e-12
        if not np.all(np.abs(x - ref) <= tolerance):
            worst = float(np.max(np.abs(x - ref)))
            return f"{what}: differs by up to {worst:.3g} (scale {_scale(ref):.3g})"
    return None
