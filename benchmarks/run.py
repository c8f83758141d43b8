"""Benchmark gradgen's generated value+grad against hand-written NumPy and the peers.

    pip install -e ".[bench]"
    python benchmarks/run.py [--repeats 201] [--batch-ms 2] [--workloads xor,mlp]
                             [--depths 5,10,20,40,100] [--no-compile-time] [--no-peers]
                             [--compare FOLDER]

In one run, single-threaded: for every workload in benchmarks/workloads.py it compiles the
model with gradgen, checks that every implementation's value and gradients agree with the
hand-written ones, then times them all in interleaved rounds (see timing.py) and reports the
median time per call and paired ratios: ÷ the hand-written value+grad, and gradgen's
value+grad ÷ its own forward pass. Beside them (variants.py) it times gradgen's value+grad
compiled without entry checks, gradgen's and the hand-written value+grad on float32
inputs, and gradgen's value+grad a second time (an A/A control), and prints their paired
ratios in a second table; and (array_api.py) the module compiled with --target array-api
on NumPy, on PyTorch tensors and under jax.jit, each paired with the NumPy target,
PyTorch's autograd and JAX's jitted grad, in a third (on a GPU too, where there is one).
Also peak traced memory of one call (NumPy allocations, so not
for PyTorch or JAX), gradgen's compile time and JAX's first (compiling) call, and gradgen's
compile time and generated source size for tanh MLPs of growing depth. Prints the tables
and writes everything to benchmarks/results/run-<time>.json.
"""

import os

# Before NumPy, PyTorch or JAX is imported: one thread everywhere.
THREADS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
    # the CPU only, unless a CUDA device is present: array_api.py then also times JAX on it
    "JAX_PLATFORMS": "" if os.path.exists("/dev/nvidiactl") else "cpu",
    "JAX_ENABLE_X64": "1",
}
os.environ.update(THREADS)

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import array_api  # noqa: E402
import compile_time  # noqa: E402
import peers  # noqa: E402
import variants  # noqa: E402
from peers import BASELINE, FORWARD, GENERATED, GENERATED_FORWARD, HAND  # noqa: E402
from peers import PEERS, implementations  # noqa: E402
from timing import disagreement, interleaved, paired_ratio, peak_bytes  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def _params(workload) -> list[str]:
    fn = peers.model_function(workload.model, workload.function)
    return list(inspect.signature(fn).parameters)


def check(impl, reference) -> dict:
    """What the implementation's row records of its value and gradients: why they
    disagree with ``reference`` (as ``missing`` for an experimental row, else ``wrong``),
    and ``dtype`` if they are not of the float type the row must return (still timed).
    """
    try:
        out = impl.to_numpy(impl.run())
    except Exception as error:  # a peer or adapter that cannot run this model
        problem = f"raised {type(error).__name__}: {error}"
    else:
        problem = disagreement(out, reference, impl.rtol)
    if problem is not None:
        return {"missing" if impl.experimental else "wrong": problem}
    return {"dtype": variants.dtype_problem(out, impl.dtype) if impl.dtype else None}


def time_rows(rows: dict, by_name: dict, timed: dict, options, hand=HAND) -> dict:
    """Time the calls of ``timed`` ({name: call}) in interleaved rounds, as ``options``
    say (repeats, batch_ms, clock), and record in each one's row its median, its samples,
    its paired ratio to ``hand``'s row and the peak memory of one call of the ``Impl``
    of that name in ``by_name``; return the samples."""
    samples, walls, counts = interleaved(
        timed, options.repeats, options.batch_ms / 1000, options.clock
    )
    for name, times in samples.items():
        row = rows[name]
        row.update(median_s=statistics.median(times), calls_per_batch=counts[name])
        row.update(samples_s=times, wall_samples_s=walls[name])
        row["wall_median_s"] = statistics.median(walls[name])
        if hand in samples:
            row["vs_hand"] = paired_ratio(times, samples[hand])
        if by_name[name].traced_memory:
            row["peak_bytes"] = peak_bytes(by_name[name].run)
    return samples


def run_workload(workload, options) -> dict:
    """Check and time every implementation of one workload. ``options`` are the command
    line's: ``compare`` is a folder of generated modules from an earlier run, timed
    alongside as "(before)" rows; ``only`` keeps the rows whose names start so."""
    args = workload.inputs(options.scale)
    compare = options.compare
    before = compare / f"{workload.name}.py" if compare else None
    baseline = before.read_text() if before and before.exists() else None
    params = _params(workload)
    impls = implementations(workload, args, params, baseline, not options.no_peers)
    source = next(i for i in impls if i.name == GENERATED).source
    impls += variants.variant_impls(workload, args, params, source, baseline)
    impls += array_api.array_api_impls(workload, args, params, not options.no_peers)
    by_name = {impl.name: impl for impl in impls}
    reference = by_name[HAND].run()
    rows = {}
    for impl in impls:
        row = rows[impl.name] = {"setup_s": impl.setup, "missing": impl.missing}
        if impl.missing is None and not impl.name.startswith(
            (FORWARD, GENERATED_FORWARD)
        ):
            row.update(check(impl, reference))
    timed = {
        impl.name: impl.run
        for impl in impls
        if not rows[impl.name].get("missing")
        and not rows[impl.name].get("wrong")
        and (not options.only or impl.name.startswith(tuple(options.only.split(","))))
    }
    samples = time_rows(rows, by_name, timed, options)
    for suffix in ("", BASELINE):
        if GENERATED + suffix in samples and GENERATED_FORWARD + suffix in samples:
            rows[GENERATED + suffix]["vs_own_forward"] = paired_ratio(
                samples[GENERATED + suffix], samples[GENERATED_FORWARD + suffix]
            )
    if GENERATED + BASELINE in samples:
        rows[GENERATED]["vs_before"] = paired_ratio(
            samples[GENERATED], samples[GENERATED + BASELINE]
        )
    if GENERATED in samples and GENERATED_FORWARD in samples:
        peers = [p for p in PEERS if p in samples]
        if peers:
            fastest = min(peers, key=lambda p: rows[p]["median_s"])
            rows[GENERATED]["vs_fastest_peer"] = {
                "peer": fastest,
                **paired_ratio(samples[GENERATED], samples[fastest]),
            }
    return {
        "name": workload.name,
        "title": workload.title,
        "generated_source": source,
        "rows": rows,
        "ratios": variants.ratios(samples),
        "array_api_ratios": array_api.ratios(samples),
    }


# --- Tables --------------------------------------------------------------------------------


def _time(seconds: float) -> str:
    for unit, factor in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= factor:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _bytes(count) -> str:
    if count is None:
        return "n/a"
    for unit, factor in (("MB", 2**20), ("kB", 2**10)):
        if count >= factor:
            return f"{count / factor:.3g} {unit}"
    return f"{count} B"


def _ratio(r) -> str:
    return f"{r['median']:.2f} [{r['q1']:.2f}-{r['q3']:.2f}]" if r else ""


def _clock_note(row: dict, hand: dict) -> list[str]:
    """Say so when the timed clock and elapsed time part ways for this row and not for
    the hand-written one: work in other threads, which a thread clock misses and a
    process clock adds up."""
    if "median_s" not in hand:
        return []
    share = row["median_s"] / row["wall_median_s"]
    usual = hand["median_s"] / hand["wall_median_s"]
    if share < 0.7 * usual:
        return [f"the timed clock saw only {share:.0%} of the elapsed time"]
    if share > 1.3 * usual:
        return [f"CPU time {share:.1f}x the elapsed time (other threads)"]
    return []


def workload_table(result: dict, hand: str = HAND) -> str:
    lines = [
        f"{result['name']}: {result['title']}",
        f"  {'implementation':<26} {'median':>9}  {'÷ hand [IQR]':<18} "
        f"{'peak mem':>9}  notes",
    ]
    for name, row in result["rows"].items():
        if row.get("missing") or row.get("wrong"):
            status = "unavailable: " if row.get("missing") else "WRONG GRADIENT: "
            lines.append(f"  {name:<26} {status}{row.get('missing') or row['wrong']}")
            continue
        if "median_s" not in row:  # not timed (--only)
            continue
        notes = [f"{k} {_time(v)}" for k, v in (row["setup_s"] or {}).items()]
        notes += _clock_note(row, result["rows"].get(hand, {}))
        if row.get("dtype"):
            notes.append(row["dtype"])  # e.g. "gradient 1 is float64, not float32"
        if "vs_own_forward" in row:
            notes.append(f"÷ own forward {_ratio(row['vs_own_forward'])}")
        if "vs_before" in row:
            notes.append(f"÷ before {_ratio(row['vs_before'])}")
        lines.append(
            f"  {name:<26} {_time(row['median_s']):>9}  {_ratio(row.get('vs_hand')):<18} "
            f"{_bytes(row.get('peak_bytes')):>9}  {'; '.join(notes)}"
        )
    return "\n".join(lines)


def summary_table(results: list[dict]) -> str:
    head = ["workload", "hand v+g", "gradgen", "gen÷hand", "gen÷fwd"]
    head += [f"{p.split()[0]}÷hand" for p in PEERS] + ["gen÷fastest peer"]
    lines = ["  ".join(f"{h:>12}" for h in head)]
    for result in results:
        rows = result["rows"]
        gen = rows[GENERATED]

        def ratio(name, key="vs_hand"):
            r = rows.get(name, {}).get(key)
            return f"{r['median']:.2f}" if r else "-"

        fastest = gen.get("vs_fastest_peer")
        cells = [
            result["name"],
            _time(rows[HAND]["median_s"]) if "median_s" in rows[HAND] else "-",
            _time(gen["median_s"]) if "median_s" in gen else "-",
            ratio(GENERATED),
            ratio(GENERATED, "vs_own_forward"),
            *[ratio(p) for p in PEERS],
            (
                f"{fastest['median']:.2f} ({fastest['peer'].split()[0]})"
                if fastest
                else "-"
            ),
        ]
        lines.append("  ".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def blas_core() -> str | None:
    """The kernel NumPy's bundled OpenBLAS runs on this CPU (its own choice, or the one
    OPENBLAS_CORETYPE names); None where NumPy brings no OpenBLAS of its own."""
    import ctypes
    import glob

    import numpy

    for path in glob.glob(os.path.dirname(numpy.__file__) + ".libs/lib*openblas*"):
        lib = ctypes.CDLL(path)
        for suffix in ("64_", ""):
            for prefix in ("scipy_openblas", "openblas"):
                get = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                if get is not None:
                    get.restype = ctypes.c_char_p
                    return get().decode()
    return None


def environment(args) -> dict:
    versions = {}
    for package in ("numpy", "sympy", "autograd", "torch", "jax", "jaxlib"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "threads": THREADS,
        "openblas_core": blas_core(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "versions": versions,
        "repeats": args.repeats,
        "batch_ms": args.batch_ms,
        "clock": args.clock,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=201, help="interleaved rounds")
    parser.add_argument("--batch-ms", type=float, default=2.0, help="time per batch")
    parser.add_argument("--workloads", help="comma-separated names (default: all)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the sizes")
    parser.add_argument(
        "--clock",
        choices=["process", "thread", "wall"],
        default="process",
        help="CPU time of the process (default: steady on a busy machine), of the "
        "calling thread only, or elapsed time",
    )
    parser.add_argument("--depths", default="5,10,20,40,100")
    parser.add_argument("--no-compile-time", action="store_true")
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="time gradgen and the hand-written code only: no autograd, PyTorch or JAX",
    )
    parser.add_argument("--json", help="output file (default benchmarks/results/...)")
    parser.add_argument(
        "--only",
        help="time only the rows whose names start with these (comma-separated), "
        "e.g. 'gradgen v+g,hand' for a quick before/after comparison",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="folder of generated modules (<workload>.py) from an earlier run or from "
        "benchmarks/at_commit.py: time them alongside as '(before)' rows",
    )
    args = parser.parse_args()
    chosen = args.workloads.split(",") if args.workloads else None
    unknown = set(chosen or []) - {w.name for w in WORKLOADS}
    if unknown:
        parser.error(f"unknown workload {sorted(unknown)[0]!r}")
    env = environment(args)
    print(
        f"{env['command']}  (threads: 1; {args.clock} clock; "
        f"OpenBLAS kernel {env['openblas_core']}; "
        f"load average {env['load_average'][0]:.2f})"
    )
    results = []
    for workload in WORKLOADS:
        if chosen is None or workload.name in chosen:
            results.append(run_workload(workload, args))
            print("\n" + workload_table(results[-1]), flush=True)
    print(
        "\nMedian paired ratios (time ÷ hand-written value+grad; gen÷fwd: gradgen ÷ its "
        "own forward)\n" + summary_table(results)
    )
    print(
        "\nEntry checks, float32, A/A control and earlier modules (median paired ratio "
        "[IQR] over rounds)\n" + variants.table(results)
    )
    print(
        "\nThe Array API target (--target array-api) on NumPy, PyTorch and under jax.jit, "
        "each ÷ the row it is paired with (median paired ratio [IQR] over rounds)\n"
        + array_api.table(results)
    )
    compiled = None
    if not args.no_compile_time:
        depths = [int(d) for d in args.depths.split(",")]
        compiled = compile_time.measure(depths)
        print(
            "\ngradgen compile time, tanh MLPs (fresh processes)\n"
            + compile_time.report(compiled)
        )
    failed = [
        r["name"]
        for r in results
        if any(row.get("wrong") for row in r["rows"].values())
    ]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.json) if args.json else HERE / "results" / f"run-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    modules = out.with_suffix("")  # the generated modules, for reading and --compare
    modules.mkdir(exist_ok=True)
    for result in results:
        (modules / f"{result['name']}.py").write_text(result.pop("generated_source"))
    env["load_average_end"] = os.getloadavg()
    if "torch" in sys.modules:
        env["torch_cpu_capability"] = sys.modules[
            "torch"
        ].backends.cpu.get_cpu_capability()
    out.write_text(
        json.dumps(
            {"environment": env, "workloads": results, "compile_time": compiled},
            indent=1,
            default=float,
        )
    )
    print(f"\nwrote {out} and the generated modules in {modules}/")
    if failed:
        sys.exit(f"gradients disagree in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
