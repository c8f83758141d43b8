"""What a traced target must not do: draw random numbers, read a clock, change a global.

Each would be baked into the generated code as the constant it gave while tracing, so
``deterministic(namespace, name)`` (around the call of a target on tracers) refuses them:
NumPy's and Python's random functions, the clocks of ``time`` and ``datetime``, and a
random generator or clock function held in the model's globals raise a ``GradgenError``
when called; and the model's globals are compared before and after the call (shallowly:
rebound names, the items of lists, dicts and sets, the contents of arrays, the attributes
of plain objects), so a list appended to or a counter incremented is refused as well.
Everything patched is restored on the way out.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import random
import time
import types

import numpy as np

from gradgen.errors import GradgenError

HINT = (
    "the generated code would keep the one value it gave while tracing: "
    "pass it as data, a parameter of the function"
)
GLOBAL_HINT = (
    "the generated code would keep the value it had while tracing: "
    "pass it as data, a parameter of the function, or keep the state local"
)
CLOCKS = [
    "time",
    "time_ns",
    "perf_counter",
    "perf_counter_ns",
    "monotonic",
    "monotonic_ns",
    "process_time",
    "process_time_ns",
]
RANDOM_STATES = (np.random.Generator, np.random.RandomState, random.Random)
_ARRAY_BYTES = 1 << 20  # arrays larger than this are compared by a sample


def _refusal(name: str, what: str):
    def refuse(*args, **kwargs):
        raise GradgenError(f"{name} {what} while the model is traced", hint=HINT)

    refuse.__name__ = name
    return refuse


def _functions(module, prefix: str) -> dict:
    out = {}
    for name in dir(module):
        value = getattr(module, name)
        if (
            not name.startswith("_")
            and callable(value)
            and not isinstance(value, (type, types.ModuleType))
        ):
            out[name] = (value, _refusal(f"{prefix}.{name}", "draws a random number"))
    return out


# generator classes: made in the model, even with a seed, their numbers would be constants
GENERATOR_CLASSES = [
    (np.random, "np.random", name)
    for name in ["RandomState", "Generator", "SeedSequence", "MT19937", "PCG64"]
] + [(random, "random", "Random")]


def _patches() -> list[tuple]:
    """(owner, attribute, original, replacement) for every function refused."""
    out = []
    for module, prefix in [(np.random, "np.random"), (random, "random")]:
        for name, (old, new) in _functions(module, prefix).items():
            out.append((module, name, old, new))
    for module, prefix, name in GENERATOR_CLASSES:
        refuse = _refusal(f"{prefix}.{name}", "makes a random generator")
        out.append((module, name, getattr(module, name), refuse))
    for name in CLOCKS:
        if hasattr(time, name):
            refuse = _refusal(f"time.{name}", "reads the clock")
            out.append((time, name, getattr(time, name), refuse))
    return out


def _no_clock(cls):
    """A subclass of ``datetime.datetime`` or ``date`` whose clocks refuse."""
    names = ["now", "utcnow", "today"] if cls is datetime.datetime else ["today"]
    body = {
        name: staticmethod(_refusal(f"{cls.__name__}.{name}", "reads the clock"))
        for name in names
    }
    return type(cls.__name__, (cls,), body)


class _RandomState:
    """Stands for a random generator held in a global: every method refuses."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute):
        return _refusal(f"{self._name}.{attribute}", "draws a random number")


def _datetime_module():
    module = types.ModuleType("datetime")
    module.__dict__.update(vars(datetime))
    module.datetime = _no_clock(datetime.datetime)
    module.date = _no_clock(datetime.date)
    return module


def _stand_in(name: str, value, replaced: dict):
    if id(value) in replaced:
        return replaced[id(value)]
    if isinstance(value, RANDOM_STATES):
        return _RandomState(name)
    if value is datetime.datetime or value is datetime.date:
        return _no_clock(value)
    if value is datetime:
        return _datetime_module()
    return None


@contextlib.contextmanager
def deterministic(namespace: dict, target: str, model, line: int):
    """Refuse randomness, clocks and changed globals in the block: the trace of
    ``target``, defined at ``line`` of ``model`` (``.path``, ``.text``), whose globals
    are ``namespace``."""
    patches = _patches()
    replaced = {id(old): new for _, _, old, new in patches}
    stand_ins = {
        name: _stand_in(name, value, replaced)
        for name, value in list(namespace.items())
        if not name.startswith("__")
    }
    stand_ins = {name: new for name, new in stand_ins.items() if new is not None}
    saved = {name: namespace[name] for name in stand_ins}
    before = snapshot(namespace)
    try:
        for owner, name, _, new in patches:
            setattr(owner, name, new)
        namespace.update(stand_ins)
        yield
    finally:
        for owner, name, old, _ in patches:
            setattr(owner, name, old)
        namespace.update(saved)
    changed = compare(before, snapshot(namespace))
    if changed:
        name, how = changed
        raise GradgenError(
            f"{target} {how} the global {name!r} while it is traced",
            model.path,
            global_line(model.text, name, line),
            GLOBAL_HINT,
        )


# --- the globals, before and after ----------------------------------------------------


def _contents(value, depth: int = 0):
    """What of ``value`` a call could change in place, or None for what it cannot (or
    what is not the model's data: modules, classes, functions)."""
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        if value.nbytes > _ARRAY_BYTES:
            flat = flat[:: max(1, flat.size // 4096)]
        return ("array", value.shape, value.dtype.str, flat.tobytes())
    if isinstance(value, (list, bytearray)):
        return ("list", list(value), _nested(value, depth))
    if isinstance(value, dict):
        return ("dict", list(value.items()), _nested(value.values(), depth))
    if isinstance(value, set):
        return ("set", set(value))
    if isinstance(
        value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)
    ):
        return None
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and not callable(value):
        return ("object", list(attributes.items()))
    return None


def _nested(values, depth: int):
    if depth >= 1:
        return None
    return [_contents(v, depth + 1) for v in list(values)[:1000]]


def snapshot(namespace: dict) -> dict:
    """Each global (but dunder names) with what a call could change of it."""
    return {
        name: (value, _contents(value))
        for name, value in list(namespace.items())
        if not name.startswith("__")
    }


def _same(a, b) -> bool:
    """Equal snapshots: the same objects (``is``), the same bytes."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (bytes, str, int, type(None))) or isinstance(a, set):
        return a == b
    return a is b


def compare(before: dict, after: dict) -> tuple[str, str] | None:
    """The first global changed between two snapshots, and how."""
    for name in after:
        if name not in before:
            return name, "creates"
    for name, (value, contents) in before.items():
        if name not in after:
            return name, "deletes"
        new_value, new_contents = after[name]
        if new_value is not value:
            return name, "rebinds"
        if not _same(contents, new_contents):
            return name, "changes the contents of"
    return None


def global_line(text: str, name: str, default: int) -> int:
    """The first line inside a function of the model that names the global ``name``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return default
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and inner.id == name:
                    lines.append(inner.lineno)
                elif isinstance(inner, ast.Global) and name in inner.names:
                    lines.append(inner.lineno)
    return min(lines) if lines else default
