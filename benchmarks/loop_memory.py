"""Memory and time of the generated backpropagation through time, with and without
--checkpoint: a model over a sequence (examples/rnn_sequence.py, or --model
examples/lstm.py) compiled once each way, run at T steps.

    python benchmarks/loop_memory.py [--model FILE] [--steps 1000] [--checkpoint 32]
        [--repeats 5]

Prints, for loss_value_and_grad at n = 32 rows, d = 16 inputs, k = 64 units (the sizes
its annotations name; inputs drawn normal, times 0.3): the peak of
the memory NumPy allocates during one call (tracemalloc), and the median time of a call
(threads pinned to one, the two compiles timed alternately in one run). The tape of the
plain module holds T + 1 states; with --checkpoint K the module keeps T/K states and one
segment's tape, and recomputes each segment forward once more.
"""

from __future__ import annotations

import argparse
import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import importlib.util  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from gradgen.pipeline import compile_file  # noqa: E402

MODEL = Path(__file__).resolve().parent.parent / "examples" / "rnn_sequence.py"


def load(source: str, name: str, folder: str):
    path = Path(folder, f"{name}.py")
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs_for(model: Path, sizes: dict, rng) -> list:
    """Arguments for the model's ``loss``, shaped by its annotations."""
    spec = importlib.util.spec_from_file_location("annotated", model)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    annotations = module.loss.__annotations__
    return [
        rng.normal(size=tuple(sizes.get(d, d) for d in a.dims)) * 0.3
        for name, a in annotations.items()
        if name != "return"
    ]


def peak_mib(fn, args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--checkpoint", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, d, k, T = 32, 16, 64, args.steps
    rng = np.random.default_rng(0)
    model = args.model.resolve()
    inputs = inputs_for(model, {"T": T, "n": n, "d": d, "k": k}, rng)
    with tempfile.TemporaryDirectory() as folder:
        modules = {
            "tape": load(compile_file(str(model)), "tape", folder),
            f"checkpoint {args.checkpoint}": load(
                compile_file(str(model), checkpoint=args.checkpoint), "ckpt", folder
            ),
        }
        reference = modules["tape"].loss_value_and_grad(*inputs)
        times: dict = {name: [] for name in modules}
        for _ in range(args.repeats):
            for name, module in modules.items():
                start = time.perf_counter()
                module.loss_value_and_grad(*inputs)
                times[name].append(time.perf_counter() - start)
        print(f"{model.name}: loss_value_and_grad, T = {T}, n = {n}, d = {d}, k = {k}")
        base = statistics.median(times["tape"])
        state = n * k * 8 / 2**20
        print(f"one state h: {state:.3f} MiB; T states: {T * state:.1f} MiB")
        for name, module in modules.items():
            value, grads = module.loss_value_and_grad(*inputs)
            for g, r in zip(grads, reference[1]):
                np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)
            median = statistics.median(times[name])
            print(
                f"{name:>14}: peak {peak_mib(module.loss_value_and_grad, inputs):7.1f} MiB, "
                f"{median * 1e3:7.1f} ms ({median / base:.2f} of the tape's time)"
            )


if __name__ == "__main__":
    main()
