"""Compile time of loops: a tanh RNN over T steps and an explicit Euler ODE.

    python benchmarks/loop_compile.py [--rnn 10,50,200,400] [--euler 10,100,300,1000]
                                      [--unroll] [--repeats 1] [--profile rnn:200]

Writes each model (a loop of a fixed number of steps: from 20 steps on gradgen keeps it a
loop, and ``--unroll`` unrolls every one) to a temporary file, and the models whose loops
run over a length that is a name (examples/rnn_sequence.py, examples/lstm.py: one compile
for every length, shown as steps "T"); compiles each compiles it with ``gradgen compile --verbose --no-cache`` in a fresh process (so
SymPy's caches start cold, as for a user) and prints the compile's wall and CPU time
(importing gradgen excluded; CPU time is steadier on a shared machine), the generated
module's lines, and the time of each pipeline stage as
``--verbose`` reports it (in CPU seconds here). Linear growth shows as a flat time per step. ``--profile
model:steps`` runs one compile under cProfile instead and prints its top functions.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def rnn_source(steps: int) -> str:
    """examples/rnn.py (a tanh RNN, squared error on the last state) over ``steps`` rows."""
    source = (Path(__file__).parent.parent / "examples" / "rnn.py").read_text()
    assert 'xs: Array[5, "d"]' in source
    return source.replace('xs: Array[5, "d"]', f'xs: Array[{steps}, "d"]')


def euler_source(steps: int) -> str:
    """Explicit Euler for dy/dt = tanh(A y) - theta y, over ``steps`` steps of dt."""
    return f"""import numpy as np
from gradgen import Array


def loss(y0: Array["k"], A: Array["k", "k"], theta: float, target: Array["k"]) -> float:
    dt = 0.01
    y = y0
    for step in range({steps}):
        y = y + dt * (np.tanh(A @ y) - theta * y)
    return np.sum((y - target) ** 2)
"""


MODELS = {"rnn": rnn_source, "euler": euler_source}
NAMED = ["rnn_sequence", "lstm"]  # examples whose loops run over a named length
UNROLL: list[str] = []  # ["--unroll"] with --unroll

# Run in a fresh process: import gradgen (SymPy, black, Jinja), then time one compile.
CHILD = """
import sys, time
import gradgen.cli.commands, gradgen.pipeline, gradgen.timing, jinja2  # loaded to compile
gradgen.timing.perf_counter = time.process_time  # stage times in CPU seconds
wall, cpu = time.perf_counter(), time.process_time()
status = gradgen.cli.commands.main(
    ["compile", sys.argv[1], "-o", sys.argv[2], "--no-cache", "--verbose", *sys.argv[3:]]
)
print(time.perf_counter() - wall, time.process_time() - cpu, status)
"""

PROFILED = """
import cProfile, pstats, sys
import gradgen.cli.commands, gradgen.pipeline, jinja2
cProfile.run(
    'gradgen.cli.commands.main(["compile", sys.argv[1], "-o", sys.argv[2], "--no-cache"])',
    sys.argv[3],
)
pstats.Stats(sys.argv[3]).sort_stats("cumulative").print_stats(45)
pstats.Stats(sys.argv[3]).sort_stats("tottime").print_stats(25)
"""


def stage_times(stderr: str) -> dict:
    """The stage times ``--verbose`` printed: {stage: seconds}."""
    stages = stderr.strip().splitlines()[-1].rsplit(" s: ", 1)[-1]
    found = re.findall(r"([a-z][a-z ]*) (\d+\.\d+)", stages)
    return {name.strip(): float(seconds) for name, seconds in found}


def compile_once(path: Path, out: Path) -> tuple[float, float, dict] | None:
    """(wall s, CPU s, stage times) of one compile; None if it failed or timed out (the
    command line's default --timeout, 300 s)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(out), *UNROLL],
        capture_output=True,
        text=True,
    )
    wall, cpu, status = (done.stdout.split() or ["0", "0", "1"])[-3:]
    if status != "0":
        print(done.stderr.strip().splitlines()[-1], file=sys.stderr)
        return None
    return float(wall), float(cpu), stage_times(done.stderr)


def measure(model: str, steps: list[int], repeats: int) -> list[dict]:
    """One row per step count: median compile seconds, lines, and the stage times of the
    median run."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in steps:
            path, out = Path(folder, f"{model}{n}.py"), Path(folder, f"{model}{n}_g.py")
            path.write_text(MODELS[model](n))
            runs = [compile_once(path, out) for _ in range(repeats)]
            if None in runs:
                print(f"{model:>5} {n:>5} steps: failed (above)", flush=True)
                continue
            wall, cpu, stages = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
            lines = len(out.read_text().splitlines())
            rows.append(
                {
                    "model": model,
                    "steps": n,
                    "compile_s": wall,
                    "cpu_s": cpu,
                    "lines": lines,
                    "stages": stages,
                    "runs": [r[0] for r in runs],
                }
            )
            print(row_text(rows[-1]), flush=True)
    return rows


def row_text(row: dict) -> str:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in row["stages"].items() if v >= 0.05)
    spread = statistics.pstdev(row["runs"]) if len(row["runs"]) > 1 else 0.0
    per_step = (
        f"{1000 * row['cpu_s'] / row['steps']:6.1f} CPU ms/step"
        if isinstance(row["steps"], int)
        else " " * 17
    )
    return (
        f"{row['model']:>12} {row['steps']:>5} steps: {row['compile_s']:7.2f} s "
        f"(±{spread:.2f}, CPU {row['cpu_s']:.2f} s), {row['lines']:>6} lines, "
        f"{per_step} | {stages}"
    )


def measure_named(model: str, repeats: int) -> dict | None:
    """One compile of an example whose loop runs over a named length."""
    path = Path(__file__).parent.parent / "examples" / f"{model}.py"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, f"{model}_g.py")
        runs = [compile_once(path, out) for _ in range(repeats)]
        if None in runs:
            return None
        wall, cpu, stages = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        row = {
            "model": model,
            "steps": "T",
            "compile_s": wall,
            "cpu_s": cpu,
            "lines": len(out.read_text().splitlines()),
            "stages": stages,
            "runs": [r[0] for r in runs],
        }
    print(row_text(row), flush=True)
    return row


def profile(spec: str) -> None:
    model, steps = spec.split(":")
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder, "m.py"), Path(folder, "g.py")
        path.write_text(MODELS[model](int(steps)))
        subprocess.run(
            [
                sys.executable,
                "-c",
                PROFILED,
                str(path),
                str(out),
                str(Path(folder, "p")),
            ],
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rnn", default="10,50,200,400", help="RNN lengths ('' none)")
    parser.add_argument("--euler", default="10,100,300,1000", help="Euler step counts")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--unroll", action="store_true", help="compile with --unroll (every loop unrolled)"
    )
    parser.add_argument("--profile", metavar="MODEL:STEPS", help="e.g. rnn:200")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    if args.unroll:
        UNROLL.append("--unroll")
    else:
        for model in NAMED:
            measure_named(model, args.repeats)
    for model in MODELS:
        steps = [int(n) for n in getattr(args, model).split(",") if n]
        measure(model, steps, args.repeats)


if __name__ == "__main__":
    main()
