"""Summarise several runs of benchmarks/run.py: the median over runs, and their range.

    python benchmarks/summarize.py benchmarks/results/run-A.json benchmarks/results/run-B.json

Takes the JSON files that run.py writes; prints, per workload, the hand-written
value+grad's time and each median paired ratio (÷ hand for gradgen and the peers, and the
ratios of the second table: entry checks, float32, A/A, earlier modules) as the median
over the runs followed by the lowest and highest run, ``1.11 (1.10-1.13)``. A ratio a run
did not measure is left out of that run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import GENERATED, HAND, PEERS  # noqa: E402


def measures(workload: dict) -> dict:
    """{column: number} of one workload of one run."""
    rows = workload["rows"]
    out = {}
    if "median_s" in rows.get(HAND, {}):
        out["hand µs"] = rows[HAND]["median_s"] * 1e6
    for name in [GENERATED, *PEERS]:
        if rows.get(name, {}).get("vs_hand"):
            out[f"{name.split()[0]}÷hand"] = rows[name]["vs_hand"]["median"]
    fastest = rows.get(GENERATED, {}).get("vs_fastest_peer")
    if fastest:
        out["gen÷fastest"] = fastest["median"]
    if rows.get(GENERATED, {}).get("vs_own_forward"):
        out["gen÷fwd"] = rows[GENERATED]["vs_own_forward"]["median"]
    out.update({k: r["median"] for k, r in workload.get("ratios", {}).items()})
    return out


def summary(runs: list[dict]) -> dict:
    """{workload: {column: [value per run]}}, in the first run's order."""
    table: dict = {}
    for run in runs:
        for workload in run["workloads"]:
            for column, value in measures(workload).items():
                table.setdefault(workload["name"], {}).setdefault(column, [])
                table[workload["name"]][column].append(value)
    return table


def number(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def cell(values: list) -> str:
    median = number(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} ({number(min(values))}-{number(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files of run.py")
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.runs]
    print(f"{len(runs)} runs; median over runs (lowest-highest run)")
    for name, columns in summary(runs).items():
        print(f"\n{name}")
        for column, values in columns.items():
            print(f"  {column:<18} {cell(values)}")


if __name__ == "__main__":
    main()
