"""Function transforms in JAX's names: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``,
``hvp``, ``hessian`` and ``jacobian``.

Each takes a model function (annotated as a compile target) and returns a ``Transformed``:
a callable that compiles the function on its first call (through the compile cache, so a
notebook cell run again, or a script run again, reads the module back in milliseconds),
then calls the generated function, ``f_grad``, ``f_value_and_grad``, ``f_vjp``, ... Each
is usable as a decorator: ``@gradgen.grad`` on ``def loss(...)`` makes ``loss`` the
gradient function, as ``jax.grad`` does; ``.fun`` is the function as written.
``.source`` is the generated module, ``.latex()`` its derivation, and in a notebook the
object shows its formulas. Errors raise ``GradgenError`` located at the user's file:line.
"""

from __future__ import annotations

import builtins
import types

from gradgen import cache
from gradgen.errors import GradgenError
from gradgen.fingerprint import fingerprint
from gradgen.frontend.reading import function_source
from gradgen.options import parse_wrt

# transform: (the generated function's suffix, the mode it needs, the results it needs)
KINDS = {
    "grad": ("_grad", None, "scalar"),
    "value_and_grad": ("_value_and_grad", None, "scalar"),
    "vjp": ("_vjp", None, "array"),
    "jvp": ("_jvp", "jvp", None),
    "hvp": ("_hvp", "hvp", "scalar"),
    "hessian": ("_hessian", "hessian", "scalar"),
    "jacobian": ("_jacobian", "jacobian", "array"),
}
_modules: dict[str, types.ModuleType] = {}  # this process's compiled modules, by key
compiles = {"count": 0}  # fresh compiles in this process (the tests count them)


class Transformed:
    """A transformed model function: call it as the generated function it stands for.
    ``.fun`` is the original function, ``.source`` the generated module's text."""

    def __init__(self, fn, kind: str, wrt, checks: bool, use_cache: bool):
        function_source(fn, f"gradgen.{kind}")  # a function with readable source
        self.fun, self.kind, self.checks, self.use_cache = fn, kind, checks, use_cache
        self.wrt = parse_wrt(wrt, "wrt")
        suffix, mode, _ = KINDS[kind]
        self.name = fn.__name__ + suffix
        self.modes = [mode] if mode else None
        self.__name__ = self.__qualname__ = self.name
        self.__doc__ = f"gradgen.{kind} of {fn.__name__}: calls {self.name}."
        self._call = None
        self._module: types.ModuleType | None = None
        self._compiled = None

    def __call__(self, *args):
        if self._call is None:
            self._call = self._function()
        return self._call(*args)

    def __repr__(self) -> str:
        return f"<gradgen.{self.kind} of {self.fun.__name__}: {self.name}>"

    @property
    def module(self) -> types.ModuleType:
        """The generated module (compiled on first use)."""
        if self._module is None:
            self._module = self._load()
        return self._module

    @property
    def source(self) -> str:
        """The generated module's text."""
        return self.module.__gradgen_source__

    def latex(self) -> str:
        """The derivation as LaTeX (``gradgen latex``)."""
        return self._programs().latex()

    def graph(self):
        """The computational graph, a ``graphviz.Digraph``."""
        return self._programs().graph()

    def _repr_latex_(self) -> str:
        return self._programs()._repr_latex_()

    def _repr_markdown_(self) -> str:
        return self._programs()._repr_markdown_()

    def _programs(self):
        """The formulas need the compiler's intermediate form, which the cache does not
        keep: compiled afresh once, for display."""
        if self._compiled is None:
            from gradgen.pipeline import compile as compile_function

            self._compiled = compile_function(
                self.fun, self.wrt, self.modes, self.checks
            )
        return self._compiled

    def _function(self):
        found = getattr(self.module, self.name, None)
        if found is None:
            raise self._wrong_result()
        return found

    def _wrong_result(self) -> GradgenError:
        if KINDS[self.kind][2] == "scalar":
            result, got, use = "a scalar", "an array", "gradgen.vjp or gradgen.jacobian"
        else:
            result, got, use = "an array", "a scalar", "gradgen.grad or value_and_grad"
        return GradgenError(
            f"gradgen.{self.kind} needs a function with {result} result; "
            f"{self.fun.__name__} returns {got}",
            *self._where(),
            hint=f"use {use}",
        )

    def _where(self) -> tuple[str, int]:
        shown = function_source(self.fun)[0]
        return shown, self.fun.__code__.co_firstlineno

    def _key(self) -> str | None:
        digest = fingerprint(self.fun) if self.use_cache else None
        if digest is None:
            return None
        shown, real, text = function_source(self.fun)
        return cache.key(
            {
                "kind": "function",
                "name": self.fun.__name__,
                "path": shown,
                "real": real,
                "text": cache.sha256(text.encode("utf-8", "surrogatepass")),
                "code": digest,
                "wrt": self.wrt,
                "modes": self.modes,
                "checks": self.checks,
            }
        )

    def _load(self) -> types.ModuleType:
        key = self._key()
        if key is not None and key in _modules:
            cache.stats["hits"] += 1
            return _modules[key]
        entry = cache.lookup(key) if key is not None else None
        if entry is not None:
            source = entry["files"][0][1]
        else:
            source = self._compile()
            if key is not None:
                cache.store(key, {"files": [["<memory>", source]], "depends": {}})
        module = _module(self.fun.__name__, source)
        if key is not None:
            _modules[key] = module
        return module

    def _compile(self) -> str:
        from gradgen.pipeline import compile as compile_function

        compiles["count"] += 1
        try:
            self._compiled = compile_function(
                self.fun, self.wrt, self.modes, self.checks
            )
        except GradgenError as exc:
            if "needs a target with" in exc.message:  # a mode for the other results
                raise self._wrong_result() from None
            raise
        return self._compiled.source


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(f"gradgen_compiled_{name}")
    module.__gradgen_source__ = source
    code = builtins.compile(source, f"<gradgen {name}>", "exec")
    exec(code, module.__dict__)
    return module


def _transform(kind: str):
    def transform(f=None, *, wrt=None, checks=True, cache=True):
        if f is None:  # @gradgen.grad(wrt="W0")
            return lambda fn: Transformed(fn, kind, wrt, checks, cache)
        return Transformed(f, kind, wrt, checks, cache)

    transform.__name__ = transform.__qualname__ = kind
    suffix = KINDS[kind][0]
    transform.__doc__ = (
        f"``gradgen.{kind}(f, wrt=None, checks=True, cache=True)``: a callable that runs "
        f"the generated ``f{suffix}`` (compiled on the first call, through the compile "
        "cache unless ``cache=False``). Usable as a decorator, with or without options."
    )
    return transform


grad = _transform("grad")
value_and_grad = _transform("value_and_grad")
vjp = _transform("vjp")
jvp = _transform("jvp")
hvp = _transform("hvp")
hessian = _transform("hessian")
jacobian = _transform("jacobian")
