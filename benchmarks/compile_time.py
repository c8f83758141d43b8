"""Compile time of gradgen for tanh MLPs of growing depth.

    python benchmarks/compile_time.py [--depths 5,10,20,40,100] [--repeats 3]

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


def measure(depths: list[int], repeats: int = 3) -> dict:
    """Median compile seconds per depth (fresh processes), start-up subtracted, with the
    generated module's size: {"startup": s, "rows": [{depth, total, compile, ...}]}."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        baseline = folder / "empty.py"
        baseline.write_text(mlp_source(0))
        startup = statistics.median(
            compile_seconds(baseline, folder / "empty_out.py") for _ in range(repeats)
        )
        for depth in depths:
            path = folder / f"mlp{depth}.py"
            out = folder / f"mlp{depth}_grad.py"
            path.write_text(mlp_source(depth))
            total = statistics.median(
                compile_seconds(path, out) for _ in range(repeats)
            )
            text = out.read_text()
            rows.append(
                {
                    "depth": depth,
                    "total_s": total,
                    "compile_s": total - startup,
                    "ms_per_layer": 1000 * (total - startup) / depth,
                    "lines": len(text.splitlines()),
                    "bytes": len(text.encode()),
                }
            )
    return {"startup_s": startup, "rows": rows}


def report(result: dict) -> str:
    lines = [
        f"process start-up and a 0-layer model: {result['startup_s']:.2f} s "
        "(subtracted below)",
        f"{'depth':>5}  {'total s':>8}  {'compile s':>9}  {'ms/layer':>8}  "
        f"{'lines':>6}  {'bytes':>7}  {'bytes/layer':>11}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['depth']:>5}  {row['total_s']:>8.2f}  {row['compile_s']:>9.2f}  "
            f"{row['ms_per_layer']:>8.1f}  {row['lines']:>6}  {row['bytes']:>7}  "
            f"{row['bytes'] / row['depth']:>11.0f}"
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
