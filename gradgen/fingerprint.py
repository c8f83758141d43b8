"""The fingerprint of a function object: what its compiled module depends on, for the
cache of the function transforms (``gradgen.grad(f)``, ...).

``fingerprint(fn)`` takes a function and returns a hex digest of its code and of everything
its code can reach by name, or None when something it reaches cannot be fingerprinted
(then the transform compiles afresh). Tracing calls the helpers a function names, reads the
globals it names, and bakes their values into the generated code, so the digest covers,
recursively through the helpers: each function's bytecode, names, constants, defaults,
closure cells and annotations; each global it names (numbers, strings, tuples, lists and
dicts of them by value, NumPy arrays by dtype, shape and bytes); modules and objects of
installed packages by name; and a module of the user's (outside the standard library and
site-packages) by the bytes of its file. A helper redefined in another notebook cell, or a
changed constant, gives another digest. Imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import keyword
import os
import re
import sys
import sysconfig
import types

from gradgen.array import ArrayType
from gradgen.cache import file_digest

_SIMPLE = (type(None), bool, int, float, complex, str, bytes)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_LIBRARY: list[str] = []  # the standard library's and site-packages' folders
_GRADGEN = os.path.dirname(os.path.realpath(__file__)) + os.sep  # in the code digest
_MAX_ITEMS = 10_000


class Unhashable(Exception):
    """Something a function reaches cannot be fingerprinted."""


def fingerprint(fn) -> str | None:
    """The digest of ``fn`` and of everything it reaches by name (see the module
    docstring); None when some of it cannot be fingerprinted."""
    try:
        text = repr(_Walk().value(fn, 0))
    except (Unhashable, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _library_file(path: str | None) -> bool:
    """Whether a file is the standard library's, an installed package's or gradgen's."""
    if not path:
        return True  # built in
    if not _LIBRARY:
        paths = sysconfig.get_paths()
        keys = ("stdlib", "platstdlib", "purelib", "platlib")
        _LIBRARY.extend(os.path.realpath(paths[k]) + os.sep for k in keys)
        _LIBRARY.append(_GRADGEN)
    return os.path.realpath(path).startswith(tuple(_LIBRARY))


def _module_file(name: str | None) -> str | None:
    module = sys.modules.get(name or "")
    return getattr(module, "__file__", None) if module is not None else None


class _Walk:
    """One fingerprint: functions already described are named, not walked again."""

    def __init__(self):
        self.seen: dict[int, int] = {}

    def value(self, v, depth: int):
        if isinstance(v, _SIMPLE):
            return (type(v).__name__, v)
        if isinstance(v, types.FunctionType):
            return self.function(v)
        if isinstance(v, types.ModuleType):
            path = getattr(v, "__file__", None)
            if _library_file(path):
                return ("module", v.__name__)
            return ("module", v.__name__, file_digest(path))
        if isinstance(v, (tuple, list, set, frozenset, dict)):
            return self.container(v, depth)
        if type(v).__module__ == "numpy" and hasattr(v, "tobytes"):
            data = v.tobytes()
            shape = getattr(v, "shape", ())
            return ("array", str(v.dtype), shape, hashlib.sha256(data).hexdigest())
        return self.named(v)

    def container(self, v, depth: int):
        if depth > 8 or len(v) > _MAX_ITEMS:
            raise Unhashable
        if isinstance(v, dict):
            items = [
                (self.value(k, depth + 1), self.value(x, depth + 1))
                for k, x in v.items()
            ]
            return (type(v).__name__, items)
        items = [self.value(x, depth + 1) for x in v]
        if isinstance(v, (set, frozenset)):
            items = sorted(map(repr, items))
        return (type(v).__name__, items)

    def named(self, v):
        """A class, builtin, ufunc or annotation of an installed package, by name."""
        module = getattr(v, "__module__", None) or type(v).__module__
        name = getattr(v, "__qualname__", None) or getattr(v, "__name__", None)
        if isinstance(v, ArrayType):  # Array[...]: its repr says it all
            return ("Array", repr(v))
        if name is None or not _library_file(_module_file(module)):
            raise Unhashable  # an object of the user's: its state is not seen here
        return ("object", module, name)

    def function(self, fn: types.FunctionType):
        if id(fn) in self.seen:
            return ("function", self.seen[id(fn)])
        self.seen[id(fn)] = len(self.seen)
        if _library_file(fn.__code__.co_filename) and fn.__module__ != "__main__":
            return ("function", fn.__module__, fn.__qualname__)
        names = set(_names(fn.__code__))
        for annotation in fn.__annotations__.values():
            if isinstance(annotation, str):
                names.update(_IDENTIFIER.findall(annotation))
        cells = [c.cell_contents for c in fn.__closure__ or () if _filled(c)]
        reached = sorted(
            (n, self.value(fn.__globals__[n], 0))
            for n in names
            if n in fn.__globals__ and not keyword.iskeyword(n)
        )
        return (
            "function",
            fn.__qualname__,
            _code(fn.__code__),
            self.value(fn.__defaults__, 0),
            self.value(fn.__kwdefaults__, 0),
            self.value(dict(fn.__annotations__), 0),
            [self.value(c, 0) for c in cells],
            reached,
        )


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a cell not yet assigned
        return False
    return True


def _names(code: types.CodeType):
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _code(code: types.CodeType):
    """A code object by what it does and where it is (line numbers show in the output)."""
    consts = [
        _code(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
        for c in code.co_consts
    ]
    return (
        code.co_filename,
        code.co_firstlineno,
        code.co_code.hex(),
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        consts,
    )
