"""The Array API target's rows: gradgen's module compiled with ``--target array-api``, run
on NumPy arrays, on PyTorch tensors (eager) and under ``jax.jit``, each timed in the same
rounds as the row it is paired with: the NumPy target's value+grad, PyTorch's autograd and
JAX's ``jax.jit(jax.value_and_grad)`` of the same model source (peers.py).

``array_api_impls(workload, args, params, with_peers)`` returns the rows (``with_peers=False``:
the NumPy one only); where PyTorch sees a CUDA device it adds the module and PyTorch's autograd
on it, and where JAX has a GPU backend (run.py then lets JAX see it) the jitted module and
JAX's grad on it; where not, those rows come back as unavailable. GPU rows wait for the device
at the end of each call, and are best timed with ``--clock wall`` (the CPU clocks do not see
the device's time). ``ratios(samples)`` computes the paired ratios of ``RATIOS`` whose rows
were timed and ``table(results)`` prints them (variants.py's, with these pairs).

The module runs with its entry checks, as gradgen writes it; on PyTorch it is also timed
without them (``no checks``), and a second copy of the PyTorch row is an A/A control.
"""

from __future__ import annotations

import time
import types

import numpy as np

import variants
from peers import GENERATED, PEERS, Impl, as_tuple, jax_impl, torch_impl

XP_NUMPY = "array-api on numpy"
XP_TORCH = "array-api on torch"
XP_TORCH_UNCHECKED = XP_TORCH + " no checks"
XP_TORCH_AA = XP_TORCH + " A/A"
XP_JAX = "array-api jax jit"
XP_TORCH_CUDA, TORCH_CUDA = XP_TORCH + " cuda", PEERS[1] + " cuda"
XP_JAX_GPU, JAX_GPU = XP_JAX + " gpu", PEERS[2] + " gpu"
ROWS = [XP_NUMPY, XP_TORCH, XP_TORCH_UNCHECKED, XP_TORCH_AA, XP_JAX]

# (label, numerator row, denominator row): each a median over rounds of paired ratios.
RATIOS = [
    ("xp numpy÷numpy target", XP_NUMPY, GENERATED),
    ("xp torch÷torch autograd", XP_TORCH, PEERS[1]),
    ("unchecked÷torch autograd", XP_TORCH_UNCHECKED, PEERS[1]),
    ("xp torch A/A", XP_TORCH_AA, XP_TORCH),
    ("xp jit÷jax grad jit", XP_JAX, PEERS[2]),
    ("cuda: xp÷torch", XP_TORCH_CUDA, TORCH_CUDA),
    ("gpu: xp jit÷jax jit", XP_JAX_GPU, JAX_GPU),
]


def compile_source(workload, checks: bool = True) -> str:
    from gradgen.pipeline import compile_file

    return compile_file(
        str(workload.model),
        functions=[workload.function],
        wrt=workload.wrt,
        checks=checks,
        target="array-api",
    )


def _function(workload, source: str, label: str):
    """The value+grad (or VJP) function of a generated module's source."""
    module = types.ModuleType(f"array_api_{workload.name}{label}")
    exec(compile(source, f"<array-api {workload.name}>", "exec"), module.__dict__)
    suffix = "_vjp" if workload.vjp else "_value_and_grad"
    return getattr(module, workload.function + suffix)


def _to_numpy(workload, count: int, as_array=np.asarray):
    def convert(out):
        value, grads = (None, out) if workload.vjp else out
        grads = tuple(as_array(g) for g in as_tuple(grads, count))
        return (None if value is None else as_array(value)), grads

    return convert


def _numpy_row(workload, args, count, source) -> Impl:
    fn = _function(workload, source, "")
    arrays = [np.asarray(a) for a in args]  # a Python float as a 0-d array
    return Impl(XP_NUMPY, lambda: fn(*arrays), _to_numpy(workload, count))


def _torch_rows(workload, args, params, count, sources, device: str) -> list[Impl]:
    try:
        import torch
    except ImportError as error:
        return [Impl(XP_TORCH, None, missing=f"not installed ({error.name})")]
    torch.set_num_threads(1)
    tensors = [torch.as_tensor(np.asarray(a), device=device) for a in args]
    sync = torch.cuda.synchronize if device == "cuda" else lambda: None

    def as_array(t):
        return t.detach().cpu().numpy()

    rows = []
    for label, source in sources:
        fn = _function(workload, source, label)

        def run(fn=fn):
            out = fn(*tensors)
            sync()
            return out

        rows.append(
            Impl(label, run, _to_numpy(workload, count, as_array), traced_memory=False)
        )
    return rows


def _jax_row(workload, args, count, source, label, device) -> Impl:
    import jax

    fn = jax.jit(_function(workload, source, label))
    arrays = [jax.device_put(np.asarray(a), device) for a in args]
    run = lambda: jax.block_until_ready(fn(*arrays))  # noqa: E731
    start = time.perf_counter()
    try:
        run()
    except Exception as error:  # a module that writes in place does not run on JAX yet
        return Impl(label, None, missing=f"raised {type(error).__name__}: {error}")
    first = time.perf_counter() - start
    return Impl(
        label,
        run,
        _to_numpy(workload, count),
        {"first call": first},
        traced_memory=False,
    )


def _gpu_rows(workload, args, params, count, source) -> list[Impl]:
    """The module and the peers' autodiff on a CUDA device, where PyTorch or JAX has one."""
    rows = []
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if cuda:
        rows += _torch_rows(
            workload, args, params, count, [(XP_TORCH_CUDA, source)], "cuda"
        )
        rows.append(torch_impl(workload, args, params, device="cuda"))
    else:
        rows += [Impl(XP_TORCH_CUDA, None, missing="no CUDA device for PyTorch")]
    try:
        import jax

        gpus = jax.devices("gpu")
    except (ImportError, RuntimeError):
        gpus = []
    if gpus:
        rows.append(_jax_row(workload, args, count, source, XP_JAX_GPU, gpus[0]))
        rows.append(jax_impl(workload, args, params, device=gpus[0]))
    else:
        rows += [Impl(XP_JAX_GPU, None, missing="no GPU for JAX")]
    return rows


def array_api_impls(
    workload, args: list, params: list[str], with_peers: bool = True
) -> list[Impl]:
    """The Array API target's rows of one workload (module docstring)."""
    count = len(workload.wrt_indices(params))
    try:
        source = compile_source(workload)
    except Exception as error:  # a model the target refuses (one line, file:line)
        return [Impl(XP_NUMPY, None, missing=str(error).splitlines()[0])]
    rows = [_numpy_row(workload, args, count, source)]
    if not with_peers:
        return rows
    unchecked = compile_source(workload, checks=False)
    sources = [
        (XP_TORCH, source),
        (XP_TORCH_UNCHECKED, unchecked),
        (XP_TORCH_AA, source),
    ]
    rows += _torch_rows(workload, args, params, count, sources, "cpu")
    try:
        import jax
    except ImportError as error:
        rows.append(Impl(XP_JAX, None, missing=f"not installed ({error.name})"))
    else:
        cpu = jax.devices("cpu")[0]
        rows.append(_jax_row(workload, args, count, source, XP_JAX, cpu))
    return rows + _gpu_rows(workload, args, params, count, source)


def ratios(samples: dict) -> dict:
    return variants.ratios(samples, RATIOS)


def table(results: list[dict]) -> str:
    """Per workload, every ratio of RATIOS that any workload has: median [IQR]."""
    return variants.table(results, RATIOS, "array_api_ratios")
