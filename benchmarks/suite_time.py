"""How long the default test suite takes: the number the README gives.

    python benchmarks/suite_time.py [--workers default,0,2] [pytest arguments ...]

Runs ``pytest`` from the repository root in a fresh process: as the README runs it for
workers ``default`` (pyproject.toml adds ``-n auto``, one pytest-xdist worker per core),
and as ``pytest -n N`` for every other N given (``0``: one process), and prints for each run its wall time, the CPU time of pytest and its
workers, the machine's cores and load average before the run, and pytest's summary.
Further arguments go to every pytest run (e.g. ``tests/test_modes.py`` for one file).
Exits with pytest's status if a run fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s ({int(seconds // 60)} min {seconds % 60:.0f} s)"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workers: str, extra: list[str]) -> int:
    """One pytest run; prints its line and returns pytest's exit status."""
    command = [sys.executable, "-m", "pytest", *extra]
    if (
        workers != "default"
    ):  # default: pytest as the README runs it (-n auto, pyproject)
        command += ["-n", workers]
    load = os.getloadavg()[0]
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    lines = done.stdout.strip().splitlines()
    summary = lines[-1].strip("= ") if lines else done.stderr.strip()[-300:]
    shown = "pytest" + ("" if workers == "default" else f" -n {workers}")
    print(
        f"{shown:<14} wall {_minutes(wall)}, CPU {_minutes(cpu)}"
        f" ({os.cpu_count()} cores, load {load:.1f} before): {summary}",
        flush=True,
    )
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers",
        default="default",
        help="comma-separated pytest -n values; 0 is one process, default is plain "
        "pytest as the README runs it (pyproject's -n auto) (default: default)",
    )
    args, extra = parser.parse_known_args(argv)
    status = 0
    for workers in args.workers.split(","):
        status = run(workers.strip(), extra) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
