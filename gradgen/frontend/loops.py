"""Loops that stay loops: a model's ``for`` rewritten so that, while it is traced, a loop
over a length that is a name (``range(T)``, ``for x_t in X``) or a long one runs its body
once, on fresh values for what it carries from step to step.

Takes a model file's AST (``transform``, after ``branches.transform``) and returns it with
each ``for`` over a single name rewritten as::

    _gg_loopK = _gg_branch.loop_enter(ITER, locals(), NAMES, LINE, HEADER, REASON, INDEX)
    if _gg_loopK.rolled:
        TARGET, *NAMES = _gg_branch.loop_begin(_gg_loopK)   # the step, fresh carries
        BODY
        TARGET, *NAMES = _gg_branch.loop_exit(_gg_loopK, locals())  # the loop's results
    else:
        for TARGET in _gg_loopK.values:   # unrolled, as written
            BODY

``NAMES`` are the names the body binds or writes into; ``INDEX`` is TARGET's name
(``t`` for the loop a ``zip`` becomes); ``REASON`` says why the loop
cannot stay a loop (a ``break``, a list it appends to), or is None. ``range(...)`` in the
loop header may take sizes that are names. What the runtime decides and builds is in
``loop_runtime``. Python's ``ast`` has no such pass; it is written here. Line numbers
are kept, so errors point at the user's lines.
"""

from __future__ import annotations

import ast
import copy
import itertools

from gradgen.frontend.branches import RUNTIME, assigned_names, at, walk_local

# methods that change a Python container in place: a loop doing so is unrolled
_GROWING = {"append", "extend", "insert", "pop", "update", "setdefault", "add", "remove"}


def _call(name: str, *args) -> ast.Call:
    func = ast.Attribute(ast.Name(RUNTIME, ast.Load()), name, ast.Load())
    return ast.Call(func=func, args=list(args), keywords=[])


def _written(stmts) -> list[str]:
    """Names the statements bind, or write into (``out[t] = v``, ``x += v``)."""
    names = assigned_names(stmts)
    for node in walk_local(stmts):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Subscript):
                        base = sub.value
                        while isinstance(base, (ast.Subscript, ast.Attribute)):
                            base = base.value
                        if isinstance(base, ast.Name):
                            names.append(base.id)
    return [
        n for n in dict.fromkeys(names) if not n.startswith("_gg_")
    ]  # the branch rewrite's own names are the body's


def _reason(loop: ast.For) -> str | None:
    """Why this loop cannot stay a loop (it is then unrolled), or None."""
    for node in walk_local(loop.body):
        if isinstance(node, (ast.Break, ast.Continue)):
            return "it has a break or continue"
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)):
            return "it returns from inside the loop"
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return "it binds a global or nonlocal name"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _GROWING and isinstance(node.func.value, ast.Name):
                return (
                    f"it changes the Python container {node.func.value.id!r} "
                    f"({node.func.value.id}.{node.func.attr})"
                )
    if loop.target.id in assigned_names(loop.body):
        return f"it assigns its loop variable {loop.target.id!r}"
    return None


def _header(loop: ast.For) -> str:
    target = loop.target
    names = target.elts if isinstance(target, ast.Tuple) else [target]
    text = f"for {', '.join(map(ast.unparse, names))} in {ast.unparse(loop.iter)}"
    return " ".join(text.split())


def _zipped(loop: ast.For, k: int) -> list | None:
    """``for x_t, y_t in zip(X, Y)`` and ``for t, x_t in enumerate(X)`` as a loop over
    the step number that reads each step's rows (``RowsOf``)::

        _gg_rowsK = _gg_branch.rows_of(zip, (X, Y))
        for _gg_tK in _gg_rowsK.steps:
            x_t, y_t = _gg_rowsK.at(_gg_tK)
            BODY

    (the assignment and the new loop), or None for another loop."""
    call, target = loop.iter, loop.target
    if not (
        isinstance(target, ast.Tuple)
        and all(isinstance(e, ast.Name) for e in target.elts)
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in ("zip", "enumerate")
        and not call.keywords
        and call.args
        and not any(isinstance(a, ast.Starred) for a in call.args)
    ):
        return None
    names = [e.id for e in target.elts]
    if call.func.id == "zip" and len(names) == len(call.args):
        index, rows = f"_gg_t{k}", names
    elif call.func.id == "enumerate" and len(call.args) == 1 and len(names) == 2:
        index, rows = names[0], names[1:]
    else:
        return None
    holder = f"_gg_rows{k}"
    seqs = ast.Tuple(list(call.args), ast.Load())
    setup = ast.Assign([ast.Name(holder, ast.Store())], _call("rows_of", call.func, seqs))
    read = ast.Assign(
        [ast.Tuple([ast.Name(n, ast.Store()) for n in rows], ast.Store())],
        ast.Call(
            ast.Attribute(ast.Name(holder, ast.Load()), "at", ast.Load()),
            [ast.Name(index, ast.Load()), ast.Constant(tuple(rows))],
            [],
        ),
    )
    steps = ast.Attribute(ast.Name(holder, ast.Load()), "steps", ast.Load())
    body = [at(read, loop)] + loop.body
    new = at(ast.For(ast.Name(index, ast.Store()), steps, body, loop.orelse, None), loop)
    new.header = _header(loop)  # what messages and the derivation show
    return [at(setup, loop), new]


class _RangeCalls(ast.NodeTransformer):
    """``range(...)`` in a loop header: the runtime's, which takes sizes that are names."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "range":
            return at(ast.Call(_call("range_").func, node.args, node.keywords), node)
        return node


class _Loops(ast.NodeTransformer):
    def __init__(self):
        self.counter = itertools.count(1)

    def visit_FunctionDef(self, node):
        return node  # a nested function is rewritten on its own

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef

    def statements(self, stmts) -> list:
        out = []
        for stmt in stmts:
            result = self.visit(stmt)
            out += result if isinstance(result, list) else [result]
        return out

    def generic_visit(self, node):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, self.statements(stmts))
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                handler.body = self.statements(handler.body)
        return node

    def visit_For(self, node):
        node.body = self.statements(node.body)
        zipped = None if node.orelse else _zipped(node, next(self.counter))
        if zipped is not None:
            rolled = self._rolled(zipped[1])
            return [zipped[0], *(rolled if isinstance(rolled, list) else [rolled])]
        return self._rolled(node)

    def _rolled(self, node) -> list | ast.For:
        if not isinstance(node.target, ast.Name) or node.orelse:
            return node
        k = next(self.counter)
        state = f"_gg_loop{k}"
        target = node.target.id
        names = [n for n in _written(node.body) if n != target]
        load = lambda name: ast.Name(name, ast.Load())  # noqa: E731
        locals_ = ast.Call(ast.Name("locals", ast.Load()), [], [])
        iterable = _RangeCalls().visit(copy.deepcopy(node.iter))
        reason = _reason(node)
        enter = _call(
            "loop_enter",
            iterable,
            locals_,
            ast.Constant(tuple(names)),
            ast.Constant(node.lineno),
            ast.Constant(getattr(node, "header", None) or _header(node)),
            ast.Constant(reason),
            ast.Constant("t" if target.startswith("_gg_") else target),  # zip's: t
        )
        bound = ast.Tuple([ast.Name(n, ast.Store()) for n in [target] + names], ast.Store())
        rolled = [
            ast.Assign([copy.deepcopy(bound)], _call("loop_begin", load(state))),
            *copy.deepcopy(node.body),
            ast.Assign(
                [copy.deepcopy(bound)],
                _call("loop_exit", load(state), copy.deepcopy(locals_)),
            ),
        ]
        values = ast.Attribute(load(state), "values", ast.Load())
        unrolled = ast.For(node.target, values, node.body, [], None)
        if reason is not None:  # never rolled: the body as written (break and all)
            return [
                at(ast.Assign([ast.Name(state, ast.Store())], enter), node),
                at(unrolled, node),
            ]
        test = ast.Attribute(load(state), "rolled", ast.Load())
        return [
            at(ast.Assign([ast.Name(state, ast.Store())], enter), node),
            at(ast.If(test, [at(s, node) for s in rolled], [at(unrolled, node)]), node),
        ]


def transform(tree: ast.Module) -> ast.Module:
    """Rewrite the ``for`` loops of every function of a model file (see the module
    docstring)."""
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        if any(isinstance(n, ast.For) for n in walk_local(fn.body)):
            fn.body = _Loops().statements(fn.body)
    return ast.fix_missing_locations(tree)
