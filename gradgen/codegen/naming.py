"""Naming: the final name of every symbol in a generated function.

Takes a ``Program`` and the statements of one generated function; returns a mapping from
internal symbols to symbols with their final names. Names come from the user: parameters
and dimensions as written; a value the user named keeps that name (a name in the target
function wins over one inside a helper; a name bound again, as in a loop, gets ``_1``,
``_2``); the adjoint of ``h`` is ``delta_h``; the gradient of parameter ``W`` is ``dW``; an
unnamed matrix product read only by a named value ``h`` is ``z_h`` (its pre-activation), and
a shared backward factor ``delta_h * dh/dz`` is ``delta_z_h``; the tangent (forward-mode
derivative) of a named value ``x`` is ``x_dot``; other temporaries are ``t1``, ``t2``.
Counters, never random suffixes: output is deterministic.
"""

from __future__ import annotations

import itertools
import keyword
from dataclasses import dataclass, field

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.reverse import needed_nodes
from gradgen.codegen.printer import HELPERS
from gradgen.errors import GradgenError
from gradgen.ops import ExpNegAbs, SigmoidAbs, SigmoidNegAbs

# The parts of a sigmoid the code computes over e = exp(-|z|), named after z
_SIGMOID_PARTS = {
    ExpNegAbs: "exp_neg_abs",
    SigmoidAbs: "sigmoid_abs",
    SigmoidNegAbs: "sigmoid_neg_abs",
}


@dataclass(frozen=True)
class ModuleNames:
    """The names a generated module gives what is its own, chosen so that no name of the
    user's (targets, parameters, dimensions, all public and kept exactly) can hide them:
    ``numpy``, the name NumPy is imported as (``np``); ``helpers``, each helper function's
    name (``sigmoid``, or ``sigmoid_stable`` beside a parameter named ``sigmoid``);
    ``dtype``, the local holding the float type of a function's arguments; ``reserved``,
    every name a local variable must not take (keywords, those names and the generated
    functions that other generated functions call); ``array_type`` and ``any_type``, the
    type hints' names for a float array and for ``typing.Any``; ``int_array_type`` for an
    integer array (defined in a module whose functions take one). For the Array API
    target (``array_api``), ``numpy`` is the namespace each function takes from its
    arguments (``xp``), ``namespace`` the name of ``array_api_compat.array_namespace``
    and ``extra`` the name ``array_api_extra`` is imported as (``xpx``, for writes into
    arrays).
    """

    numpy: str = "np"
    helpers: dict = field(default_factory=lambda: {h: h for h in HELPERS})
    reserved: frozenset = frozenset(keyword.kwlist) | {"np", "dtype", *HELPERS}
    dtype: str = "dtype"  # a local: the float type of a function's arguments
    array_type: str = (
        "FloatArray"  # np.ndarray[Any, np.dtype[np.floating[Any]]], in type hints
    )
    any_type: str = "Any"  # typing.Any
    int_array_type: str = "IntArray"  # np.ndarray[Any, np.dtype[np.integer[Any]]]
    array_api: bool = False
    namespace: str = "array_namespace"
    extra: str = "xpx"


def _free(base: str, taken: set, suffix: str = "") -> str:
    """``base``, else ``base + suffix``, else ``base + suffix`` with a counter."""
    if base not in taken:
        return base
    first = 0 if suffix else 1
    candidates = (
        f"{base}{suffix}_{k}" if k else f"{base}{suffix}"
        for k in itertools.count(first)
    )
    return next(c for c in candidates if c not in taken)


def _user_names(program: ir.Program) -> list[tuple[str, str]]:
    """(what, name) for the parameters and dimension names of a target."""
    found = [(f"parameter {p.name!r}", p.name) for p in program.params]
    for p in program.params:
        for d in p.shape:
            if ir.is_dim_symbol(d):
                found.append((f"dimension {d.name!r}", d.name))
    return found


def module_names(
    programs: list, functions: dict, called: dict, array_api: bool = False
) -> ModuleNames:
    """The module's own names for these programs; ``functions`` maps each program's name
    to the names of the functions generated for it, the first being the target's own;
    ``called`` maps it to those its generated code calls (``f_grad`` calls
    ``f_value_and_grad``). A generated function that would take the name of another
    function, or a parameter or dimension that would hide one the code calls, is an
    error."""
    owner = {}
    for program in programs:
        for k, name in enumerate(functions[program.name]):
            if name in owner:
                _clash(program, name, owner[name], own=k == 0)
            owner[name] = program.name
    taken = set(owner)
    for program in programs:
        for what, name in _user_names(program):
            if name in called[program.name]:
                raise GradgenError(
                    f"{what} of {program.name} has the name of the generated function "
                    f"{name}, which the generated code calls",
                    program.path,
                    program.line,
                    hint="rename it",
                )
            taken.add(name)
    if array_api:
        numpy = _free("xp", taken)
        fixed = {"math", "itertools", "array_api_compat"}  # modules imported by name
        namespace = _free("array_namespace", taken | {numpy} | fixed)
        extra = _free("xpx", taken | {numpy, namespace} | fixed)
        taken |= {numpy, namespace, extra} | fixed
    else:
        numpy = (
            "numpy" if "np" in taken and "numpy" not in taken else _free("np", taken)
        )
        namespace, extra = ModuleNames.namespace, ModuleNames.extra
    taken.add(numpy)
    dtype = _free("dtype", taken)
    taken.add(dtype)
    helpers = {}
    for helper in HELPERS:  # the stable forms' helpers, beside a sigmoid of the user's
        helpers[helper] = _free(
            helper, taken, "" if helper == "check_inputs" else "_stable"
        )
        taken.add(helpers[helper])
    array_type = _free("FloatArray", taken)
    any_type = _free("Any", taken | {array_type})
    int_array_type = _free("IntArray", taken | {array_type, any_type})
    taken |= {array_type, any_type, int_array_type}
    calls = {name for names in called.values() for name in names}
    own = {numpy, dtype, array_type, any_type, int_array_type, *helpers.values()}
    own |= (
        {namespace, extra, "math", "itertools", "array_api_compat"}
        if array_api
        else set()
    )
    reserved = frozenset(keyword.kwlist) | own | calls
    return ModuleNames(
        numpy,
        helpers,
        reserved,
        dtype,
        array_type,
        any_type,
        int_array_type,
        array_api,
        namespace,
        extra,
    )


def _clash(program: ir.Program, name: str, other: str, own: bool) -> None:
    if own:
        message = f"the compile target {name} has the name gradgen gives a function of {other}"
    else:
        message = (
            f"the generated function {name} of {program.name} has the name of "
            f"{'the compile target' if name == other else 'a function of'} {other}"
        )
    raise GradgenError(
        message,
        program.path,
        program.line,
        hint="rename one of them, or compile them one at a time with --function",
    )


def _affine(expr: sp.Expr) -> bool:
    """A matrix product, or a sum with one in it (x·W + b)."""
    terms = sp.Add.make_args(expr)
    return any(isinstance(t, ops.MatMul) for t in terms)


def pre_activations(stmts: list[ir.Stmt], names: dict) -> dict:
    """Forward temporaries that are the pre-activation of one named value: ``x·W + b``
    read by no forward statement but ``h = f(x·W + b)``. Each maps to ``h``'s symbol
    (the temporary is then ``z_h``, whose delta is ``delta_z_h``)."""
    readers: dict = {}
    for stmt in stmts:
        if stmt.section == "forward":
            for s in stmt.expr.free_symbols:
                readers.setdefault(s, []).append(stmt)
    found = {}
    for stmt in stmts:
        if stmt.section != "forward" or stmt.role != "temp" or not _affine(stmt.expr):
            continue
        read = readers.get(stmt.target, [])
        if len(read) == 1 and read[0].role == "forward" and read[0].target in names:
            found[stmt.target] = read[0].target
    return found


_LOOP_CALLS = (ops.LoopRun, ops.LoopDot, ops.LoopBack, ops.LoopBackDot)


class Namer:
    """Names shared by all functions generated for one target."""

    def __init__(self, program: ir.Program):
        self.program = program
        graph = program.graph
        self.taken = set((program.module_names or ModuleNames()).reserved)
        self.names: dict[sp.Symbol, str] = {}
        for p in program.params:  # public: exactly as the user wrote them
            self.names[p.sym] = p.name
            self.taken.add(p.name)
            for d in p.shape:
                if ir.is_dim_symbol(d):
                    self.names[d] = d.name
                    self.taken.add(d.name)
        needed = set().union(  # not a zeros the trace dropped
            *(needed_nodes(graph, o) for o in program.outputs or [program.output])
        )
        for node in graph.nodes:
            if node.kind != "input" and node.names and node.sym in needed:
                self.names[node.sym] = self._claim(min(node.names)[2], self.taken)
        by_name = {p.sym: p.name for p in program.params}
        for param_sym, grad in zip(
            [p.sym for p in program.params if p.name in program.wrt], program.grads
        ):
            self.names[grad] = self._claim("d" + by_name[param_sym], self.taken)
        if program.output not in self.names:
            self.names[program.output] = self._claim(program.name, self.taken)
        program.value_name = self.names[program.output]
        if program.cotangent is not None:
            self.names[program.cotangent] = self._claim("cotangent", self.taken)
        self.consumers: dict[sp.Symbol, list] = {}
        for node in graph.nodes:
            for s in graph.operands(node):
                self.consumers.setdefault(s, []).append(node.sym)

    @staticmethod
    def _claim(base: str, taken: set) -> str:
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        return name

    def mapping(self, stmts: list[ir.Stmt]) -> dict[sp.Symbol, sp.Symbol]:
        """Final symbols for every symbol these statements define or read."""
        names = dict(self.names)
        taken = set(self.taken)
        temps = itertools.count(1)
        temporary: set = set()

        def temp_name() -> str:
            while True:
                candidate = f"t{next(temps)}"
                if candidate not in taken:
                    taken.add(candidate)
                    temporary.add(candidate)
                    return candidate

        def derived(sym) -> str | None:
            """z_h for a matrix product read only by h; lse for a logsumexp."""
            readers = self.consumers.get(sym, [])
            node = self.program.graph.by_sym.get(sym)
            linear = node is not None and isinstance(node.expr, ops.MatMul)
            if linear and len(readers) == 1 and readers[0] in self.names:
                return f"z_{self.names[readers[0]]}"
            if node is not None and isinstance(node.expr, ops.LogSumExp):
                return "lse"
            return None

        def node_name(sym) -> str:
            if sym not in names:
                base = derived(sym)
                names[sym] = self._claim(base, taken) if base else temp_name()
            return names[sym]

        adjoint_of = {s.target: s.node for s in stmts if s.role == "adjoint"}
        adjoint_of.update(getattr(self.program, "seed_of", {}))  # a loop body's seeds
        pre_activation = pre_activations(stmts, names)
        defined = {s.target for s in stmts}

        def delta_name(node) -> str:
            """delta_h, after the name the code gives h; a temporary's name when the code
            computes h inside another expression (and so gives it no name)."""
            if node in names or node in defined or derived(node):
                return self._claim(f"delta_{node_name(node)}", taken)
            return temp_name()

        def pre_activation_delta(stmt) -> str | None:
            """delta_h * (1 - h**2): the delta of h's input, the pre-activation z_h."""
            if stmt.section != "backward" or not isinstance(stmt.expr, sp.Mul):
                return None
            deltas = [f for f in stmt.expr.args if f in adjoint_of]
            if len(deltas) != 1:
                return None
            return self._claim(f"delta_z_{node_name(adjoint_of[deltas[0]])}", taken)

        for stmt in stmts:
            if stmt.target in names:
                continue
            part = _SIGMOID_PARTS.get(type(stmt.expr))
            base = stmt.expr.args[0] if part else None
            if base is not None and base in names:  # exp(-|z|) of a sigmoid's z, ...
                names[stmt.target] = self._claim(f"{part}_{names[base]}", taken)
            elif isinstance(stmt.expr, _LOOP_CALLS):
                backward = isinstance(stmt.expr, (ops.LoopBack, ops.LoopBackDot))
                base = "loop_grads" if backward else "loop"
                names[stmt.target] = self._claim(base, taken)
            elif stmt.role == "forward":
                node_name(stmt.target)
            elif stmt.target in pre_activation:
                h = names[pre_activation[stmt.target]]
                names[stmt.target] = self._claim(f"z_{h}", taken)
            elif stmt.role == "adjoint":
                names[stmt.target] = delta_name(stmt.node)
            elif stmt.role == "tangent":
                # h_dot, delta_h_dot, dW_dot: derivatives along a direction
                base = names.get(stmt.node)
                names[stmt.target] = (
                    temp_name()
                    if base is None or base in temporary
                    else self._claim(f"{base}_dot", taken)
                )
            else:
                names[stmt.target] = pre_activation_delta(stmt) or temp_name()
        final = {}
        for sym, name in names.items():
            if ir.is_dim_symbol(sym) or sym.name == name:
                final[sym] = sym
            else:
                final[sym] = sp.Symbol(name, real=True)
        return final
