"""Model files: load one, find its compile targets, read their annotations.

Takes a path (or a function object) and returns a ``Model`` (the executed module, its AST
and a statement index) and its ``Target`` functions with their parameters as ``ir.Param``.
Every problem becomes a ``GradgenError`` naming the user's file:line.
"""

from __future__ import annotations

import ast
import functools
import inspect
import os
import sys
import types
from dataclasses import dataclass, field

import sympy as sp

from gradgen.array import AnnotationError, Array, ArrayType
from gradgen.errors import GradgenError
from gradgen.frontend import branch_runtime, branches, loops, usercode
from gradgen.frontend.reading import check_model_path, function_source, read_source
from gradgen.ir import Param, dim
from gradgen.timing import stage

# Statements with a body: their header line stands for them.
COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.While,
    ast.If,
    ast.With,
    ast.Try,
)


# A model file is often loaded many times in one process with the same text: once per
# target by the tests and by gradgen.compile, once per file of a batch that shares helpers.
# Parsing it and running its branch and loop rewrites is a pure function of the text (and
# of the path its code objects carry), and most of a second for a file of a few hundred
# lines, so the results of the last few texts are kept. A code object is immutable, and
# each load still executes it afresh into a new module; the statement nodes are only read.
@functools.lru_cache(maxsize=16)
def _spans(text: str) -> tuple:
    """(first line, last line, node) of every statement of ``text``; the header line
    stands for a statement with a body."""
    spans = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.stmt):
            end = node.lineno if isinstance(node, COMPOUND) else node.end_lineno
            spans.append((node.lineno, end, node))
    return tuple(spans)


def _rewritten_tree(text: str, real_path: str) -> ast.Module:
    """The syntax tree of a model file after the ``if`` and then the ``for`` rewrites
    (``branches``, ``loops``); raises SyntaxError for invalid Python."""
    return loops.transform(branches.transform(ast.parse(text, real_path)))


@functools.lru_cache(maxsize=16)
def _rewritten(text: str, real_path: str):
    """The code object of ``_rewritten_tree`` (a SyntaxError is not kept)."""
    return compile(_rewritten_tree(text, real_path), real_path, "exec")


@dataclass
class Model:
    """An executed model file. ``path`` is as the user wrote it; ``real_path`` is what
    frames and code objects carry."""

    path: str
    real_path: str
    text: str
    namespace: dict
    imported: list = field(default_factory=list)  # sibling modules it imported
    _spans: list = field(default_factory=list)
    _statements: dict = field(default_factory=dict)

    def __post_init__(self):
        self._spans.extend(_spans(self.text))

    def statement(self, line: int) -> tuple[int, str]:
        """The first line and the source (on one line) of the innermost statement covering
        ``line``."""
        if line not in self._statements:
            self._statements[line] = self._find_statement(line)
        return self._statements[line]

    def loop_variables(self, line: int) -> list[str]:
        """The names the ``for`` loops around ``line`` bind, outermost first."""
        loops = [
            node
            for _, _, node in self._spans
            if isinstance(node, ast.For) and node.lineno < line <= node.end_lineno
        ]
        names = []
        for loop in sorted(loops, key=lambda node: node.lineno):
            targets = getattr(loop.target, "elts", [loop.target])
            names += [t.id for t in targets if isinstance(t, ast.Name)]
        return names

    def names_read(self, line: int) -> list[tuple[str, bool]]:
        """The names the statement at ``line`` reads, in order, each once (none for a
        statement with a body), each with whether the statement also assigns it."""
        best = None
        for start, end, node in self._spans:
            if start <= line <= end and (
                best is None or end - start < best[1] - best[0]
            ):
                best = (start, end, node)
        if best is None or isinstance(best[2], COMPOUND):
            return []
        names = [n for n in ast.walk(best[2]) if isinstance(n, ast.Name)]
        stored = {n.id for n in names if not isinstance(n.ctx, ast.Load)}
        loads = [n for n in names if isinstance(n.ctx, ast.Load)]
        ordered = sorted(loads, key=lambda n: (n.lineno, n.col_offset))
        return [(name, name in stored) for name in dict.fromkeys(n.id for n in ordered)]

    def _find_statement(self, line: int) -> tuple[int, str]:
        best = None
        for start, end, node in self._spans:
            if start <= line <= end and (
                best is None or end - start < best[1] - best[0]
            ):
                best = (start, end, node)
        if best is None:
            return line, ""
        start, end, node = best
        return start, self._text_of(start, end, node)

    def _text_of(self, start: int, end: int, node: ast.stmt) -> str:
        if isinstance(node, COMPOUND):  # its header line stands for it
            return self.text.splitlines()[start - 1].strip()
        if start == end:
            return " ".join(ast.get_source_segment(self.text, node).split())
        return " ".join(ast.unparse(node).split())


@dataclass
class Target:
    name: str
    fn: types.FunctionType
    model: Model
    line: int
    params: list[Param]
    returns: tuple | None  # the annotated result shape; None when not annotated
    returns_array: (
        bool  # annotated Array[...]: an array output, differentiated by a VJP
    )


def _import_hint(exc: BaseException, path: str) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (
            f"install {exc.name.split('.')[0]}, or check the import: gradgen runs the "
            "model file as Python imports it"
        )
    if isinstance(exc, AnnotationError):
        return exc.hint
    return f"the model file must run as plain Python: python {path} shows the traceback"


def _run_model(code, module: types.ModuleType, path: str, real_path: str) -> list:
    """Execute the model's code in ``module``; return the files of the modules it
    imported from its own folder."""
    before = set(sys.modules)
    folder = os.path.dirname(real_path)
    sys.path.insert(0, folder)  # as `python model.py` would: sibling modules import
    try:
        with stage("load"), usercode.running(path, real_path, "at import"):
            exec(code, module.__dict__)
    except GradgenError:
        raise
    except RecursionError as exc:
        raise GradgenError(
            "the model file recurses without end at import",
            path,
            usercode.model_line(exc.__traceback__, real_path),
            "give the recursion a base case it reaches",
        ) from None
    except Exception as exc:  # the user's module failed at import time
        line = usercode.model_line(exc.__traceback__, real_path)
        message = (
            exc.message
            if isinstance(exc, AnnotationError)
            else f"running the model file failed: {type(exc).__name__}: {exc}"
        )
        raise GradgenError(message, path, line, _import_hint(exc, path)) from None
    finally:
        if sys.path and sys.path[0] == folder:
            del sys.path[0]
    files = [getattr(sys.modules.get(n), "__file__", None) for n in sys.modules]
    return [
        f
        for n, f in zip(sys.modules, files)
        if n not in before and f and os.path.dirname(os.path.abspath(f)) == folder
    ]


def load_model(path: str) -> Model:
    """Read, compile and execute a model file."""
    check_model_path(path)
    text = read_source(path)
    real_path = os.path.abspath(path)
    try:
        code = _rewritten(text, real_path)
    except SyntaxError as exc:
        raise GradgenError(
            f"invalid Python: {exc.msg}",
            path,
            exc.lineno,
            hint="fix the syntax; the model must run as plain Python",
        ) from None
    stem = os.path.splitext(os.path.basename(path))[0]
    module = types.ModuleType(f"gradgen_model_{stem}")
    module.__file__ = real_path
    setattr(module, branches.RUNTIME, branch_runtime)
    sys.modules[module.__name__] = module  # dataclasses and pickling look it up here
    try:
        imported = _run_model(code, module, path, real_path)
    finally:
        sys.modules.pop(module.__name__, None)
    return Model(path, real_path, text, module.__dict__, imported)


def _is_target(fn, real_path: str) -> bool:
    if not isinstance(fn, types.FunctionType) or fn.__name__.startswith("_"):
        return False
    if fn.__code__.co_filename != real_path:
        return False
    params = inspect.signature(fn).parameters.values()
    return bool(params) and all(
        p.annotation is not inspect.Parameter.empty for p in params
    )


def find_targets(model: Model, names: list[str] | None = None) -> list[Target]:
    """Every public, fully annotated top-level function, in file order (or those named)."""
    found = {
        name: fn
        for name, fn in model.namespace.items()
        if _is_target(fn, model.real_path) and name == fn.__name__
    }
    if names:
        missing = [n for n in names if n not in found]
        if missing:
            available = ", ".join(sorted(found)) or "none"
            raise GradgenError(
                f"no compile target named {missing[0]!r}",
                model.path,
                hint=f"targets in this file: {available}",
            )
        chosen = [found[n] for n in names]
    else:
        chosen = sorted(found.values(), key=lambda f: f.__code__.co_firstlineno)
    if not chosen:
        raise GradgenError(
            "no compile target: no public top-level function has parameters, all annotated",
            model.path,
            hint="annotate each parameter as float or Array['n', 'd']",
        )
    return [make_target(fn, model) for fn in chosen]


def model_of_function(fn) -> Model:
    """The model a function object was defined in (for ``gradgen.compile(fn)``)."""
    shown, real_path, text = function_source(fn)
    return Model(shown, real_path, text, fn.__globals__)


def with_branches(fn, model: Model):
    """``fn`` with the ``if`` rewrite of ``branches`` (as a model file loaded by path
    gets it): the top-level functions of its file, recompiled in a copy of its globals,
    so the helpers it calls are rewritten too; ``fn`` itself without its decorators
    (``@gradgen.grad``). A function that is not at the top level of its file is returned
    as it is."""
    try:
        tree = _rewritten_tree(model.text, model.real_path)  # its nodes are changed
    except SyntaxError:
        return fn
    namespace = dict(fn.__globals__)
    namespace[branches.RUNTIME] = branch_runtime
    line = fn.__code__.co_firstlineno  # where the rewritten fn starts
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.decorator_list:
            first = node.decorator_list[0].lineno
            if node.name != fn.__name__ or first != fn.__code__.co_firstlineno:
                continue
            node.decorator_list, line = [], node.lineno
        exec(compile(ast.Module([node], []), model.real_path, "exec"), namespace)
    new = namespace.get(fn.__name__)
    if not isinstance(new, types.FunctionType) or new.__code__.co_firstlineno != line:
        return fn
    return new


def _annotation_shape(annotation, where: str, model: Model, line: int):
    if annotation is float or annotation is int:
        return ()
    if annotation is inspect.Parameter.empty:
        raise GradgenError(
            f"{where} is not annotated",
            model.path,
            line,
            hint="annotate each parameter of a compile target as float or "
            "Array['n', 'd']",
        )
    if isinstance(annotation, ArrayType):
        return annotation.dims
    if annotation is Array:
        raise GradgenError(
            f"{where} is annotated Array without dimensions",
            model.path,
            line,
            hint="write Array['n', 'd'] (or Array[()] for a 0-d array)",
        )
    shown = getattr(annotation, "__name__", repr(annotation))
    if shown == "float":  # a function float of the model's hides Python's
        raise GradgenError(
            f"{where} is annotated float, which in this model is its own "
            f"{type(annotation).__name__} float, not Python's",
            model.path,
            line,
            hint="rename the model's float",
        )
    raise GradgenError(
        f"{where} is annotated {shown}",
        model.path,
        line,
        hint="gradgen compiles parameters annotated float, int, Array['n', 'd'] or "
        "Array['n', int]",
    )


def _integer(annotation) -> bool:
    """Integer data: ``int`` or ``Array[..., int]``."""
    return annotation is int or getattr(annotation, "integer", False) is True


def _plain_function(fn, model: Model, line: int) -> None:
    """Refuse a generator or ``async`` target: calling it runs none of its body."""
    kinds = [
        (inspect.isasyncgenfunction, "an async generator"),
        (inspect.iscoroutinefunction, "an async function"),
        (inspect.isgeneratorfunction, "a generator function (it yields)"),
    ]
    for test, kind in kinds:
        if test(fn):
            raise GradgenError(
                f"{fn.__name__} is {kind}",
                model.path,
                line,
                hint="a compile target is a plain def that returns its value",
            )


def _signature(fn, model: Model, line: int) -> inspect.Signature:
    try:
        return inspect.signature(fn, eval_str=True)
    except AnnotationError as exc:
        raise GradgenError(exc.message, model.path, line, exc.hint) from None
    except Exception as exc:  # an annotation string that does not evaluate
        raise GradgenError(
            f"the annotations of {fn.__name__} do not evaluate: "
            f"{type(exc).__name__}: {exc}",
            model.path,
            line,
            "an annotation is float or Array[...] with names and sizes",
        ) from None


def make_target(fn, model: Model) -> Target:
    line = fn.__code__.co_firstlineno
    _plain_function(fn, model, line)
    signature = _signature(fn, model, line)
    params, dims_seen = [], {}
    names = list(signature.parameters)
    for name, p in signature.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise GradgenError(
                f"parameter *{name} of {fn.__name__} cannot be compiled",
                model.path,
                line,
                hint="list each parameter separately",
            )
        raw = _annotation_shape(p.annotation, f"parameter {name!r}", model, line)
        for d in raw:
            if isinstance(d, str) and d in names:
                raise GradgenError(
                    f"dimension name {d!r} of parameter {name!r} is also a parameter name",
                    model.path,
                    line,
                    hint="rename the dimension or the parameter",
                )
        shape = tuple(dims_seen.setdefault(d, dim(d)) for d in raw)
        integer = _integer(p.annotation)
        params.append(Param(name, sp.Symbol(name, real=True), shape, integer))
    returns = None
    if _integer(signature.return_annotation):
        raise GradgenError(
            f"the return value of {fn.__name__} is annotated as integers",
            model.path,
            line,
            hint="a compile target returns float or Array['n', 'd']: its value is "
            "differentiated",
        )
    if signature.return_annotation is not inspect.Signature.empty:
        raw = _annotation_shape(
            signature.return_annotation, "the return value", model, line
        )
        if isinstance(signature.return_annotation, ArrayType):
            returns = tuple(dims_seen.get(d, dim(d)) for d in raw)
        else:
            returns = ()
    return Target(
        fn.__name__,
        fn,
        model,
        line,
        params,
        returns,
        isinstance(signature.return_annotation, ArrayType),
    )
