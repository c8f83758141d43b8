"""Value and gradient of loops over a sequence: a tanh RNN and an LSTM over T steps.

    pip install -e ".[bench]"
    python benchmarks/loops.py [--steps 100,1000] [--models rnn,lstm] [--module PATH]
                               [--unrolled 100] [--repeats 41] [--batch-ms 20]
                               [--clock process] [--json FILE]
    python benchmarks/loops.py --compile [--compile-steps 10,100] [--repeats 3] [MODEL ...]

The RNN is benchmarks/models/rnn_loop.py: h = tanh(X[t] @ Wx + h @ Wh + b) for t in range(T),
then half the summed squared error of h @ w_out; the LSTM is benchmarks/models/lstm_loop.py,
its four gates the column blocks of one product per step. The sizes: a batch of n = 32
sequences of d = 16 features, a state of k = 64, T = 100 and 1000 steps. Each step then
multiplies 32×16 by 16×64 and 32×64 by 64×64 (the 20-layer tanh net of run.py has the same
width and batch): products small enough that the cost of calling each operation counts as
much as its arithmetic, over a loop long enough (T·n·k = 2·10⁶ floats of states kept for
the backward pass at T = 1000) that a per-step cost shows. Every row computes the value and
the gradients of every parameter, target's included (gradgen's default), in float64:

- ``hand-written BPTT`` (benchmarks/handwritten.py, ``rnn`` and ``lstm``): one step at a
  time, the states in preallocated arrays, the weight gradients summed in a reversed loop;
  the baseline of every ratio. ``hand-written A/A`` is the same function timed as an entry
  of its own: its ratio is what noise alone gives;
- ``hand-written hoisted`` (RNN): the input's share of every step, X @ Wx + b, as one product
  before the forward loop, and the gradients of X, Wx, Wh and b as one product each after
  the backward loop;
- ``gradgen`` (RNN): the module of ``--module PATH``, which gradgen wrote for rnn_loop.py
  (its ``loss_value_and_grad(X, target, h0, Wx, Wh, b, w_out)``); without ``--module``, no
  gradgen row. A module compiled for one integer T is reported as not taking the inputs of
  another. ``--unrolled N`` also compiles rnn_loop.py with the T of X's annotation made an
  integer and ``unroll=True`` (one block per step), for each T of ``--steps`` up to N, and
  times it as ``gradgen unrolled``;
- ``autograd`` (HIPS) and ``pytorch eager`` run the model source itself, ``np`` bound to
  their NumPy namespace (peers.py); ``jax scan jit`` runs the same step in jax.lax.scan,
  ``jax.jit(jax.value_and_grad(...))``, its first (compiling) call not timed but reported.

Before anything is timed, the hand-written code is checked against central differences at a
tiny size (T = 3, n = 2, d = 3, k = 4), and every row against the hand-written code at the
size it is timed at; a row that disagrees is reported and not timed. Timing is run.py's: one
thread everywhere, interleaved rounds in shuffled orders (timing.py), medians over rounds
of paired ratios to the hand-written code. Writes benchmarks/results/loops-<time>.json.

``--compile`` times the command line instead: ``python -m gradgen compile MODEL -o OUT
--no-cache`` in a fresh process (the wall time of the whole command and its CPU time, median
of ``--repeats``), for each MODEL (default benchmarks/models/rnn_loop.py) as it is, T a name
(a loop of the model), and with T made each integer of ``--compile-steps``, compiled as
gradgen chooses (a loop from 20 steps on) and with ``--unroll``. A model gradgen refuses is
listed with the first line of its message.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (first: it sets one thread everywhere before NumPy is imported)

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from loop_workloads import AA, HAND, MODELS, LoopModel  # noqa: E402
from loop_workloads import check_against_differences, implementations  # noqa: E402
from loop_workloads import inputs, fixed_length_source  # noqa: E402

# --- A run ---------------------------------------------------------------------------------


def run_model(model: LoopModel, T: int, options) -> dict:
    """Check every row against the hand-written code, then time those that agree."""
    args = inputs(model, T)
    impls = implementations(
        model, T, args, options.module, options.unrolled, not options.no_peers
    )
    reference = model.handwritten(*args)
    rows = {}
    for impl in impls:
        rows[impl.name] = {"setup_s": impl.setup, "missing": impl.missing}
        if impl.missing is None:
            rows[impl.name].update(run.check(impl, reference))
    timed = {
        impl.name: impl.run
        for impl in impls
        if not rows[impl.name].get("missing") and not rows[impl.name].get("wrong")
    }
    run.time_rows(rows, {impl.name: impl for impl in impls}, timed, options, HAND)
    return {"name": f"{model.name} T={T}", "title": model.title, "rows": rows}


def summary_table(results: list[dict]) -> str:
    names = list(dict.fromkeys(name for r in results for name in r["rows"]))
    head = ["model", "hand-written"] + [n for n in names if n != HAND]
    widths = [max(12, len(h)) for h in head]
    lines = ["  ".join(f"{h:>{w}}" for h, w in zip(head, widths))]
    for result in results:
        rows = result["rows"]
        hand = rows[HAND]
        cells = [
            result["name"],
            run._time(hand["median_s"]) if "median_s" in hand else "-",
        ]
        for name in head[2:]:
            row = rows.get(name, {})
            if row.get("wrong"):
                cells.append("WRONG")
            else:
                cells.append(
                    f"{row['vs_hand']['median']:.2f}" if "vs_hand" in row else "-"
                )
        lines.append("  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    return "\n".join(lines)


# --- Compile time ----------------------------------------------------------------------------


def compile_seconds(
    path: Path, out: Path, options: list[str]
) -> tuple[float, float, str | None]:
    """(wall seconds of ``python -m gradgen compile`` from start to exit, its CPU
    seconds, None or the first line of its error)."""
    command = [sys.executable, "-m", "gradgen", "compile", str(path), "-o", str(out)]
    command += options
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command + ["--no-cache"], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(no message)"]
        return seconds, cpu, f"exit {done.returncode}: {lines[0]}"
    return seconds, cpu, None


def compile_times(models: list[Path], steps: list[int], repeats: int) -> list[dict]:
    """One row per model and version: the model file as it is, then for each T of
    ``steps`` a copy with that integer T (in a temporary folder), compiled as is and with
    ``--unroll``, each ``repeats`` times; the median run's seconds."""
    rows = []
    print(f"{'model':<32} {'version':>15} {'wall s':>7} {'CPU s':>6}  lines or error")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "generated.py")
        for model in models:
            versions = [("T named", model, [])]
            for T in steps:
                source = fixed_length_source(model, T)
                if source is None:
                    print(f'{model}: no Array["T", ...] annotation: no integer T')
                    break
                copy = Path(folder, f"{model.stem}_{T}.py")
                copy.write_text(source)
                versions.append((f"T={T}", copy, []))
                versions.append((f"T={T} --unroll", copy, ["--unroll"]))
            for label, path, flags in versions:
                runs = sorted(compile_seconds(path, out, flags) for _ in range(repeats))
                wall, cpu, _ = runs[len(runs) // 2]
                error = next((e for *_, e in runs if e), None)
                row = {
                    "model": str(model),
                    "version": label,
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "runs_s": [r[0] for r in runs],
                    "error": error,
                    "lines": None if error else len(out.read_text().splitlines()),
                }
                rows.append(row)
                print(compile_row(row), flush=True)
    return rows


def compile_row(row: dict) -> str:
    done = row["error"] or f"{row['lines']} lines"
    return (
        f"{row['model']:<32} {row['version']:>15} {row['wall_s']:7.2f} "
        f"{row['cpu_s']:6.2f}  {done}"
    )


# --- The command line ----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="models for --compile")
    parser.add_argument("--steps", default="100,1000", help="sequence lengths T")
    parser.add_argument("--models", default="rnn,lstm", help="rnn, lstm or both")
    parser.add_argument(
        "--module",
        type=Path,
        help="a module gradgen generated for benchmarks/models/rnn_loop.py: time its "
        "loss_value_and_grad as the 'gradgen' row",
    )
    parser.add_argument(
        "--unrolled",
        type=int,
        default=0,
        metavar="N",
        help="also compile rnn_loop.py unrolled (T an integer) and time it, for T <= N",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="no autograd, PyTorch, JAX"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="rounds (default 41; "
        "with --compile, compiles of each model: default 3)",
    )
    parser.add_argument("--batch-ms", type=float, default=20.0, help="time per batch")
    parser.add_argument(
        "--clock", choices=["process", "thread", "wall"], default="process"
    )
    parser.add_argument("--json", help="output file (default benchmarks/results/...)")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="time `gradgen compile` of the models given (default rnn_loop.py) instead",
    )
    parser.add_argument(
        "--compile-steps", default="10,100", help="integer T to compile"
    )
    args = parser.parse_args()
    if args.compile:
        steps = [int(T) for T in args.compile_steps.split(",") if T]
        paths = args.paths or [Path(os.path.relpath(MODELS[0].path))]
        compile_times(paths, steps, args.repeats or 3)
        return
    if args.paths:
        parser.error("model paths go with --compile")
    if args.module is not None and not args.module.is_file():
        parser.error(f"--module {args.module}: no such file")
    args.repeats = args.repeats or 41
    chosen = args.models.split(",")
    unknown = set(chosen) - {m.name for m in MODELS}
    if unknown:
        parser.error(f"unknown model {sorted(unknown)[0]!r}")
    env = run.environment(args)
    print(
        f"{env['command']}  (threads: 1; {args.clock} clock; "
        f"OpenBLAS kernel {env['openblas_core']}; "
        f"load average {env['load_average'][0]:.2f})"
    )
    results, failed = [], []
    for model in MODELS:
        if model.name not in chosen:
            continue
        problem = check_against_differences(model)
        if problem:
            sys.exit(f"{model.name}: the hand-written gradient is wrong: {problem}")
        print(
            f"\n{model.name}: the hand-written gradients agree with central differences"
        )
        for T in [int(T) for T in args.steps.split(",")]:
            results.append(run_model(model, T, args))
            print("\n" + run.workload_table(results[-1], HAND))
            if any(row.get("wrong") for row in results[-1]["rows"].values()):
                failed.append(results[-1]["name"])
    print(
        "\nMedian paired ratios, time ÷ hand-written BPTT in the same round "
        f"({AA}: noise alone)\n" + summary_table(results)
    )
    env["load_average_end"] = os.getloadavg()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.json) if args.json else HERE / "results" / f"loops-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"environment": env, "results": results}, indent=1, default=float)
    )
    print(f"\nwrote {out}")
    if failed:
        sys.exit(f"gradients disagree in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
