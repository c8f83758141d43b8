"""Start-up and compile-cache timings.

    python benchmarks/startup.py [--runs 10]

Prints the median wall time of: ``gradgen --help`` (a new process each run); compiling
examples/xor.py and benchmarks/models/tanh20.py from the shell with an empty cache (cold),
with ``--no-cache``, and from the cache (warm); and in one process, after ``import
gradgen.cli.commands``, the first compile (which loads SymPy, black and Jinja), a fresh compile
once they are loaded, and a cache hit; and ``gradgen.grad(loss)``'s first call when the
cache holds its module (a new transform object, in a process where nothing was compiled).
Uses a temporary cache folder, never the user's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "xor": ROOT / "examples" / "xor.py",
    "tanh20": ROOT / "benchmarks/models/tanh20.py",
}

IN_PROCESS = """
import sys, time
start = time.perf_counter()
import gradgen.cli.commands
imported = time.perf_counter()
argv = ["compile", sys.argv[1], "-o", sys.argv[2]]
gradgen.cli.commands.main(argv + ["--no-cache"])
first = time.perf_counter()
gradgen.cli.commands.main(argv + ["--no-cache"])
fresh = time.perf_counter()
gradgen.cli.commands.main(argv)  # fills the cache
filled = time.perf_counter()
gradgen.cli.commands.main(argv)
hit = time.perf_counter()
print(imported - start, first - imported, fresh - first, hit - filled)
"""


def median_wall(command: list[str], runs: int, env: dict, prepare=None) -> float:
    times = []
    for _ in range(runs):
        if prepare:
            prepare()
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def transform_hit(path: Path, env: dict) -> float:
    """The first call of gradgen.grad(loss), the module already in the disk cache."""
    code = f"""
import importlib.util, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("model", {str(path)!r})
model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model)
import gradgen
import inspect
shapes = []
sizes = {{"n": 4, "d": 8}}
for p in inspect.signature(model.loss, eval_str=True).parameters.values():
    dims = p.annotation.dims
    shapes.append(tuple(d if isinstance(d, int) else sizes[d] for d in dims))
args = [np.ones(s) for s in shapes]
gradgen.grad(model.loss)(*args)  # compiles (or reads) once
import gradgen.transforms as t
t._modules.clear()  # as in a new process: only the disk cache holds it
start = time.perf_counter()
gradgen.grad(model.loss)(*args)
print(time.perf_counter() - start)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    gradgen = [sys.executable, "-m", "gradgen"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GRADGEN_CACHE_DIR=str(Path(tmp) / "cache"))

        def clear() -> None:
            subprocess.run(gradgen + ["cache", "clear"], env=env, capture_output=True)

        help_s = median_wall(gradgen + ["--help"], runs, env)
        print(f"gradgen --help: {help_s * 1e3:.0f} ms")
        for name, path in MODELS.items():
            out = str(Path(tmp) / f"{name}.py")
            compile_ = gradgen + ["compile", str(path), "-o", out]
            cold = median_wall(compile_, max(3, runs // 3), env, clear)
            fresh = median_wall(compile_ + ["--no-cache"], max(3, runs // 3), env)
            warm = median_wall(compile_, runs, env)
            print(
                f"{name}, from the shell: cold {cold:.2f} s, --no-cache {fresh:.2f} s, "
                f"cache hit {warm * 1e3:.0f} ms"
            )
            clear()
            done = subprocess.run(
                [sys.executable, "-c", IN_PROCESS, str(path), out],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            imported, first, again, hit = map(float, done.stdout.split()[-4:])
            print(
                f"{name}, in process: import gradgen.cli.commands {imported * 1e3:.0f} ms, first "
                f"compile {first:.2f} s, another {again:.2f} s, cache hit "
                f"{hit * 1e3:.1f} ms; gradgen.grad first call from the cache "
                f"{transform_hit(path, env) * 1e3:.1f} ms"
            )


if __name__ == "__main__":
    main()
