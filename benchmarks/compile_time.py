"""Compile time of gradgen for tanh MLPs of growing depth.

    python benchmarks/compile_time.py [--depths 5,10,20,40] [--repeats 3]

Writes each model (h = tanh(h @ W_i + b_i), mean squared error) to a temporary file,
compiles it in a fresh process (so SymPy's caches start cold, as for a user), and prints the
median wall time per depth, the time per layer and the generated module's size. Linear
growth shows as a flat time per layer.
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


def compile_seconds(path: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gradgen", "compile", str(path), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="5,10,20,40")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        baseline = folder / "empty.py"
        baseline.write_text(mlp_source(0).replace("    h = X\n", "    h = X\n"))
        startup = statistics.median(
            compile_seconds(baseline, folder / "empty_out.py")
            for _ in range(args.repeats)
        )
        print(
            f"process start-up and a 0-layer model: {startup:.2f} s (subtracted below)"
        )
        print(
            f"{'depth':>5}  {'total s':>8}  {'compile s':>9}  {'ms/layer':>8}  "
            f"{'lines':>6}  {'bytes':>7}"
        )
        for depth in depths:
            path = folder / f"mlp{depth}.py"
            out = folder / f"mlp{depth}_grad.py"
            path.write_text(mlp_source(depth))
            total = statistics.median(
                compile_seconds(path, out) for _ in range(args.repeats)
            )
            work = total - startup
            text = out.read_text()
            print(
                f"{depth:>5}  {total:>8.2f}  {work:>9.2f}  {1000 * work / depth:>8.1f}  "
                f"{len(text.splitlines()):>6}  {len(text.encode()):>7}"
            )


if __name__ == "__main__":
    main()
