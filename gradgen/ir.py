"""The IR: a DAG of SymPy symbols with shapes in a side table.

Every traced array value is a plain SymPy ``Symbol``; its shape lives in ``Graph.shapes``.
Elementwise math is ordinary SymPy scalar math over those symbols, read with NumPy
broadcasting, so ``sympy.diff`` gives each elementwise derivative. Structural operations
(matmul, transpose, reductions, broadcasting) are opaque ``Structural`` functions whose
derivatives are hand-written VJP and JVP rules, kept with each operation in
``gradgen.ops``; each one's result gets its own node, so ``diff`` never reaches inside it.

Takes nothing from the other stages; gives them ``Graph``, ``Node``, ``Site``, ``Stmt``,
``Program``, the ``Structural`` base of the operations and ``shape_of``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy as sp

from gradgen import sympy_fixes  # noqa: F401 - applied on import

Shape = tuple  # of sympy Integer / positive integer Symbol


class ShapeError(ValueError):
    """Shapes that do not agree; the tracer adds the user's file:line."""


def dim(value) -> sp.Expr:
    """A dimension: a positive integer symbol for a name, an Integer for a size."""
    if isinstance(value, str):
        return sp.Symbol(value, integer=True, positive=True)
    return sp.Integer(value)


def is_dim_symbol(sym) -> bool:
    return isinstance(sym, sp.Symbol) and sym.is_integer is True


def of_sizes(value) -> bool:
    """Whether ``value`` is a SymPy expression of dimension sizes only (``x.shape[0]``,
    ``n - 1``, a number): a constant of the model."""
    return isinstance(value, sp.Expr) and all(
        is_dim_symbol(s) for s in value.free_symbols
    )
    active: list = field(default_factory=list)  # the inputs it differentiates, in order


def shape_str(shape: Shape) -> str:
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy broadcasting over symbolic shapes; two different names never broadcast."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        sizes = []
        for s in shapes:
            k = axis - (ndim - len(s))
            if k >= 0 and s[k] != 1 and s[k] not in sizes:
                sizes.append(s[k])
        if len(sizes) > 1:
            described = " and ".join(shape_str(s) for s in shapes)
            raise ShapeError(
                f"shapes {described} do not broadcast: {sizes[0]} and {sizes[1]} differ"
            )
        out.append(sizes[0] if sizes else sp.Integer(1))
    return tuple(out)


def size_of(shape: Shape) -> sp.Expr:
    return sp.Mul(*shape) if shape else sp.Integer(1)


# --- Structural operations -------------------------------------------------------------
# Each class lists how many leading arguments are arrays (the rest are static: axes as a
# sympy Tuple, flags as Integer 0/1) and how it computes its result shape.


class Structural(sp.Function):
    """An opaque array operation; each one's rules and printing sit with it in its family
    module of ``gradgen.ops`` (``ops/__init__.py`` lists what each holds)."""

    array_args = 1

    def out_shape(
        self, shapes: list
    ) -> Shape:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def fdiff(self, argindex=1):
        raise TypeError(
            f"{type(self).__name__} is differentiated by its VJP rule, not diff"
        )

    def _eval_is_real(self):
        return True

    def _sympystr(self, printer):
        # str() as a plain function call: SymPy's StrPrinter has _print_MatMul and
        # _print_Transpose for its own matrix classes, which fail on these (SymPy calls str()
        # itself, e.g. to order the generators of a polynomial).
        args = ", ".join(printer._print(a) for a in self.args)
        return f"{type(self).__name__}({args})"


def static(value) -> sp.Basic:
    """A static argument of a structural op: an Integer, or a Tuple of them."""
    if isinstance(value, (tuple, list)):
        return sp.Tuple(*[sp.Integer(v) for v in value])
    return sp.Integer(int(value))


def misshapen(expr: sp.Expr, shapes: dict, memo: dict | None = None) -> bool:
    """Whether folding made an operation's operands not fit: SymPy cancels a * r - a * r
    to 0, a scalar, where an argument of @ needs a matrix (A @ 0)."""
    try:
        shape_of(expr, shapes, memo)
    except (ShapeError, IndexError):  # IndexError: an operand of too few axes (outer)
        return True
    except KeyError:  # a symbol made after tracing: nothing to check it against
        return False
    return False


def shape_of(expr: sp.Expr, shapes: dict, memo: dict | None = None) -> Shape:
    """The broadcast shape of an expression over symbols whose shapes are in ``shapes``."""
    memo = {} if memo is None else memo
    if expr in shapes:
        return shapes[expr]
    if expr in memo:
        return memo[expr]
    if isinstance(expr, sp.Symbol):
        if is_dim_symbol(expr):
            return ()
        raise KeyError(f"no shape recorded for {expr}")
    if not expr.args or expr.is_Number:
        return ()
    if isinstance(expr, Structural):
        arrays = [shape_of(a, shapes, memo) for a in expr.args[: expr.array_args]]
        result = expr.out_shape(arrays)
    elif isinstance(expr, sp.Piecewise):
        parts = [shape_of(p, shapes, memo) for pair in expr.args for p in pair]
        result = broadcast_shapes(*parts)
    else:
        result = broadcast_shapes(*[shape_of(a, shapes, memo) for a in expr.args])
    memo[expr] = result
    return result


# --- The graph -------------------------------------------------------------------------


# A value SymPy folded into an infinity or nan for some inputs: 1 / (x > 0) as a number is
# 1 where x > 0 and a division by zero elsewhere. A select that never picks that branch
# (np.where(x > 0, 1 / (x > 0), 0)) folds it away; tracing lets a value hold such a branch
# until then (``Tracer.partial``), and no node may hold one (``Graph.add``).
PARTIAL = (
    "this value is infinite or undefined for some inputs: a division by zero, or the "
    "log of zero, where a comparison used as a number is 0"
)
PARTIAL_HINT = (
    "divide by np.where(c, t, 1.0), and pick the result with np.where(c, ..., 0.0)"
)


@dataclass(frozen=True)
class Site:
    """Where a node was traced: the innermost line in the model file (for errors), and the
    statement of the target function being run (for ``# Grad of:`` comments); ``step``
    is the values of the loop variables around it, as ``t = 3``, when it runs in an
    unrolled loop; ``reads`` the values its names held when it started."""

    path: str
    line: int
    stmt_line: int
    stmt_key: int
    stmt_text: str
    step: str = ""
    reads: tuple = ()  # (name, symbol, assigned): the values its names held

    def notes(self, mapping: dict, width: int = 40) -> str:
        """``t = 3; h on the right is h_2``: the step of an unrolled loop the statement
        runs in, and each name it reads whose value the generated code calls otherwise
        (``on the right`` when the statement assigns that name too), as many of those
        as fit in ``width`` characters."""
        notes = [self.step] if self.step else []
        for name, sym, assigned in self.reads:
            final = mapping.get(sym)
            if final is not None and final.name != name:
                where = " on the right" if assigned else ""
                note = f"{name}{where} is {final.name}"
                if len("; ".join(notes + [note])) > width:
                    break
                notes.append(note)
        return "; ".join(notes)


@dataclass(eq=False)
class Node:
    sym: sp.Symbol
    kind: str  # "input" | "elementwise" | "structural"
    expr: sp.Expr | None
    shape: Shape
    site: Site | None
    index: int = 0
    names: list = field(default_factory=list)  # (depth, order, name) candidates


class Graph:
    """Nodes in creation (topological) order, their shapes, and a symbol factory."""

    def __init__(self, prefix: str = "_gg_"):
        self.prefix = prefix  # of the symbols' internal names (a loop body's are its own)
        self.nodes: list[Node] = []
        self.by_sym: dict[sp.Symbol, Node] = {}
        self.shapes: dict[sp.Symbol, Shape] = {}
        self.integers: set[sp.Symbol] = set()  # nodes holding integers (data)
        self._counter = 0
        # conditions on the sizes that tracing took to hold (a slice [:6] of an axis of
        # size T has 6 elements only when T >= 6): condition -> what needs it, for the
        # generated functions to check at entry (codegen/entry.py)
        self.requires: dict = {}
        self.loops: list = []  # the rolled loops (Loop), in the order they run

    def new_symbol(self, kind: str) -> sp.Symbol:
        self._counter += 1
        return sp.Symbol(f"{self.prefix}{kind}{self._counter}", real=True)

    def add(
        self, kind: str, expr, shape: Shape, site: Site | None, sym=None, at=None
    ) -> Node:
        """A new node, appended, or inserted at position ``at`` (before the node there).
        No node holds an infinity or nan SymPy folded in (``PARTIAL``): a model's own
        graph, a loop's steps' or a derivative's."""
        if isinstance(expr, sp.Basic) and expr.has(sp.zoo, sp.nan):
            from gradgen.errors import GradgenError

            where = (site.path, site.line) if site is not None else (None, None)
            raise GradgenError(PARTIAL, *where, PARTIAL_HINT)
        node = Node(sym or self.new_symbol("n"), kind, expr, tuple(shape), site)
        if at is None:
            node.index = len(self.nodes)
            self.nodes.append(node)
        else:
            self.nodes.insert(at, node)
            for k, n in enumerate(self.nodes[at:], start=at):
                n.index = k
        self.by_sym[node.sym] = node
        self.shapes[node.sym] = node.shape
        return node

    def remove(self, syms: set) -> None:
        """Take these nodes out (a rolled loop's body moves to a graph of its own)."""
        self.nodes = [n for n in self.nodes if n.sym not in syms]
        for k, n in enumerate(self.nodes):
            n.index = k
        for s in syms:
            self.by_sym.pop(s, None)

    def operands(self, node: Node) -> list[sp.Symbol]:
        """The nodes a node reads, each once, in graph order."""
        if node.expr is None:
            return []
        found = {s for s in node.expr.free_symbols if s in self.by_sym}
        return sorted(found, key=lambda s: self.by_sym[s].index)


@dataclass
class Stmt:
    """``target = expr``. ``role`` is forward, adjoint, grad or temp; ``node`` is the node
    whose value or adjoint this is; ``block`` the forward statement it differentiates (or,
    for a forward statement, the one it computes); ``section`` is forward or backward.
    ``in_place``: the target already holds the array the expression writes into (an
    ``Update`` or a sum of ``Scatter``s), so only the written slots are printed.
    """

    target: sp.Symbol
    expr: sp.Expr
    role: str
    node: sp.Symbol | None = None
    block: Site | None = None
    section: str = ""
    in_place: bool = False

    def __post_init__(self):
        if not self.section:
            self.section = "forward" if self.role == "forward" else "backward"

    def with_expr(self, expr: sp.Expr) -> "Stmt":
        return dataclasses.replace(self, expr=expr)


@dataclass
class Param:
    name: str
    sym: sp.Symbol
    shape: Shape  # () for float
    integer: bool = False  # integer data (Array["n", int], int): never differentiated


@dataclass
class Program:
    """One compile target after tracing and differentiation."""

    name: str
    path: str
    line: int
    params: list[Param]
    wrt: list[str]
    graph: Graph
    output: sp.Symbol
    array_output: bool
    forward: list[Stmt] = field(default_factory=list)
    backward: list[Stmt] = field(default_factory=list)
    grads: list[sp.Symbol] = field(default_factory=list)
    cotangent: sp.Symbol | None = None
    value_name: str = "value"
    rewrites: list[str] = field(
        default_factory=list
    )  # keys of ad.stable_rewrites.REWRITES
    # naming.ModuleNames: the generated module's own names (NumPy's, the helpers'), set
    # when the module's programs are known (pipeline.name_module); None: the defaults
    module_names: object = None
    checks: bool = True  # generated functions check their arguments (entry.py)
    outputs: list = field(default_factory=list)  # a loop body's: every carried value


@dataclass
class Carry:
    """A value a rolled loop carries from step to step: ``init`` (outer graph) is its
    value before the loop, ``inner`` the body's input for it, ``out`` the body's new value."""

    name: str
    init: sp.Symbol
    inner: sp.Symbol
    out: sp.Symbol
    shape: Shape


@dataclass
class Slice:
    """``X[t + offset]`` read in a rolled loop's body: ``inner`` is the body's input for
    that row of the outer array ``array``."""

    array: sp.Symbol
    offset: int
    inner: sp.Symbol
    name: str


@dataclass
class Loop:
    """A loop of the model that stays a loop: its body traced once into ``graph``.

    ``index`` is the loop variable's name and ``index_sym`` the body's input for the step
    number (None when the body does not read it); the steps are ``range(start, stop)``.
    The body reads ``carries`` (inner), ``slices`` and the outer ``invariants``; the loop's
    results are the carries' last values."""

    key: int
    line: int
    header: str
    index: str
    index_sym: sp.Symbol | None
    start: sp.Expr
    stop: sp.Expr
    carries: list
    slices: list
    invariants: list
    graph: "Graph"
    name: str = ""  # the generated helpers' base name, as _loss_loop1
    outer_shapes: dict = field(default_factory=dict)  # of the inputs
    passed: list = field(default_factory=list)  # sizes the helpers take (range bounds)
    checkpoint: int = 0  # keep the carried values every K steps only (0: the whole tape)

    @property
    def inputs(self) -> list:
        """The outer values the loop reads, in the order its helpers take them."""
        found = [c.init for c in self.carries] + [s.array for s in self.slices]
        return list(dict.fromkeys(found + list(self.invariants)))
