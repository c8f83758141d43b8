"""The reverse sweep: one adjoint per node, by the multivariable chain rule.

Takes a traced ``ir.Graph``, its output and the parameters to differentiate; returns the
forward statements the output needs and the backward statements (adjoints and gradients).
Each node's adjoint is the sum of its consumers' contributions; it is emitted as soon as the
last of them arrives, inside the block of the forward statement that completed it, so the
backward reads in reverse statement order like hand-written backprop. Contributions are
un-broadcast to their operand's shape here, once; rules never do it.
"""

from __future__ import annotations

import sympy as sp

from gradgen import ir, ops
from gradgen.ad.partials import elementwise_partial
from gradgen.errors import GradgenError
from gradgen.ops import Update


def needed_nodes(graph: ir.Graph, output: sp.Symbol) -> set:
    """The output and every node it reads, directly or not."""
    needed = {output}
    for node in reversed(graph.nodes):
        if node.sym in needed:
            needed.update(graph.operands(node))
    return needed


def active_nodes(graph: ir.Graph, wrt: set) -> set:
    """Every node that depends on a differentiated parameter (activity analysis);
    integer data (labels, an argmax) never does: its derivative is zero."""
    active = set()
    for node in graph.nodes:
        if node.sym in graph.integers:
            continue
        if node.sym in wrt or any(s in active for s in graph.operands(node)):
            active.add(node.sym)
    return active


def forward_statements(graph: ir.Graph, output: sp.Symbol) -> list[ir.Stmt]:
    needed = needed_nodes(graph, output)
    return [
        ir.Stmt(n.sym, n.expr, "forward", n.sym, n.site)
        for n in graph.nodes
        if n.sym in needed and n.kind != "input"
    ]


def _implied_count(have: tuple, target: tuple, implied: tuple) -> sp.Expr:
    """How many copies of ``c`` (shape ``have``) summing ``implied`` down to ``target``
    adds up: the sizes of the summed axes that ``c`` does not have (it is constant along
    them)."""
    count = sp.Integer(1)
    for i, size in enumerate(implied):
        k = i - (len(implied) - len(target))  # the axis in target, if any
        summed = k < 0 or (target[k] == 1 and size != 1)
        j = i - (len(implied) - len(have))  # the axis in c, if any
        if summed and (j < 0 or have[j] == 1):
            count *= size
    return count


def unbroadcast(
    c: sp.Expr, target: tuple, shape, implied: tuple | None = None
) -> sp.Expr:
    """Sum ``c`` over the axes NumPy broadcast it along, so it fits ``target``.
    ``implied`` is the shape ``c`` stands for when that is larger than its own (an
    elementwise node's contribution: ``g * 1`` with a scalar ``g`` is a whole array of
    ones); summing over an axis ``c`` lacks multiplies by its size.
    A ``c`` that is smaller than ``target`` is left to broadcast later."""
    have = shape(c)
    if implied is not None and implied != have:
        c = c * _implied_count(have, target, implied)
    if have == target:
        return c
    lead = len(have) - len(target)
    if lead > 0:
        c = ops.reduce(ops.ReduceSum, c, range(lead), len(have))
        have = have[lead:]
    offset = len(target) - len(have)
    keep = [i for i, d in enumerate(have) if target[i + offset] == 1 and d != 1]
    if keep:
        c = ops.reduce(ops.ReduceSum, c, keep, len(have), keepdims=True)
    return c


def fold_selects(adjoint: sp.Expr) -> sp.Expr:
    """A sum of selects on one condition as one select: np.where(c, 2 * h, 1), not
    2 * h * np.where(c, 1, 0) + np.where(c, 0, 1). Selects on several conditions are left
    as they are (folding them multiplies the cases). An ``Update`` in the sum has a
    statement of its own by now (``hoist_updates``): folded into a select, it could not be
    printed."""
    selects = adjoint.atoms(sp.Piecewise)
    if not selects or len({p.args[0].cond for p in selects}) > 1:
        return adjoint
    if any(len(p.args) != 2 for p in selects):
        return adjoint
    # Fold the elementwise part only: sum(np.where(c, a, 0)) is not np.where(c, sum(a), 0)
    # when c is an array, so structural operations are kept out of sympy's reach. So are
    # conditions on selects (ITE, from np.where(c, a, b) < 1): piecewise_fold simplifies
    # them, which can recurse without end (log(p - 0.85) < 1).
    opaque = {
        e: sp.Dummy()
        for e in sp.preorder_traversal(adjoint)
        if isinstance(e, (ir.Structural, sp.ITE))
    }
    try:
        folded = sp.piecewise_fold(adjoint.xreplace(opaque))
    except RecursionError:
        # SymPy's Abs.eval can call itself without end on a factor while piecewise_fold
        # multiplies out the cases (seen with sympy 1.14 on a tanh of a select on a
        # log); folding only makes the code shorter, so keep the sum as it is
        return adjoint
    return folded.xreplace({d: e for e, d in opaque.items()})


def zero_outside(adjoint: sp.Expr):
    """The condition outside which a select's adjoint is 0, such as x > 0 for
    np.where(x > 0, g, 0); None when there is none. Selects nested in the branch kept, or
    in a product, narrow it: np.where(c, g * np.where(e, 0, 1), 0) is 0 outside c & ~e
    (an if after an if)."""
    if isinstance(adjoint, sp.Mul):
        conds = [c for c in map(zero_outside, adjoint.args) if c is not None]
        return sp.And(*conds) if conds else None
    if not isinstance(adjoint, sp.Piecewise) or len(adjoint.args) != 2:
        return None
    (then, cond), (other, _) = adjoint.args
    if other == 0:
        kept, cond = then, cond
    elif then == 0:
        kept, cond = other, sp.Not(cond)
    else:
        return None
    inner = zero_outside(kept)
    return cond if inner is None else sp.And(cond, inner)


class _Sweep:
    def __init__(self, graph: ir.Graph, outputs: dict, wrt: list[sp.Symbol]):
        """``outputs``: each output's seed (its adjoint)."""
        self.graph = graph
        needed = set().union(*(needed_nodes(graph, o) for o in outputs))
        self.relevant = needed & active_nodes(graph, set(wrt))
        self.pending = {s: 0 for s in self.relevant}
        for node in graph.nodes:
            if node.sym in self.relevant:
                for s in graph.operands(node):
                    if s in self.relevant:
                        self.pending[s] += 1
        self.contributions = {o: [seed] for o, seed in outputs.items()}
        self.adjoint: dict = {}
        self.masks: dict = (
            {}
        )  # node -> where its adjoint can be nonzero (None: anywhere)
        self.adjoint_masks: dict = {}  # adjoint symbol -> its node's mask
        self.statements: list[ir.Stmt] = []
        self.grads: dict = {}
        self.zero_sums: dict = {}  # adjoint -> the axes along which it sums to 0

    def shape(self, expr):
        return ir.shape_of(expr, self.graph.shapes)

    def finish(self, sym, block) -> None:
        """All contributions to ``sym`` are in: emit its adjoint (or its gradient)."""
        total = sp.Add(*self.contributions.pop(sym, []))
        total = fold_selects(self.hoist_updates(total, block))
        node = self.graph.by_sym[sym]
        if node.kind == "input":
            self.grads[sym] = self.gradient_statement(node, total, block)
            return
        if total == 0:
            return
        if hasattr(type(node.expr), "shared_vjp"):  # its VJP makes its own statement
            self.adjoint[sym] = total
            self.masks[sym] = None
            return
        if self.passes_transposed(node, total):
            self.adjoint[sym] = (
                total  # K.T's delta is not printed: K's is (Q·δ)ᵀ = δᵀ·Q
            )
            self.masks[sym] = None
            return
        a = self.graph.new_symbol("a")
        self.graph.shapes[a] = self.shape(total)
        self.statements.append(ir.Stmt(a, total, "adjoint", sym, block))
        self.adjoint[sym] = a
        self.masks[sym] = zero_outside(total)
        if self.masks[sym] is None:
            self.masks[sym] = self.scalar_mask(total)
        self.adjoint_masks[a] = self.masks[sym]
        if isinstance(total, ops.LogSoftmaxGrad):  # g - p·sum(g) sums to 0 (Σp = 1)
            self.zero_sums[a] = set(total.axes)

    def scalar_mask(self, adjoint):
        """The condition outside which ``adjoint`` is 0 when it is a sum or a broadcast of
        (a multiple of) another adjoint that is 0 outside a condition on scalars: a branch
        that gives a scalar broadcast to an array (its adjoint np.sum(np.broadcast_to(g)))
        keeps the guard of the branch, so that its 0 times nan stays 0."""
        while True:
            if isinstance(adjoint, sp.Mul):
                inner = [a for a in adjoint.args if not a.is_Number]
                if len(inner) != 1:
                    return None
                adjoint = inner[0]
            elif isinstance(adjoint, (ops.ReduceSum, ops.BroadcastTo)):
                adjoint = adjoint.args[0]
            else:
                break
        mask = self.adjoint_masks.get(adjoint)
        return None if mask is None or self.shape(mask) else mask

    def sums_to_zero(self, c) -> bool:
        """Whether ``c`` is a sum of an adjoint along axes it sums to 0 along (times a
        number): exactly 0, as the gradient through the max-shift of a softmax is
        (softmax(x - m) does not depend on m)."""
        if not isinstance(c, ops.ReduceSum):
            return False
        coefficient, adjoint = c.args[0].as_coeff_Mul()
        axes = self.zero_sums.get(adjoint)
        return axes is not None and set(c.axes) <= axes

    def passes_transposed(self, node, total) -> bool:
        """An unnamed ``x.T`` whose adjoint is a product of matrices: the adjoint of ``x``
        is that product transposed, (A·B)ᵀ = Bᵀ·Aᵀ, and ``x.T`` needs no delta of its own
        (the code never names ``x.T``)."""
        return (
            isinstance(node.expr, ops.Transpose)
            and not node.names
            and isinstance(total, ops.MatMul)
            and all(len(self.shape(a)) == 2 for a in total.args)
        )

    def hoist_updates(self, total, block):
        """Each ``Update`` in a sum gets a statement of its own (it prints as two)."""
        terms = sp.Add.make_args(total)
        if len(terms) == 1:
            return total
        out = []
        for term in terms:
            if isinstance(term, Update):
                t = self.graph.new_symbol("u")
                self.graph.shapes[t] = self.shape(term)
                self.statements.append(ir.Stmt(t, term, "temp", None, block))
                term = t
            out.append(term)
        return sp.Add(*out)

    def gradient_statement(self, node, total, block) -> ir.Stmt:
        if node.shape and (total == 0 or self.shape(total) != node.shape):
            total = ops.FullLike(total, node.sym)
        elif not node.shape and total.is_Number:
            total = sp.Float(
                total
            )  # a float, like the parameter: 0.0 or 1.0, not 0 or 1
        g = self.graph.new_symbol("g")
        self.graph.shapes[g] = node.shape
        stmt = ir.Stmt(g, total, "grad", node.sym, block)
        self.statements.append(stmt)
        return stmt

    def contributions_of(self, node, g):
        """(operand, contribution) pairs: the node's VJP applied to its adjoint ``g``."""
        if node.kind == "elementwise":
            mask = self.masks.get(node.sym)
            for s in self.graph.operands(node):
                if s in self.relevant:
                    try:
                        c = g * elementwise_partial(node.expr, s, node.sym)
                    except GradgenError as exc:
                        raise exc.located(node.site.path, node.site.line) from None
                    # the branch not taken adds 0, not 0 * inf = nan (np.where(x > 0,
                    # np.sqrt(x), 0) at x = 0)
                    yield s, c if mask is None else sp.Piecewise((c, mask), (0, True))
            return
        shared_vjp = getattr(type(node.expr), "shared_vjp", None)
        if shared_vjp is not None:  # one call computes every argument's part (a loop)
            call, parts = shared_vjp(node.expr, g, node.sym)
            b = self.graph.new_symbol("b")
            self.graph.shapes[b] = ()
            self.statements.append(ir.Stmt(b, call, "temp", None, node.site))
            for arg, part in zip(node.expr.args, parts):
                if part is not None and arg in self.relevant:
                    yield arg, part(b)
            return
        if isinstance(node.expr, ops.Transpose) and isinstance(g, ops.MatMul):
            a, b = g.args  # passes_transposed: (A·B)ᵀ = Bᵀ·Aᵀ
            if node.expr.args[0] in self.relevant:
                yield node.expr.args[0], ops.MatMul(ops.Transpose(b), ops.Transpose(a))
            return
        try:
            found = ops.vjp(node.expr, g, node.sym, node.shape, self.shape)
        except GradgenError as exc:  # pragma: no cover - every operation has its rules
            raise exc.located(node.site.path, node.site.line) from None
        for arg, c in zip(node.expr.args, found):
            if c is not None and arg in self.relevant:
                yield arg, c

    def run(self, outputs, returned: ir.Site) -> None:
        for output in outputs:
            if self.pending.get(output, 0) == 0 and (
                output in self.relevant or len(outputs) == 1
            ):
                self.finish(output, returned)
        for node in reversed(self.graph.nodes):
            if node.sym not in self.relevant or node.kind == "input":
                continue
            g = self.adjoint.get(node.sym)
            if g is not None:
                for s, c in self.contributions_of(node, g):
                    target = self.graph.shapes[s]
                    implied = node.shape if node.kind == "elementwise" else None
                    c = unbroadcast(c, target, self.shape, implied)
                    if not self.sums_to_zero(c):
                        self.contributions.setdefault(s, []).append(c)
            for s in self.graph.operands(node):
                if s in self.relevant:
                    self.pending[s] -= 1
                    if self.pending[s] == 0:
                        self.finish(s, node.site)


def differentiate(
    graph: ir.Graph, output: sp.Symbol, wrt: list[sp.Symbol], seed, returned: ir.Site
) -> tuple[list[ir.Stmt], list[sp.Symbol]]:
    """Backward statements and the gradient symbols, in the order of ``wrt``. ``seed`` is
    the output's adjoint (1, or the cotangent); ``returned`` the return statement."""
    return differentiate_many(graph, {output: seed}, wrt, returned)


def differentiate_many(
    graph: ir.Graph, outputs: dict, wrt: list[sp.Symbol], returned: ir.Site
) -> tuple[list[ir.Stmt], list[sp.Symbol]]:
    """``differentiate`` for several outputs at once, ``outputs`` mapping each to its
    seed: the VJP of a loop's body, whose outputs are the values it carries."""
    sweep = _Sweep(graph, outputs, wrt)
    sweep.run(list(outputs), returned)
    for sym in wrt:  # parameters the output does not depend on
        if sym not in sweep.grads:
            sweep.grads[sym] = sweep.gradient_statement(
                graph.by_sym[sym], sp.Integer(0), None
            )
    return sweep.statements, [sweep.grads[s].target for s in wrt]
