"""Checking compiled targets against central differences: ``gradgen check`` and
``gradgen.testing.check_grads``.

Takes targets (from a model file or a function object), dimension sizes, a seed and the
modes to check; compiles them in memory, draws random inputs of those sizes and returns one
``Report`` per target (``numeric.py`` does the arithmetic). Default sizes are small and all
different from one another and from the model's integer dimensions, so that a transposed or
mixed-up axis cannot pass by coincidence.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass

import numpy as np

from . import numeric
from .errors import GradgenError
from .options import parse_dims, parse_modes
from .pipeline import compile_targets
from .source import Target, find_targets, load_model


def default_dims(targets: list[Target], given: dict | None = None) -> dict[str, int]:
    """A size for every dimension name not ``given``: 3, 4, 5, ..., skipping the integer
    dimensions and the given sizes."""
    given = given or {}
    names, fixed = [], set(given.values())
    for target in targets:
        for p in target.params:
            for d in p.shape:
                if d.is_Integer:
                    fixed.add(int(d))
                elif d.name not in names and d.name not in given:
                    names.append(d.name)
    sizes, size = {}, 3
    for name in names:
        while size in fixed:
            size += 1
        sizes[name] = size
        size += 1
    return sizes


def choose_dims(targets: list[Target], given: dict | None) -> dict[str, int]:
    sizes = default_dims(targets)
    for name in given or {}:
        if name not in sizes:
            known = ", ".join(sizes) or "none"
            raise GradgenError(
                f"--dims names {name!r}, which is not a dimension of the model",
                targets[0].model.path,
                hint=f"its dimension names: {known}",
            )
    return {**sizes, **default_dims(targets, given), **(given or {})}


def shapes_of(target: Target, sizes: dict) -> list:
    """Concrete shapes of a target's parameters; None for a float."""
    annotations = inspect.signature(target.fn, eval_str=True).parameters
    return [
        (
            None
            if annotations[p.name].annotation is float
            else tuple(int(d) if d.is_Integer else sizes[d.name] for d in p.shape)
        )
        for p in target.params
    ]


@dataclass
class Report:
    """The check of one target: per parameter, the relative error of each function."""

    target: Target
    shapes: list
    wrt: list[int]
    rows: dict
    value_error: float
    at: str  # the sizes, or "the given arguments"
    seed: int
    rtol: float

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.target.params]

    def failures(self) -> list[str]:
        """What failed: parameter names (with the failing checks), and ``value``."""
        out = [] if numeric.passed(self.value_error, self.rtol) else ["value"]
        for k, errors in self.rows.items():
            bad = [m for m, e in errors.items() if not numeric.passed(e, self.rtol)]
            if bad:
                out.append(f"{self.names[k]} ({', '.join(bad)})")
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    def text(self) -> str:
        at = f" at {self.at}" if self.at else ""
        head = f"{self.target.name}({', '.join(self.names)}){at}, seed {self.seed}"
        value = "ok" if numeric.passed(self.value_error, self.rtol) else "FAIL"
        lines = [
            head,
            f"value: relative error {self.value_error:.1e} {value}",
            numeric.table(self.rows, self.names, self.shapes, self.rtol),
        ]
        failures = self.failures()
        lines.append(
            f"FAIL: {', '.join(failures)}"
            if failures
            else f"ok: {len(self.rows)} parameter{'s' * (len(self.rows) != 1)}"
        )
        return "\n".join(lines)


def _wrt_indices(target: Target, wrt: list[str] | None) -> list[int]:
    return [k for k, p in enumerate(target.params) if wrt is None or p.name in wrt]


def check_target(target, module, sizes, seed, modes, wrt, args=None, rtol=numeric.RTOL):
    if args is None:
        shapes = shapes_of(target, sizes)
        args = numeric.random_args(shapes, seed)
        used = {d.name for p in target.params for d in p.shape if not d.is_Integer}
        at = ", ".join(f"{n}={s}" for n, s in sizes.items() if n in used)
    else:
        shapes = [None if isinstance(a, float) else np.shape(a) for a in args]
        at = "the given arguments"
    array_output = hasattr(module, f"{target.name}_vjp")
    with np.errstate(all="ignore"):
        value = target.fn(*args)
        if not np.all(np.isfinite(value)):
            raise GradgenError(
                f"{target.name} is not finite at the random inputs (seed {seed})",
                target.model.path,
                target.line,
                hint="the model needs inputs in its domain: pass args to check_grads, "
                "or try another --seed",
            )
        wrt_k = _wrt_indices(target, wrt)
        rows, value_error = numeric.check(
            module, target.name, target.fn, args, wrt_k, array_output, modes, seed
        )
    return Report(target, shapes, wrt_k, rows, value_error, at, seed, rtol)


def compile_in_memory(targets, wrt, modes, command) -> types.ModuleType:
    source = compile_targets(targets, wrt, command, modes)
    module = types.ModuleType("gradgen_checked")
    exec(compile(source, "<gradgen check>", "exec"), module.__dict__)
    return module


def check_targets(targets, dims=None, seed=0, modes=None, wrt=None, rtol=numeric.RTOL):
    """One report per target, from one in-memory compile."""
    sizes = choose_dims(targets, dims)
    module = compile_in_memory(targets, wrt, modes, "gradgen check (in memory)")
    modes = parse_modes(modes)
    return [
        check_target(t, module, sizes, seed, modes, wrt, rtol=rtol) for t in targets
    ]


def check_file(
    path, functions=None, dims=None, seed=0, modes=None, wrt=None, rtol=numeric.RTOL
):
    targets = find_targets(load_model(path), functions)
    return check_targets(targets, dims, seed, modes, wrt, rtol)
