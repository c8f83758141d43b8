"""Branches on traced values: a Python ``if`` whose condition depends on the data, turned
into element-wise selects.

Takes a model file's AST (``transform``) and returns it with every function that holds an
``if`` rewritten so that, when the condition is a traced comparison, both branches run one
after the other and each variable they assign (or array they write into) is merged with
``np.where(cond, then_value, else_value)``; a condition that is a plain Python value runs the
``if`` as written. Early returns inside an ``if`` are first lifted into one result variable,
so ``if r < d: return a`` / ``return b`` works too. ``a if c else b``, ``and``, ``or``,
``not`` and comparison chains in conditions get the same treatment. What cannot be turned
into a select (a ``while`` on traced data, a ``return`` inside a loop inside such a branch,
branches that give different shapes) is refused naming the line. Python's ``ast`` has no
such pass; it is written here. Line numbers are kept, so errors and ``# Grad of:`` comments
point at the user's lines.
"""

from __future__ import annotations

import ast
import copy
import itertools

RUNTIME = "_gg_branch"  # the name the transformed code reads the runtime helpers from
RESULT = "_gg_result"


# --- static analysis ---------------------------------------------------------------------


def walk_local(nodes):
    """Nodes of these statements, not entering nested functions, lambdas or classes."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
            ):
                stack.append(child)


def assigned_names(stmts) -> list[str]:
    """Names bound by these statements, in first-seen order."""
    names = []
    for node in walk_local(stmts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.append(node.id)
    return sorted(set(names), key=names.index)


def _has(stmts, kinds) -> bool:
    return any(isinstance(n, kinds) for n in walk_local(stmts))


# --- early returns, lifted into one result variable ----------------------------------------


def at(node, like):
    """Place a synthetic node (and its new children) on the first line of ``like``. Not
    ``ast.copy_location``: a span over several lines would move the lines Python reports
    for method calls inside it (CPython reports those at the attribute's end)."""
    for child in ast.walk(node):
        if getattr(child, "lineno", None) is None:
            child.lineno = child.end_lineno = like.lineno
            child.col_offset = child.end_col_offset = 0
    return node


def _assign(name: str, value, like) -> ast.Assign:
    value = value if value is not None else ast.Constant(None)
    return at(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), like)


def _lift(stmts: list) -> tuple[list, bool]:
    """``stmts`` with each ``return v`` in an ``if`` turned into ``RESULT = v`` and the
    statements after such an ``if`` moved into both its branches (where, lifted in turn,
    they run only on the paths that did not return); and whether every path through them
    now ends in a result."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, ast.Return):
            out.append(_assign(RESULT, stmt.value, stmt))
            return out, True  # what follows a return never runs
        if isinstance(stmt, ast.If) and _has(stmt.body + stmt.orelse, ast.Return):
            rest = stmts[i + 1 :]
            body, body_returns = _lift(stmt.body + copy.deepcopy(rest))
            orelse, else_returns = _lift(stmt.orelse + copy.deepcopy(rest))
            lifted = at(ast.If(stmt.test, body, orelse), stmt)
            lifted.gg_lifted = True  # nothing runs after it but the return of RESULT
            out.append(lifted)
            return out, body_returns and else_returns
        out.append(stmt)
    return out, False


def _lift_function(fn: ast.FunctionDef) -> None:
    returns_in_if = any(
        isinstance(n, ast.If) and _has(n.body + n.orelse, ast.Return)
        for n in walk_local(fn.body)
    )
    loops_return = any(
        isinstance(n, (ast.For, ast.While, ast.With, ast.Try))
        and _has(n.body, ast.Return)
        for n in walk_local(fn.body)
    )
    if not returns_in_if or loops_return:
        return  # nothing to lift, or returns the lifting cannot move (left as written)
    body, _ = _lift(fn.body)
    start = _assign(RESULT, None, fn.body[0])
    end = at(ast.Return(ast.Name(RESULT, ast.Load())), fn.body[-1])
    fn.body = [start] + body + [end]


# --- the rewrite ---------------------------------------------------------------------------


def _call(name: str, *args, like=None) -> ast.Call:
    func = ast.Attribute(ast.Name(RUNTIME, ast.Load()), name, ast.Load())
    node = ast.Call(func=func, args=list(args), keywords=[])
    return at(node, like) if like is not None else node


def _lambda(body) -> ast.Lambda:
    arguments = ast.arguments(
        posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
    )
    return at(ast.Lambda(arguments, body), body)


def _names_tuple(names, ctx):
    return ast.Tuple([ast.Name(n, ctx()) for n in names], ctx())


class _Rewriter(ast.NodeTransformer):
    """Rewrites the ``if`` statements, conditional expressions and loop tests of one
    function (a nested function is rewritten on its own)."""

    def __init__(self):
        self.counter = itertools.count(1)

    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef

    def statements(self, stmts) -> list:
        return [s for stmt in stmts for s in _as_list(self.visit(stmt))]

    def condition(self, test):
        """A condition with ``and``/``or``/``not``/chains that accept traced values."""
        if isinstance(test, ast.BoolOp):
            name = "and_" if isinstance(test.op, ast.And) else "or_"
            values = [self.condition(v) for v in test.values]
            node = values[0]
            for value in values[1:]:
                node = _call(name, node, _lambda(value), like=test)
            return node
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return _call("not_", self.condition(test.operand), like=test)
        if isinstance(test, ast.Compare) and len(test.ops) > 1:
            operands = [test.left] + test.comparators
            pairs = [
                at(ast.Compare(a, [op], [b]), test)
                for a, op, b in zip(operands, test.ops, operands[1:])
            ]
            return self.condition(at(ast.BoolOp(ast.And(), pairs), test))
        return self.visit(test)

    def visit_IfExp(self, node):
        test = self.condition(node.test)
        then, other = self.visit(node.body), self.visit(node.orelse)
        return _call("ifexp", test, _lambda(then), _lambda(other), like=node)

    def visit_While(self, node):
        self.generic_visit(node)
        node.test = _call("loop_test", node.test, like=node)
        return node

    def visit_If(self, node):
        k = next(self.counter)
        cond, state = f"_gg_cond{k}", f"_gg_state{k}"
        test = self.condition(node.test)
        body, orelse = self.statements(node.body), self.statements(node.orelse)
        names = [
            n
            for n in assigned_names(node.body + node.orelse)
            if not n.startswith(("_gg_cond", "_gg_state"))
        ]
        load = lambda name: ast.Name(name, ast.Load())  # noqa: E731
        locals_ = ast.Call(ast.Name("locals", ast.Load()), [], [])
        names_const = ast.Constant(tuple(names))
        traced = [
            _assign(state, _call("enter", load(cond), locals_, names_const), node),
        ]
        if _has(node.body + node.orelse, (ast.Return, ast.Break, ast.Continue)):
            traced.append(at(ast.Expr(_call("refuse_jump", like=node)), node))
        traced += copy.deepcopy(body)
        traced.append(ast.Expr(_call("switch", load(state), locals_)))
        if names:
            restored = _call("restore", load(state))
            traced.append(ast.Assign([_names_tuple(names, ast.Store)], restored))
        traced += copy.deepcopy(orelse)
        # after an if holding lifted returns only the result is read: the names the
        # statements moved into its branches assign need no merging (nor the same shapes)
        live = [RESULT] if getattr(node, "gg_lifted", False) else names
        merged = _call("merge", load(state), locals_, ast.Constant(tuple(live)))
        if names:
            traced.append(ast.Assign([_names_tuple(names, ast.Store)], merged))
        else:
            traced.append(ast.Expr(merged))
        plain = ast.If(load(cond), body, orelse)
        dispatch = ast.If(_call("traced", load(cond)), traced, [plain])
        return [_assign(cond, test, node), at(dispatch, node)]


def _needs_rewrite(fn: ast.FunctionDef) -> bool:
    return _has(fn.body, (ast.If, ast.IfExp, ast.While))


def transform(tree: ast.Module) -> ast.Module:
    """Rewrite every function of a model file that holds an ``if``, a conditional
    expression or a ``while`` (see the module docstring); other code is left as written.
    """
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _needs_rewrite(node)
    ]
    for fn in functions:
        _lift_function(fn)
        fn.body = _Rewriter().statements(fn.body)
    return ast.fix_missing_locations(tree)


def _as_list(result) -> list:
    return result if isinstance(result, list) else [result]
