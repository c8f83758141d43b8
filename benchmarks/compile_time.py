"""Compile time of gradgen for tanh MLPs of growing depth.

    python benchmarks/compile_time.py [--depths 5,10,20,40,100] [--repeats 3]

Writes each model (h = tanh(h @ W_i + b_i), mean squared error) to a temporary file,
compiles it in a fresh process (so SymPy's caches start cold, as for a user), and prints the
median time of the compile itself (wall and CPU, importing gradgen excluded) and of the
whole process, the CPU time per layer beyond a 0-layer model's, and the generated module's size. Linear growth shows
as a flat time per layer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def mlp_source(depth: int) -> str:
    params = ", ".join(
        f'W{i}: Array["d", "d"], b{i}: Array["d"]' for i in range(1, depth + 1)
    )
    lines = [
        "import numpy as np",
        "from gradgen import Array",
        "",
        "",
        f'def loss(X: Array["n", "d"], y: Array["n", "d"], {params}) -> float:',
        "    h = X",
    ]
    lines += [f"    h = np.tanh(h @ W{i} + b{i})" for i in range(1, depth + 1)]
    lines += ["    return np.mean((h - y) ** 2)", ""]
    return "\n".join(lines)


# Run in a fresh process: import gradgen (SymPy, black, Jinja), then time one compile.
CHILD = """
import sys, time
import gradgen.cli.commands, gradgen.pipeline, jinja2  # the command line loads these when it compiles
wall, cpu = time.perf_counter(), time.process_time()
status = gradgen.cli.commands.main(["compile", sys.argv[1], "-o", sys.argv[2], "--no-cache"])
print(time.perf_counter() - wall, time.process_time() - cpu, status)
"""


def compile_seconds(path: Path, out: Path) -> tuple[float, float, float]:
    """(process wall time, compile wall time, compile CPU time) of one fresh compile."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    total = time.perf_counter() - start
    wall, cpu, status = done.stdout.split()[-3:]
    if status != "0":
        raise RuntimeError(done.stderr)
    return total, float(wall), float(cpu)


def measure(depths: list[int], repeats: int = 3) -> dict:
    """Median seconds per depth over fresh processes, with the generated module's size:
    {"rows": [{depth, process_s, compile_s, compile_cpu_s, ms_per_layer, lines, bytes}]}.
    The compile time excludes importing gradgen; CPU time is steadier than wall time on
    a busy machine."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for depth in [0] + depths:  # 0: the fixed cost (lazy imports, first format)
            path = folder / f"mlp{depth}.py"
            out = folder / f"mlp{depth}_grad.py"
            path.write_text(mlp_source(depth))
            runs = [compile_seconds(path, out) for _ in range(repeats)]
            total, wall, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
            text = out.read_text()
            rows.append(
                {
                    "depth": depth,
                    "process_s": total,
                    "compile_s": wall,
                    "compile_cpu_s": cpu,
                    "ms_per_layer": (
                        1000 * (cpu - rows[0]["compile_cpu_s"]) / depth
                        if depth
                        else None
                    ),
                    "lines": len(text.splitlines()),
                    "bytes": len(text.encode()),
                }
            )
    return {"rows": rows}


def report(result: dict) -> str:
    lines = [
        f"{'depth':>5}  {'process s':>9}  {'compile s':>9}  {'CPU s':>6}  "
        f"{'CPU ms/layer':>12}  {'lines':>6}  {'bytes':>7}  {'bytes/layer':>11}"
    ]
    for row in result["rows"]:
        if not row["depth"]:
            lines.insert(
                0,
                f"fixed cost (a 0-layer model): {row['compile_s']:.2f} s, "
                f"{row['compile_cpu_s']:.2f} s CPU; per layer: beyond it",
            )
            continue
        lines.append(
            f"{row['depth']:>5}  {row['process_s']:>9.2f}  {row['compile_s']:>9.2f}  "
            f"{row['compile_cpu_s']:>6.2f}  {row['ms_per_layer']:>12.1f}  "
            f"{row['lines']:>6}  {row['bytes']:>7}  {row['bytes'] / row['depth']:>11.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="5,10,20,40,100")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    print(report(measure(depths, args.repeats)))


if __name__ == "__main__":
    main()
