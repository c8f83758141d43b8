"""Run time and compile time of the generated forward-mode and second-order functions.

    python benchmarks/second_order.py [--repeats 20]

For the XOR network of the study notes and a two-layer tanh MLP, prints the median time per
call of the generated value-and-gradient, JVP, HVP and dense Hessian, of the dense Hessian
assembled by calling the generated HVP once per parameter entry (what f_hessian saves by
running the forward and backward pass once and computing only the blocks on and above the
diagonal), and of HIPS autograd's hessian and hessian-vector product on the same model
source. For the LSTM of examples/lstm.py over T = 100 steps (a loop that stays a loop: the
JVP is one forward loop carrying the tangents, the HVP that loop keeping each step's values
and a reversed one), the same rows but the dense Hessians. Then the compile time of each
mode (in one process, after a warm-up compile), for examples/deep.py and examples/lstm.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import autograd
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from gradcheck import autograd_namespace, import_source  # noqa: E402
from gradgen.pipeline import compile_file  # noqa: E402

MLP = """import numpy as np
from gradgen import Array


def loss(X: Array["n", "d"], y: Array["n", 1], W1: Array["d", "h"], b1: Array["h"],
         W2: Array["h", 1]) -> float:
    hidden = np.tanh(X @ W1 + b1)
    return np.mean((hidden @ W2 - y) ** 2)
"""

XOR = (ROOT / "examples" / "xor.py").read_text()
LSTM = (ROOT / "examples" / "lstm.py").read_text()
GATES = {f"{w}{g}": s for g in "ifoc" for w, s in (("W", (4, 8)), ("U", (8, 8)))}
CASES = {  # name: (model source, parameter shapes, differentiated parameters)
    "xor, n=4, P=12": (
        XOR,
        {"X": (4, 2), "y": (4, 1), "W0": (2, 4), "W1": (4, 1)},
        "W0,W1",
    ),
    "mlp 32x8-16-1, P=160": (
        MLP,
        {"X": (32, 8), "y": (32, 1), "W1": (8, 16), "b1": (16,), "W2": (16, 1)},
        "W1,b1,W2",
    ),
    "lstm T=100, n=8, d=4, k=8, P=392": (
        LSTM,
        {"X": (100, 8, 4), "y": (8,), **GATES, "w_out": (8,)},
        ",".join([*GATES, "w_out"]),
    ),
}
DENSE = 200  # the dense Hessians only up to this many parameter entries


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def hessian_by_hvp(module, args, wrt):
    """The dense Hessian from one generated HVP call per parameter entry."""
    zeros = [np.zeros_like(args[k]) for k in wrt]
    columns = []
    for i, k in enumerate(wrt):
        for index in np.ndindex(args[k].shape):
            v = [z.copy() for z in zeros]
            v[i][index] = 1.0
            columns.append(
                np.concatenate([np.ravel(h) for h in module.loss_hvp(*args, tuple(v))])
            )
    return np.stack(columns, axis=1)


def run_case(name, source, shapes, wrt_names, repeats):
    folder = Path(tempfile.mkdtemp())
    path = folder / "model.py"
    path.write_text(source)
    names = list(shapes)
    wrt = [names.index(w) for w in wrt_names.split(",")]
    module = import_source(
        compile_file(str(path), wrt=wrt_names.split(","), modes="all"), "bench"
    )
    reference = autograd_namespace(path)["loss"]
    rng = np.random.default_rng(0)
    shapes = list(shapes.values())
    args = [rng.normal(size=s) * (0.5 if len(s) == 2 else 1) for s in shapes]
    v = tuple(rng.normal(size=shapes[k]) for k in wrt)

    def flat_loss(x):
        parts, at = list(args), 0
        for k in wrt:
            size = int(np.prod(shapes[k]))
            parts[k] = x[at : at + size].reshape(shapes[k])
            at += size
        return reference(*parts)

    x = np.concatenate([np.ravel(args[k]) for k in wrt])
    vx = np.concatenate([np.ravel(p) for p in v])
    ag_hessian = autograd.hessian(flat_loss)
    ag_hvp = autograd.hessian_tensor_product(flat_loss)
    rows = [
        ("generated value_and_grad", lambda: module.loss_value_and_grad(*args)),
        ("generated jvp", lambda: module.loss_jvp(*args, v)),
        ("generated hvp", lambda: module.loss_hvp(*args, v)),
        ("autograd hessian-vector product", lambda: ag_hvp(x, vx)),
    ]
    if x.size <= DENSE:
        rows += [
            ("generated hessian", lambda: module.loss_hessian(*args)),
            (
                "hessian from one generated hvp per entry",
                lambda: hessian_by_hvp(module, args, wrt),
            ),
            ("autograd hessian", lambda: ag_hessian(x)),
        ]
    print(f"\n{name} (differentiating {wrt_names})")
    for label, fn in rows:
        print(f"  {label:<42} {median_ms(fn, repeats):9.3f} ms")


def compile_times(repeats: int, example: str, what: str) -> None:
    print(f"\ncompile time (s), examples/{example} ({what}):")
    path = str(ROOT / "examples" / example)
    compile_file(path)
    for modes in [None, "jvp", "hvp", "jvp,hvp", "hessian", "all"]:
        seconds = statistics.median(
            _timed(lambda: compile_file(path, modes=modes))
            for _ in range(max(1, repeats // 10))
        )
        print(f"  --mode {modes or '(none)':<10} {seconds:6.2f}")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for name, (source, shapes, wrt) in CASES.items():
        run_case(name, source, shapes, wrt, args.repeats)
    compile_times(args.repeats, "deep.py", "a 4-layer sigmoid network")
    compile_times(args.repeats, "lstm.py", "an LSTM over a sequence: a loop")


if __name__ == "__main__":
    main()
