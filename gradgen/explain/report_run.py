"""The numbers of ``gradgen report``: the generated module, run at the inputs of ``--at``.

Takes the inputs (``--at name=value,...`` or an ``.npz`` file), one compiled program, its
named statements (``pipeline.gradient_statements``) and the generated module's source;
returns a ``Run``: for every statement of the generated ``f_value_and_grad`` (``f_vjp``
for an array output) the lines that compute it and the value it holds right after them.
The function runs as generated, with one call added after each assignment that records a
copy of the value just assigned: every number comes from the code the user runs, none
from a second evaluation that could disagree with it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

from gradgen import ir
from gradgen.domains import load_npz
from gradgen.errors import GradgenError

RECORD = "__gradgen_record__"  # the call added after each assignment
AT_HINT = (
    "give every parameter as --at w0=2,x0=-1 (numbers) or --at inputs.npz (arrays)"
)


def parse_at(specs: list[str]) -> dict:
    """The inputs given by ``--at`` (each ``name=value,...`` or an .npz file)."""
    inputs: dict = {}
    for spec in specs:
        if spec.endswith(".npz"):
            given = list(load_npz(spec, "--at").items())
        else:
            given = [_pair(part, spec) for part in spec.split(",") if part.strip()]
        for name, value in given:
            if name in inputs:
                raise GradgenError(f"--at gives {name} twice", hint=AT_HINT)
            inputs[name] = value
    return inputs


def _pair(part: str, spec: str) -> tuple[str, float]:
    name, equals, value = part.partition("=")
    try:
        if not equals or not name.strip().isidentifier():
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise GradgenError(
            f"cannot read {part.strip()!r} in --at {spec}", hint=AT_HINT
        ) from None


def arguments(program: ir.Program, inputs: dict) -> list:
    """The arguments of ``program`` from ``inputs``, checked against its annotations."""
    where = (program.path, program.line)
    missing = [p.name for p in program.params if p.name not in inputs]
    if missing:
        signature = f"{program.name}({', '.join(p.name for p in program.params)})"
        raise GradgenError(
            f"--at gives no value for {', '.join(missing)} of {signature}",
            *where,
            hint=AT_HINT + "; choose the function with --function",
        )
    sizes: dict = {}
    args = []
    for p in program.params:
        value = np.asarray(inputs[p.name], dtype=float)
        if p.integer and not np.all(value == np.round(value)):
            raise GradgenError(
                f"--at gives {p.name} values that are not integers; it is integer data",
                *where,
                hint=AT_HINT,
            )
        if value.ndim != len(p.shape):
            raise GradgenError(
                f"--at gives {p.name} the shape {value.shape}, but {program.name} "
                f"declares {p.name}: {ir.shape_str(p.shape) if p.shape else 'float'}",
                *where,
                hint=AT_HINT + "; choose the function with --function",
            )
        for d, size in zip(p.shape, value.shape):
            known = int(d) if d.is_Integer else sizes.setdefault(d, size)
            if known != size:
                raise GradgenError(
                    f"--at gives {p.name} the shape {value.shape}, but {program.name} "
                    f"declares {p.name}: {ir.shape_str(p.shape)}"
                    + ("" if d.is_Integer else f" with {d} = {known}"),
                    *where,
                    hint="make the sizes agree",
                )
        if p.integer:
            value = value.astype(np.int64)
            args.append(value if p.shape else int(value))
        else:
            args.append(value if p.shape else float(value))
    return args


@dataclass
class CodeStatement:
    """One assignment of the generated function: its name, first and last line."""

    name: str
    line: int
    end: int
    stmts: list = field(default_factory=list)  # the IR statements it belongs to
    indices: list = field(default_factory=list)  # their places in the statement list
    last: bool = False  # the last assignment of its run: it holds their final value


@dataclass
class Run:
    """What the generated function computes, statement by statement."""

    function: str  # its name in the generated module
    code: list[CodeStatement]
    lines: tuple[int, int]  # its first and last line in the module
    doc: tuple[int, int] = (0, -1)  # the first and last line of its docstring
    after: dict = field(default_factory=dict)  # statement index -> value after it
    values: dict = field(default_factory=dict)  # forward node or parameter -> value
    adjoints: dict = field(default_factory=dict)  # node -> the value of its adjoint
    result: object = None  # what the function returned


def _target_name(node: ast.stmt) -> str | None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if len(targets) != 1:
        return None
    target = targets[0]
    while isinstance(target, (ast.Subscript, ast.Attribute)):  # x[1:] = v: x
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _assignments(body: list, names: set) -> list[ast.stmt]:
    """The assignments to ``names`` in a function body, in order, loops included."""
    found = []
    for node in body:
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            if _target_name(node) in names:
                found.append(node)
        for attr in ("body", "orelse"):
            if isinstance(node, (ast.For, ast.While, ast.If, ast.With)):
                found += _assignments(getattr(node, attr, []), names)
    return found


def code_statements(program: ir.Program, named, source: str) -> Run:
    """The generated function's assignments, each with the IR statements it computes:
    consecutive assignments to one name are one run, as are consecutive statements with
    one name, and the runs correspond one to one, in order."""
    stmts, _, mapping = named
    function = f"{program.name}_{'vjp' if program.array_output else 'value_and_grad'}"
    tree = ast.parse(source)
    fn = next(n for n in tree.body if getattr(n, "name", None) == function)
    nodes = _assignments(fn.body, {mapping[s.target].name for s in stmts})
    code = [CodeStatement(_target_name(n), n.lineno, n.end_lineno) for n in nodes]
    code_runs = _runs(code, lambda c: c.name)
    ir_runs = _runs(list(range(len(stmts))), lambda i: mapping[stmts[i].target].name)
    if [r[0].name for r in code_runs] != [
        mapping[stmts[r[0]].target].name for r in ir_runs
    ]:
        raise RuntimeError(f"the statements of {function} do not match its code")
    for code_run, ir_run in zip(code_runs, ir_runs):
        for c in code_run:
            c.indices, c.stmts = ir_run, [stmts[i] for i in ir_run]
        code_run[-1].last = True
    out = Run(function, code, (fn.lineno, fn.end_lineno))
    if ast.get_docstring(fn) is not None:
        out.doc = (fn.body[0].lineno, fn.body[0].end_lineno)
    return out


def _runs(items: list, key) -> list[list]:
    runs: list[list] = []
    for item in items:
        if runs and key(runs[-1][-1]) == key(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


class _Recorder(ast.NodeTransformer):
    """Adds ``__gradgen_record__(k, name)`` after the k-th recorded assignment."""

    def __init__(self, nodes: list):
        self.index = {id(n): k for k, n in enumerate(nodes)}

    def generic_visit(self, node):
        super().generic_visit(node)
        for attr in ("body", "orelse"):
            body = getattr(node, attr, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, attr, [s for n in body for s in self._with_record(n)])
        return node

    def _with_record(self, node) -> list:
        k = self.index.get(id(node))
        if k is None:
            return [node]
        call = ast.Expr(
            ast.Call(
                ast.Name(RECORD, ast.Load()),
                [ast.Constant(k), ast.Name(_target_name(node), ast.Load())],
                [],
            )
        )
        return [node, ast.copy_location(call, node)]


def run(program: ir.Program, named, source: str, inputs: dict) -> Run:
    """Run the generated function of ``program`` at ``inputs``, recording every value."""
    out = code_statements(program, named, source)
    tree = ast.parse(source)
    fn = next(n for n in tree.body if getattr(n, "name", None) == out.function)
    _Recorder(_assignments(fn.body, {c.name for c in out.code})).visit(fn)
    ast.fix_missing_locations(tree)
    recorded: dict = {}
    namespace = {
        "__name__": f"gradgen_report_{program.name}",
        # a loop's results are a tuple (its helpers' values): not a number to show
        RECORD: lambda k, value: (
            None if isinstance(value, tuple) else recorded.__setitem__(k, np.copy(value))
        ),
    }
    exec(compile(tree, f"<generated {program.name}>", "exec"), namespace)
    args = arguments(program, inputs)
    with np.errstate(all="ignore"):
        try:
            if program.array_output:
                args.append(_cotangent(program, namespace, args, inputs))
            out.result = namespace[out.function](*args)
        except (ArithmeticError, ValueError, TypeError, IndexError) as exc:
            raise GradgenError(
                f"{out.function} failed at the inputs of --at: {exc}",
                program.path,
                program.line,
                hint="check the sizes of the inputs",
            ) from None
    _values(out, recorded, program, args, named[0])
    return out


def _cotangent(program, namespace, args, inputs) -> np.ndarray:
    """``--at cotangent=...`` if given, else ones: the gradient of the sum."""
    value = np.asarray(namespace[program.name](*args), dtype=float)
    given = inputs.get("cotangent")
    if given is None:
        return np.ones_like(value)
    given = np.asarray(given, dtype=float)
    if given.shape != value.shape:
        raise GradgenError(
            f"--at gives cotangent the shape {given.shape}, but "
            f"{program.name} returns the shape {value.shape}",
            program.path,
            program.line,
            hint="the cotangent has the shape of the result",
        )
    return given


def _values(out: Run, recorded: dict, program: ir.Program, args: list, stmts) -> None:
    """The value after each run of statements (the statements before its last were
    written over in place), and from those each node's value and its adjoint's."""
    for p, value in zip(program.params, args):
        out.values[p.sym] = value
    if program.array_output:
        out.values[program.cotangent] = args[-1]
    for k, c in enumerate(out.code):
        if c.last and k in recorded:
            out.after[c.indices[-1]] = _plain(recorded[k])
    forward, adjoint = {}, {}
    for i, s in enumerate(stmts):
        if s.section == "forward":
            forward[s.node if s.node is not None else s.target] = i
        elif s.role in ("adjoint", "grad") and s.node is not None:
            adjoint[s.node] = i  # the last one: the adjoint complete
    out.values.update({n: out.after[i] for n, i in forward.items() if i in out.after})
    out.adjoints = {n: out.after[i] for n, i in adjoint.items() if i in out.after}


def _plain(value):
    """A 0-d array as a Python float; arrays as they are."""
    return float(value) if np.ndim(value) == 0 else value
