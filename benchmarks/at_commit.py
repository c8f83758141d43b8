"""Compile the benchmark workloads with gradgen as it was at an earlier commit.

    python benchmarks/at_commit.py COMMIT FOLDER [--workloads xor,deep]
    python benchmarks/run.py --workloads xor,deep --compare FOLDER

Takes a commit of this repository and a folder; writes FOLDER/<workload>.py, each
workload's model compiled (same target, same parameters differentiated) by the gradgen/
and templates/ of that commit, for run.py's ``--compare``, which times them as "(before)"
rows in the same rounds as today's modules. The commit's files are extracted into a
temporary folder (no checkout, the work tree is not touched) and each compile runs in a
fresh process that imports gradgen from there.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import WORKLOADS  # noqa: E402

# Run in the extracted tree: prints the module, after checking which gradgen it imported.
COMPILE = """
import json, sys
import gradgen
from gradgen.pipeline import compile_file
assert gradgen.__file__.startswith(sys.argv[1]), gradgen.__file__
path, function, wrt = json.loads(sys.argv[2])
sys.stdout.write(compile_file(path, functions=[function], wrt=wrt))
"""


def extract(commit: str, into: Path) -> None:
    """gradgen/ and templates/ as they were at ``commit``, written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "gradgen", "templates"],
        cwd=HERE.parent,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def compile_at(tree: Path, workload) -> str:
    spec = json.dumps([str(workload.model), workload.function, workload.wrt])
    done = subprocess.run(
        [sys.executable, "-c", COMPILE, str(tree), spec],
        cwd=tree,  # so that the extracted gradgen is the one imported
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"{workload.name}: compiling failed:\n{done.stderr}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="a commit of this repository, e.g. e5a8d0c")
    parser.add_argument("folder", type=Path, help="where to write <workload>.py")
    parser.add_argument("--workloads", help="comma-separated names (default: all)")
    args = parser.parse_args()
    chosen = args.workloads.split(",") if args.workloads else None
    unknown = set(chosen or []) - {w.name for w in WORKLOADS}
    if unknown:
        parser.error(f"unknown workload {sorted(unknown)[0]!r}")
    args.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp).resolve()
        extract(args.commit, tree)
        for workload in WORKLOADS:
            if chosen is None or workload.name in chosen:
                out = args.folder / f"{workload.name}.py"
                out.write_text(compile_at(tree, workload))
                print(f"wrote {out}")


if __name__ == "__main__":
    main()
