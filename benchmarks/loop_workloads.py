"""The loops benchmarks/loops.py times: models, inputs, checks and the rows of its table.

``MODELS`` lists the tanh RNN (benchmarks/models/rnn_loop.py) and the LSTM
(benchmarks/models/lstm_loop.py), each with its hand-written value and gradient
(handwritten.py) and its step written for jax.lax.scan; ``inputs(model, T)`` gives float64
arguments in parameter order at the benchmark's sizes, and ``implementations(...)`` the
rows, each an ``Impl`` (peers.py) whose ``run`` is the timed call.
``check_against_differences(model)`` compares the hand-written gradients with central
differences at a tiny size.

loops.py sets the thread-count environment variables before this module imports NumPy.
"""

from __future__ import annotations

import re
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import handwritten
import peers
from peers import Impl
from timing import disagreement

HERE = Path(__file__).resolve().parent

HAND, AA, HOISTED = "hand-written BPTT", "hand-written A/A", "hand-written hoisted"
GRADGEN, UNROLLED = "gradgen", "gradgen unrolled"
AUTOGRAD, TORCH, JAX = "autograd", "pytorch eager", "jax scan jit"
SIZES = {"n": 32, "d": 16, "k": 64}
TINY = {"T": 3, "n": 2, "d": 3, "k": 4}  # for the central differences


# --- The models --------------------------------------------------------------------------


def _rnn_inputs(rng, T, n, d, k) -> list:
    return [
        rng.normal(size=(T, n, d)),
        rng.normal(size=n),
        0.5 * rng.normal(size=(n, k)),
        rng.normal(size=(d, k)) / np.sqrt(d),
        rng.normal(size=(k, k)) / np.sqrt(k),
        0.1 * rng.normal(size=k),
        rng.normal(size=k) / np.sqrt(k),
    ]


def _lstm_inputs(rng, T, n, d, k) -> list:
    return [
        rng.normal(size=(T, n, d)),
        rng.normal(size=n),
        0.5 * rng.normal(size=(n, k)),
        0.5 * rng.normal(size=(n, k)),
        rng.normal(size=(d, 4 * k)) / np.sqrt(d),
        rng.normal(size=(k, 4 * k)) / np.sqrt(k),
        0.1 * rng.normal(size=4 * k),
        rng.normal(size=k) / np.sqrt(k),
    ]


def _jax_rnn(jnp, lax):
    def loss(X, target, h0, Wx, Wh, b, w_out):
        def step(h, x):
            return jnp.tanh(x @ Wx + h @ Wh + b), None

        h, _ = lax.scan(step, h0, X)
        return 0.5 * jnp.sum((h @ w_out - target) ** 2)

    return loss


def _jax_lstm(jnp, lax):
    def loss(X, target, h0, c0, Wx, Wh, b, w_out):
        k = h0.shape[1]

        def jax_sigmoid(z):
            return 1 / (1 + jnp.exp(-z))

        def step(state, x):
            h, c = state
            z = x @ Wx + h @ Wh + b
            i, f = jax_sigmoid(z[:, :k]), jax_sigmoid(z[:, k : 2 * k])
            g, o = jnp.tanh(z[:, 2 * k : 3 * k]), jax_sigmoid(z[:, 3 * k :])
            c = f * c + i * g
            return (o * jnp.tanh(c), c), None

        (h, _), _ = lax.scan(step, (h0, c0), X)
        return 0.5 * jnp.sum((h @ w_out - target) ** 2)

    return loss


@dataclass
class LoopModel:
    name: str
    title: str
    path: Path  # the model source gradgen compiles and autograd and PyTorch run
    inputs: Callable  # (rng, T, n, d, k) -> arguments in parameter order
    handwritten: Callable
    jax_loss: Callable  # (jax.numpy, jax.lax) -> the loss written with lax.scan
    hoisted: Callable | None = None
    compiles: bool = (
        False  # gradgen compiles the model (the --module and --unrolled rows)
    )


MODELS = [
    LoopModel(
        "rnn",
        "tanh RNN, n=32 d=16 k=64",
        HERE / "models" / "rnn_loop.py",
        _rnn_inputs,
        handwritten.rnn,
        _jax_rnn,
        handwritten.rnn_hoisted,
        compiles=True,
    ),
    LoopModel(
        "lstm",
        "LSTM (4 gates in one product), n=32 d=16 k=64",
        HERE / "models" / "lstm_loop.py",
        _lstm_inputs,
        handwritten.lstm,
        _jax_lstm,
    ),
]


def inputs(model: LoopModel, T: int, sizes: dict = SIZES, seed: int = 0) -> list:
    return model.inputs(np.random.default_rng(seed), T, *sizes.values())


# --- Checks --------------------------------------------------------------------------------


def central_differences(fn, args: list, eps: float = 1e-6) -> tuple:
    """The gradient of ``fn``'s value with respect to every argument, entry by entry."""
    grads = []
    for i, a in enumerate(args):
        grad = np.empty_like(a)
        for index in np.ndindex(a.shape):
            shifted = [x.copy() for x in args]
            shifted[i][index] = a[index] + eps
            up = fn(*shifted)[0]
            shifted[i][index] = a[index] - eps
            grad[index] = (up - fn(*shifted)[0]) / (2 * eps)
        grads.append(grad)
    return tuple(grads)


def check_against_differences(model: LoopModel) -> str | None:
    """None if the hand-written code (and the hoisted form) agree with central
    differences at the tiny size; else what differs."""
    args = inputs(model, TINY["T"], {k: v for k, v in TINY.items() if k != "T"})
    value = model.handwritten(*args)[0]
    want = (value, central_differences(model.handwritten, args))
    for fn in filter(None, [model.handwritten, model.hoisted]):
        problem = disagreement(fn(*args), want, rtol=1e-6)
        if problem:
            return f"{fn.__name__}: {problem}"
    return None


# --- The rows ----------------------------------------------------------------------------


def module_impl(name: str, source: str, label: str, args: list) -> Impl:
    """``loss_value_and_grad`` of a generated module's source; unavailable if its entry
    check refuses ``args`` (a module compiled for another integer T)."""
    module = types.ModuleType(f"generated_{Path(label).stem}")
    exec(compile(source, label, "exec"), module.__dict__)
    fn = module.loss_value_and_grad
    try:
        fn(*args)
    except ValueError as error:
        return Impl(name, None, missing=f"does not take these inputs: {error}")
    impl = Impl(name, lambda: fn(*args), lambda out: (out[0], tuple(out[1])))
    impl.source = source
    return impl


def fixed_length_source(path: Path, T: int) -> str | None:
    """The model's source with the T of its annotations made the integer ``T``; None if
    no annotation starts with the dimension T."""
    source, count = re.subn(r'Array\["T",', f"Array[{T},", path.read_text())
    return source if count else None


def unrolled_impl(model: LoopModel, T: int, args: list) -> Impl:
    from gradgen.pipeline import compile_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"{model.path.stem}_{T}.py")
        path.write_text(fixed_length_source(model.path, T) or "")
        start = time.perf_counter()
        source = compile_file(str(path), functions=["loss"], unroll=True)
        seconds = time.perf_counter() - start
    impl = module_impl(UNROLLED, source, f"<gradgen unrolled T={T}>", args)
    impl.setup = {"compile": seconds}
    return impl


def autograd_impl(model: LoopModel, args: list) -> Impl:
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as error:
        return Impl(AUTOGRAD, None, missing=f"not installed ({error.name})")
    f = peers.model_function(model.path, "loss", anp)
    value_and_grad = autograd.value_and_grad(f, argnum=tuple(range(len(args))))
    return Impl(AUTOGRAD, lambda: value_and_grad(*args))


def torch_impl(model: LoopModel, args: list) -> Impl:
    try:
        import torch
    except ImportError as error:
        return Impl(TORCH, None, missing=f"not installed ({error.name})")
    torch.set_num_threads(1)
    f = peers.model_function(model.path, "loss", peers.torch_numpy(torch))
    tensors = [torch.from_numpy(a).requires_grad_() for a in args]

    def run_once():
        value = f(*tensors)
        return value, torch.autograd.grad(value, tensors)

    def to_numpy(out):
        value, grads = out
        return value.detach().numpy(), tuple(g.numpy() for g in grads)

    return Impl(TORCH, run_once, to_numpy, traced_memory=False)


def jax_impl(model: LoopModel, args: list) -> Impl:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        return Impl(JAX, None, missing=f"not installed ({error.name})")
    loss = model.jax_loss(jnp, jax.lax)
    jitted = jax.jit(jax.value_and_grad(loss, argnums=tuple(range(len(args)))))
    arrays = [jnp.asarray(a, dtype=jnp.float64) for a in args]
    return peers.jitted_impl(JAX, jitted, arrays)


def implementations(
    model: LoopModel,
    T: int,
    args: list,
    module: Path | None = None,
    unrolled: int = 0,
    with_peers: bool = True,
) -> list[Impl]:
    """The rows in table order: the hand-written code (twice: the A/A control), its
    hoisted form, the generated ``module``, gradgen's unrolled module if ``T <=
    unrolled``, and unless ``with_peers`` is false autograd, PyTorch and JAX."""
    hand = model.handwritten
    impls = [Impl(HAND, lambda: hand(*args)), Impl(AA, lambda: hand(*args))]
    if model.hoisted is not None:
        impls.append(Impl(HOISTED, lambda: model.hoisted(*args)))
    if model.compiles and module is not None:
        impls.append(module_impl(GRADGEN, module.read_text(), str(module), args))
    if model.compiles and T <= unrolled:
        impls.append(unrolled_impl(model, T, args))
    if with_peers:
        impls += [
            autograd_impl(model, args),
            torch_impl(model, args),
            jax_impl(model, args),
        ]
    return impls
