"""The benchmark workloads: a model file, what to differentiate, inputs, the hand-written code.

``WORKLOADS`` lists the four performance workloads (benchmarks/models/ and examples/xor.py)
and then the teaching examples of examples/, each differentiated with respect to every
parameter, as their committed modules in generated/ are. ``Workload.inputs(scale)`` gives
the arguments (float64 arrays, or Python floats for ``float`` parameters); ``scale`` < 1
shrinks the named dimensions for quick checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import handwritten

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Workload:
    name: str
    title: str
    model: Path  # the model file gradgen compiles and the peers run
    function: str  # the target in it
    wrt: list[str] | None  # parameters to differentiate (None: all)
    make_inputs: Callable[[np.random.Generator, float], list]
    handwritten: Callable
    vjp: bool = False  # an array-valued target: time its vector-Jacobian product

    def inputs(self, scale: float = 1.0, seed: int = 0) -> list:
        return self.make_inputs(np.random.default_rng(seed), scale)

    def wrt_indices(self, params: list[str]) -> list[int]:
        return [i for i, p in enumerate(params) if self.wrt is None or p in self.wrt]


def _size(n: int, scale: float) -> int:
    return max(2, int(round(n * scale)))


def _dense(rng, fan_in: int, fan_out: int):
    return rng.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in)


def _xor(rng, scale):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    return [X, y, rng.uniform(size=(2, 4)), rng.uniform(size=(4, 1))]


def _mlp(rng, scale):
    n = _size(128, scale)
    X = rng.uniform(size=(n, 784))
    Y = np.eye(10)[rng.integers(0, 10, size=n)]
    args = [X, Y]
    for fan_in, fan_out in [(784, 256), (256, 256), (256, 10)]:
        args += [_dense(rng, fan_in, fan_out), 0.1 * rng.normal(size=fan_out)]
    return args


def _tanh_net(rng, scale, depth=20):
    n, d = _size(32, scale), _size(64, scale)
    args = [rng.normal(size=(n, d)), rng.normal(size=(n, d))]
    for _ in range(depth):
        args += [_dense(rng, d, d), 0.1 * rng.normal(size=d)]
    return args


def _elementwise(rng, scale):
    n = _size(10**6, scale)
    return [rng.normal(size=n), rng.normal(size=n)]


def _floats(count):
    return lambda rng, scale: [float(v) for v in rng.uniform(-1, 1, size=count)]


def _sigmoid_array(rng, scale):
    n = _size(10**4, scale)
    return [rng.normal(size=n), rng.normal(size=n)]


def _deep(rng, scale):
    n, d, m, k = _size(64, scale), _size(16, scale), _size(32, scale), _size(4, scale)
    return [
        rng.normal(size=(n, d)),
        rng.uniform(size=(n, k)),
        _dense(rng, d, m),
        _dense(rng, m, m),
        _dense(rng, m, m),
        _dense(rng, m, k),
    ]


MODELS, EXAMPLES = HERE / "models", ROOT / "examples"

WORKLOADS = [
    Workload(
        "xor",
        "XOR net 4x2 -> 4 -> 1 (examples/xor.py), d/dW0, dW1",
        EXAMPLES / "xor.py",
        "loss",
        ["W0", "W1"],
        _xor,
        handwritten.xor,
    ),
    Workload(
        "mlp",
        "MLP 128x784 -> 256 -> 256 -> 10, ReLU, softmax cross-entropy, d/dW, db",
        MODELS / "mlp.py",
        "loss",
        ["W1", "b1", "W2", "b2", "W3", "b3"],
        _mlp,
        handwritten.mlp,
    ),
    Workload(
        "tanh20",
        "20-layer tanh net, width 64, batch 32, d/dW, db",
        MODELS / "tanh20.py",
        "loss",
        [f"{p}{i}" for i in range(1, 21) for p in "Wb"],
        _tanh_net,
        handwritten.tanh_net,
    ),
    Workload(
        "elementwise",
        "sum(x*y + sin x), 10^6 elements, d/dx, dy",
        MODELS / "elementwise.py",
        "f",
        None,
        _elementwise,
        handwritten.elementwise,
    ),
    Workload(
        "bowl",
        "examples/bowl.py: w1^2 + w2^2/2 (floats)",
        EXAMPLES / "bowl.py",
        "f",
        None,
        _floats(2),
        handwritten.bowl,
    ),
    Workload(
        "elementary",
        "examples/elementary.py: x*y + sin x (floats)",
        EXAMPLES / "elementary.py",
        "z",
        None,
        _floats(2),
        handwritten.elementary,
    ),
    Workload(
        "gate",
        "examples/gate.py: sigmoid gate (floats)",
        EXAMPLES / "gate.py",
        "gate",
        None,
        _floats(5),
        handwritten.gate,
    ),
    Workload(
        "neuron",
        "examples/neuron.py: two sigmoid neurons (floats)",
        EXAMPLES / "neuron.py",
        "cost",
        None,
        _floats(4),
        handwritten.neuron,
    ),
    Workload(
        "sigmoid",
        "examples/sigmoid.py: sigmoid in four steps (float)",
        EXAMPLES / "sigmoid.py",
        "sigmoid",
        None,
        _floats(1),
        handwritten.sigmoid_scalar,
    ),
    Workload(
        "sigmoid_array",
        "examples/sigmoid.py: elementwise sigmoid, VJP, 10^4 elements",
        EXAMPLES / "sigmoid.py",
        "sigmoid_array",
        None,
        _sigmoid_array,
        handwritten.sigmoid_array_vjp,
        vjp=True,
    ),
    Workload(
        "deep",
        "examples/deep.py: 3 hidden sigmoid layers, 64x16 -> 32 -> 32 -> 32 -> 4, all d/d",
        EXAMPLES / "deep.py",
        "cost",
        None,
        _deep,
        handwritten.deep,
    ),
]
