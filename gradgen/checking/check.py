"""Checking compiled targets against central differences: ``gradgen check`` and
``gradgen.testing.check_grads``.

Takes targets (from a model file or a function object), dimension sizes, a seed, the
modes to check, and optionally per-parameter domains and given arrays (``domains.py``);
compiles them in memory, draws random inputs of those sizes (standard normal, or from a
parameter's domain) and returns one ``Report`` per target (``finite_differences.py`` does the
arithmetic). Default sizes are small and all
different from one another and from the model's integer dimensions, so that a transposed or
mixed-up axis cannot pass by coincidence.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass

import numpy as np

from gradgen.checking import finite_differences
from gradgen.domains import parse_domains, settle
from gradgen.errors import GradgenError
from gradgen.frontend.model_file import Target, find_targets, load_model
from gradgen.options import differentiated, parse_modes
from gradgen.pipeline import compile_targets


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
        out = (
            [] if finite_differences.passed(self.value_error, self.rtol) else ["value"]
        )
        for k, errors in self.rows.items():
            bad = [
                m
                for m, e in errors.items()
                if not finite_differences.passed(e, self.rtol)
            ]
            if bad:
                out.append(f"{self.names[k]} ({', '.join(bad)})")
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    def text(self) -> str:
        at = f" at {self.at}" if self.at else ""
        head = f"{self.target.name}({', '.join(self.names)}){at}, seed {self.seed}"
        value = (
            "ok" if finite_differences.passed(self.value_error, self.rtol) else "FAIL"
        )
        lines = [
            head,
            f"value: relative error {self.value_error:.1e} {value}",
            finite_differences.table(self.rows, self.names, self.shapes, self.rtol),
        ]
        failures = self.failures()
        lines.append(
            f"FAIL: {', '.join(failures)}"
            if failures
            else f"ok: {len(self.rows)} parameter{'s' * (len(self.rows) != 1)}"
        )
        return "\n".join(lines)


def _wrt_indices(target: Target, wrt: list[str] | None) -> list[int]:
    """The positions of the differentiated parameters (``options.differentiated``)."""
    names = set(differentiated(target, wrt))
    return [k for k, p in enumerate(target.params) if p.name in names]


def _integer_argument(p, shape, rng, domains, inputs):
    """Integer data: given, or drawn from its ``int:`` domain, else 0 or 1 (an index
    into any axis of two or more)."""
    if p.name in inputs:
        return np.asarray(inputs[p.name]).astype(np.int64)
    if p.name in domains:
        value = domains[p.name].draw(shape or (), rng)
    else:
        value = rng.integers(0, 2, size=shape or ())
    value = np.asarray(value).astype(np.int64)
    return int(value) if shape is None else value


def _arguments(target, sizes, seed, domains, inputs) -> tuple[list, list, str]:
    """(arguments, shapes, where they were drawn) of one target: the given arrays, else
    values of the parameter's domain, else standard normal ones, from one seeded stream.
    """
    shapes = shapes_of(target, sizes)
    rng = np.random.default_rng(seed)
    args = []
    for p, shape in zip(target.params, shapes):
        if p.integer:
            args.append(_integer_argument(p, shape, rng, domains, inputs))
            continue
        if p.name in inputs:
            value = np.asarray(inputs[p.name], dtype=float)
        elif p.name in domains:
            value = np.asarray(domains[p.name].draw(shape or (), rng), dtype=float)
        else:  # as finite_differences.random_args draws them
            value = np.asarray(rng.normal(size=shape) if shape else rng.normal())
        args.append(float(value) if shape is None else value)
    used = {d.name for p in target.params for d in p.shape if not d.is_Integer}
    names = {p.name for p in target.params}
    at = [f"{n}={s}" for n, s in sizes.items() if n in used]
    at += [
        f"{n} {'in ' * (d.kind == 'range')}{d}"
        for n, d in domains.items()
        if n in names and n not in inputs
    ]
    given = [n for n in inputs if n in names]
    if given:
        at.append(f"{', '.join(given)} given")
    return args, shapes, ", ".join(at)


def check_target(
    target,
    module,
    sizes,
    seed,
    modes,
    wrt,
    args=None,
    rtol=finite_differences.RTOL,
    domains=None,
    inputs=None,
):
    if args is None:
        args, shapes, at = _arguments(target, sizes, seed, domains or {}, inputs or {})
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
                hint="draw the inputs from the model's domain: --domain x=positive or "
                "p=0..1 (domains= in check_grads), or give them with --inputs FILE.npz",
            )
        wrt_k = _wrt_indices(target, wrt)
        rows, value_error = finite_differences.check(
            module, target.name, target.fn, args, wrt_k, array_output, modes, seed
        )
    return Report(target, shapes, wrt_k, rows, value_error, at, seed, rtol)


def compile_in_memory(targets, wrt, modes, command) -> types.ModuleType:
    source = compile_targets(targets, wrt, command, modes)
    module = types.ModuleType("gradgen_checked")
    exec(compile(source, "<gradgen check>", "exec"), module.__dict__)
    return module


def settle_inputs(targets, dims, domains, inputs) -> tuple[dict, dict, dict]:
    """(sizes of every dimension name, domains, inputs), checked against the targets:
    the sizes of --dims, those the given arrays fix, and small distinct defaults."""
    domains = parse_domains(domains)
    inputs = dict(inputs or {})
    fixed = settle(targets, domains, inputs)
    for name, size in (dims or {}).items():
        if fixed.get(name, size) != size:
            raise GradgenError(
                f"--dims gives {name}={size}, but the arrays of --inputs have "
                f"{name} = {fixed[name]}",
                targets[0].model.path,
                hint="leave the size out of --dims: the arrays give it",
            )
    return choose_dims(targets, {**fixed, **(dims or {})}), domains, inputs


def check_targets(
    targets,
    dims=None,
    seed=0,
    modes=None,
    wrt=None,
    rtol=finite_differences.RTOL,
    domains=None,
    inputs=None,
):
    """One report per target, from one in-memory compile."""
    sizes, domains, inputs = settle_inputs(targets, dims, domains, inputs)
    module = compile_in_memory(targets, wrt, modes, "gradgen check (in memory)")
    modes = parse_modes(modes)
    return [
        check_target(t, module, sizes, seed, modes, wrt, None, rtol, domains, inputs)
        for t in targets
    ]


def check_file(path, functions=None, dims=None, seed=0, modes=None, wrt=None, **kw):
    """``check_targets`` of a model file's targets; ``kw``: rtol, domains, inputs."""
    targets = find_targets(load_model(path), functions)
    return check_targets(targets, dims, seed, modes, wrt, **kw)
