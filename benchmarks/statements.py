"""Time each statement of gradgen's generated value+grad (or a hand-written one) for a workload.

    python benchmarks/statements.py xor [--hand] [--number 2000]

Compiles the workload's model as benchmarks/run.py does, runs the straight-line body of the
generated ``<target>_value_and_grad`` (``_vjp`` for an array output) once to bind every name,
then times each statement alone in that namespace and prints microseconds per statement and
its share of the total. ``--hand`` does the same for the hand-written function (which must
be straight-line: no loops). Single-threaded like run.py.
"""

import os

os.environ.update(
    {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
)

import argparse  # noqa: E402
import ast  # noqa: E402
import inspect  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import timeit  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import handwritten  # noqa: E402
from gradgen.pipeline import compile_file  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def function_body(source: str, name: str) -> tuple[list[str], list[ast.stmt]]:
    tree = ast.parse(source)
    fn = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name
    )
    body = fn.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        body = body[1:]  # the docstring
    if any(isinstance(s, (ast.For, ast.While, ast.If)) for s in body):
        sys.exit(f"{name} is not straight-line code")
    return [a.arg for a in fn.args.args], body


def profile(source: str, name: str, args: list, number: int) -> list[tuple[str, float]]:
    params, body = function_body(source, name)
    namespace = {"np": np, **dict(zip(params, args))}
    namespace.update(vars(handwritten))
    namespace["np"] = np
    codes = []
    for stmt in body:
        if isinstance(stmt, ast.Return):
            stmt = ast.copy_location(ast.Expr(stmt.value), stmt)
        module = ast.Module([stmt], type_ignores=[])
        codes.append((ast.unparse(stmt), compile(module, "<statement>", "exec")))
    for _, code in codes:
        exec(code, namespace)
    rows = []
    for text, code in codes:
        best = min(
            timeit.repeat(lambda: exec(code, namespace), number=number, repeat=5)
        )
        rows.append((text, best / number))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=[w.name for w in WORKLOADS])
    parser.add_argument("--hand", action="store_true", help="the hand-written function")
    parser.add_argument("--number", type=int, default=1000, help="runs per timing")
    args = parser.parse_args()
    workload = next(w for w in WORKLOADS if w.name == args.workload)
    inputs = workload.inputs()
    if args.hand:
        source = textwrap.dedent(inspect.getsource(workload.handwritten))
        name = workload.handwritten.__name__
    else:
        source = compile_file(str(workload.model), [workload.function], workload.wrt)
        suffix = "_vjp" if workload.vjp else "_value_and_grad"
        name = workload.function + suffix
    rows = profile(source, name, inputs, args.number)
    total = sum(t for _, t in rows)
    for text, seconds in rows:
        line = " ".join(text.split())
        print(f"{seconds * 1e6:9.2f} us {100 * seconds / total:5.1f}%  {line[:90]}")
    print(f"{total * 1e6:9.2f} us total (statements timed alone)")


if __name__ == "__main__":
    main()
