"""The implementations a workload is timed with, each as a closure of no arguments.

``implementations(workload, args)`` returns ``Impl`` records in table order: the NumPy
forward pass (the model function itself), gradgen's generated forward and value+grad, the
hand-written value+grad, HIPS autograd, PyTorch eager and JAX jit. Autograd, PyTorch and
JAX run the very model source gradgen compiles, with ``np`` bound to their NumPy namespace
(a small adapter for PyTorch), so every implementation computes the same mathematics. A peer
that is not installed comes back with ``missing`` set, not an exception.

The run script sets the thread-count environment variables before this module imports any
of the libraries.
"""

from __future__ import annotations

import math
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from workloads import Workload

FORWARD, HAND, GENERATED = "numpy forward", "hand-written v+g", "gradgen v+g"
GENERATED_FORWARD = "gradgen forward"
BASELINE = " (before)"  # suffix of the rows timing an earlier generated module
UNCHECKED_LABEL = " no checks"  # suffix of the row compiled without entry checks
PEERS = ["autograd", "pytorch eager", "jax jit"]


@dataclass
class Impl:
    name: str
    run: Callable[[], object] | None  # the timed call
    to_numpy: Callable[[object], tuple] = lambda out: out  # -> (value, grads)
    setup: dict | None = None  # one-off costs in seconds, e.g. {"compile": 0.2}
    missing: str | None = None  # why it could not run
    traced_memory: bool = True  # allocates through NumPy, so tracemalloc sees it
    experimental: bool = False  # a failure is reported, but is not a wrong gradient
    rtol: float = 1e-7  # how closely it must agree with the float64 hand-written code
    dtype: type | None = None  # the float type its value and gradients must have


def model_function(path: Path, name: str, numpy_namespace=None):
    """The model's function, with its module's ``np`` rebound to ``numpy_namespace``."""
    namespace: dict = {"__name__": f"bench_{path.stem}", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    if numpy_namespace is not None:
        namespace["np"] = numpy_namespace
    return namespace[name]


def as_tuple(grads, count: int) -> tuple:
    return (grads,) if count == 1 else tuple(grads)


def _model_args(workload: Workload, args: list) -> tuple[list, object]:
    """The model's own arguments, and the cotangent for a VJP workload."""
    return (args[:-1], args[-1]) if workload.vjp else (args, None)


# --- NumPy, gradgen, hand-written ------------------------------------------------------


def numpy_forward(workload: Workload, args: list) -> Impl:
    f = model_function(workload.model, workload.function)
    model_args, _ = _model_args(workload, args)
    return Impl(FORWARD, lambda: f(*model_args), lambda out: (out, ()))


def gradgen_impls(
    workload: Workload, args: list, params: list[str], checks=True, label=""
) -> list[Impl]:
    """gradgen's generated forward and value+grad, compiled now (compile time recorded);
    ``checks=False`` compiles them without the entry checks."""
    from gradgen.pipeline import compile_file

    start = time.perf_counter()
    source = compile_file(
        str(workload.model),
        functions=[workload.function],
        wrt=workload.wrt,
        checks=checks,
    )
    seconds = time.perf_counter() - start
    forward, impl = generated_impls(workload, args, params, source, label)
    impl.setup = {"compile": seconds}
    return [forward, impl]


def generated_impls(
    workload: Workload, args: list, params: list[str], source: str, label: str = ""
) -> tuple[Impl, Impl]:
    """The forward and value+grad (or VJP) functions of a generated module's source."""
    module = types.ModuleType(f"generated_{workload.name}")
    exec(compile(source, f"<generated {workload.name}>", "exec"), module.__dict__)
    name, count = workload.function, len(workload.wrt_indices(params))
    model_args, _ = _model_args(workload, args)
    forward = getattr(module, name)
    if workload.vjp:
        vjp = getattr(module, f"{name}_vjp")
        run, convert = lambda: vjp(*args), lambda out: (None, as_tuple(out, count))
    else:
        value_and_grad = getattr(module, f"{name}_value_and_grad")
        run = lambda: value_and_grad(*args)  # noqa: E731
        convert = lambda out: (out[0], as_tuple(out[1], count))  # noqa: E731
    impl = Impl(GENERATED + label, run, convert)
    impl.source = source
    return (
        Impl(
            GENERATED_FORWARD + label,
            lambda: forward(*model_args),
            lambda out: (out, ()),
        ),
        impl,
    )


def hand_written(workload: Workload, args: list) -> Impl:
    fn = workload.handwritten
    return Impl(HAND, lambda: fn(*args))


# --- HIPS autograd -----------------------------------------------------------------------


def autograd_impl(workload: Workload, args: list, params: list[str]) -> Impl:
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as error:
        return Impl(PEERS[0], None, missing=f"not installed ({error.name})")
    f = model_function(workload.model, workload.function, anp)
    wrt = workload.wrt_indices(params)
    model_args, cotangent = _model_args(workload, args)
    if workload.vjp:
        make_vjp = autograd.make_vjp(f, argnum=wrt[0])

        def run():
            pull, value = make_vjp(*model_args)
            return value, (pull(cotangent),)

        return Impl(PEERS[0], run)
    value_and_grad = autograd.value_and_grad(f, argnum=tuple(wrt))
    return Impl(PEERS[0], lambda: value_and_grad(*args))


# --- PyTorch eager -------------------------------------------------------------------------


def torch_numpy(torch) -> types.SimpleNamespace:
    """The few NumPy functions the models call, as PyTorch operations."""

    def reduction(op):
        def reduce(x, axis=None, keepdims=False):
            return op(x) if axis is None else op(x, dim=axis, keepdim=keepdims)

        return reduce

    def binary(op):
        def apply(a, b):
            like = a if torch.is_tensor(a) else b
            return op(*[torch.as_tensor(v, dtype=like.dtype) for v in (a, b)])

        return apply

    def heaviside(x, at_zero):
        return torch.heaviside(x, torch.tensor(at_zero, dtype=x.dtype))

    def vdot(a, b):
        return torch.dot(a.reshape(-1), b.reshape(-1))

    return types.SimpleNamespace(
        **{
            name: getattr(torch, name)
            for name in "exp log sin cos tan tanh sinh cosh sqrt abs sign matmul outer "
            "trace zeros_like full_like broadcast_to".split()
        },
        heaviside=heaviside,
        vdot=vdot,
        dot=torch.matmul,  # the same for the 1-D and 2-D operands gradgen allows
        arcsin=torch.asin,
        arccos=torch.acos,
        arctan=torch.atan,
        sum=reduction(torch.sum),
        mean=reduction(torch.mean),
        max=reduction(torch.amax),
        maximum=binary(torch.maximum),
        minimum=binary(torch.minimum),
        where=torch.where,
        pi=math.pi,
    )


def torch_impl(
    workload: Workload, args: list, params: list[str], device: str = "cpu"
) -> Impl:
    """PyTorch's autograd of the model source, on ``device`` ("cuda": the row is named
    so, and each call waits for the device)."""
    name = PEERS[1] + ("" if device == "cpu" else f" {device}")
    try:
        import torch
    except ImportError as error:
        return Impl(name, None, missing=f"not installed ({error.name})")
    torch.set_num_threads(1)
    sync = torch.cuda.synchronize if device == "cuda" else lambda: None
    f = model_function(workload.model, workload.function, torch_numpy(torch))
    wrt = workload.wrt_indices(params)
    tensors = [torch.as_tensor(np.asarray(a), device=device) for a in args]
    inputs = [tensors[i].requires_grad_() for i in wrt]
    model_args, cotangent = _model_args(workload, tensors)

    def run():
        value = f(*model_args)
        grads = torch.autograd.grad(value, inputs, grad_outputs=cotangent)
        sync()
        return value, grads

    def to_numpy(out):
        value, grads = out
        return value.detach().cpu().numpy(), tuple(g.cpu().numpy() for g in grads)

    return Impl(name, run, to_numpy, traced_memory=False)


# --- JAX jit ---------------------------------------------------------------------------------


def jax_impl(workload: Workload, args: list, params: list[str], device=None) -> Impl:
    """``jax.jit(jax.value_and_grad)`` of the model source, on the CPU unless ``device``
    (a GPU: the row is named so)."""
    name = PEERS[2] + ("" if device is None else " gpu")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        return Impl(name, None, missing=f"not installed ({error.name})")
    f = model_function(workload.model, workload.function, jnp)
    wrt = workload.wrt_indices(params)
    device = device or jax.devices("cpu")[0]
    arrays = [jax.device_put(jnp.asarray(a, dtype=jnp.float64), device) for a in args]
    if workload.vjp:

        def value_and_vjp(*a):
            value, pull = jax.vjp(f, *a[:-1])
            return value, pull(a[-1])

        jitted = jax.jit(value_and_vjp)
    else:
        jitted = jax.jit(jax.value_and_grad(f, argnums=tuple(wrt)))
    return jitted_impl(name, jitted, arrays)


def jitted_impl(name: str, jitted, arrays: list) -> Impl:
    """The row of a jitted JAX function of ``arrays`` returning (value, grads), run in
    the calling thread; its first call, which compiles, is made now and reported."""
    import jax

    try:  # run in the calling thread, as every other implementation does
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    except AttributeError:  # pragma: no cover - older JAX: dispatch is synchronous
        pass
    run = lambda: jax.block_until_ready(jitted(*arrays))  # noqa: E731
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start

    def to_numpy(out):
        value, grads = out
        return np.asarray(value), tuple(np.asarray(g) for g in grads)

    return Impl(name, run, to_numpy, {"first call": first}, traced_memory=False)


def implementations(
    workload: Workload,
    args: list,
    params: list[str],
    baseline: str | None = None,
    with_peers: bool = True,
) -> list[Impl]:
    """Every implementation, in table order: gradgen's value+grad twice, with and
    without entry checks (``UNCHECKED_LABEL``); ``baseline`` is the source of an earlier
    generated module to time against the current one; ``with_peers=False`` leaves out
    autograd, PyTorch and JAX (and does not import them)."""
    generated = gradgen_impls(workload, args, params)
    unchecked = gradgen_impls(workload, args, params, False, UNCHECKED_LABEL)[1]
    earlier = []
    if baseline is not None:
        earlier = generated_impls(workload, args, params, baseline, BASELINE)
    impls = [numpy_forward(workload, args), *generated, unchecked, *earlier]
    if not with_peers:
        return impls + [hand_written(workload, args)]
    return impls + [
        hand_written(workload, args),
        autograd_impl(workload, args, params),
        torch_impl(workload, args, params),
        jax_impl(workload, args, params),
    ]
