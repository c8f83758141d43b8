"""A loop of the model that stays a loop: ``LoopRun`` (the forward loop, run once),
``LoopPart`` (one of its results: a carried value's last value, its tangent, or one
input's gradient), ``LoopBack`` (the reversed loop of its VJP, run once) and ``LoopDot``
(the loop run in forward mode: its JVP, run once). Each in one place: shape, rules,
code, text and LaTeX.

The loop's body is traced once into an ``ir.Loop`` (``frontend/loop_runtime.py``), kept
in ``LOOPS`` by its key; the generated module computes it in helper functions of its own
(``codegen/loops.py``): ``_f_loop1`` runs the loop, ``_f_loop1_forward`` runs it and
keeps what the backward pass reads (the tape), ``_f_loop1_backward`` runs the steps in
reverse, ``_f_loop1_jvp`` runs it carrying each value's tangent beside it
(``h_dot``). Here the loop is one opaque node whose VJP is one call of the backward helper
(``shared_vjp``: the reverse sweep gives the call a statement of its own, and each input
its part of the result) and whose JVP is one call of the tangent helper, whose
result holds the carried values' last values, then their tangents.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from gradgen import ir
from gradgen.errors import GradgenError

LOOPS: dict = {}  # key -> ir.Loop, for the printers

_FORWARD_MODE = (
    "forward mode through a loop that stays a loop (the loop at line {line})",
    "compute gradients with the default mode, or give the loop a fixed length and "
    "compile with --unroll",
)


def _no_forward_mode(key):
    message, hint = _FORWARD_MODE
    raise GradgenError(message.format(line=LOOPS[int(key)].line), hint=hint)


def loop_run(loop: ir.Loop) -> "LoopRun":
    passed = sp.Tuple(*loop.passed)
    return LoopRun(sp.Integer(loop.key), sp.Integer(1), passed, *loop.inputs)


def untaped(expr: sp.Expr) -> sp.Expr:
    """The loop run without keeping its tape (in a function without its backward pass)."""
    if isinstance(expr, (LoopRun, LoopDot)):
        return type(expr)(expr.args[0], sp.Integer(0), *expr.args[2:])
    return expr


class _LoopCall(ir.Structural):
    """A call of one of a loop's helpers: args (key, ...), all of them read; its value
    is a tuple, read by ``LoopPart``."""

    precedence = PRECEDENCE["Atom"]

    @property
    def array_args(self) -> int:
        return len(self.args)

    @property
    def loop(self) -> ir.Loop:
        return LOOPS[int(self.args[0])]

    def out_shape(self, shapes):
        return ()


class _TangentCall(_LoopCall):
    """A call of a loop's helper in forward mode: differentiated no further."""

    @staticmethod
    def vjp(
        g, ans, key, *args, shape
    ):  # pragma: no cover - forward mode is not reversed
        _no_forward_mode(key)

    @staticmethod
    def jvp(t, ans, key, *args, shape):
        _no_forward_mode(key)


class LoopRun(_LoopCall):
    """The forward loop: args (key, taped, sizes, *inputs), ``sizes`` the range bounds
    its helpers cannot read off the inputs' shapes; its value is the tuple of the
    carried values' last values (and the tape, when taped)."""

    @classmethod
    def vjp(cls, g, ans, *args, shape):
        """Each argument's part of the backward loop's result (the reverse sweep calls
        ``shared_vjp``, so that the code runs the backward loop once)."""
        call, parts = cls.shared_vjp(cls(*args), g, ans)
        return [None if part is None else part(call) for part in parts]

    @staticmethod
    def jvp(t, ans, key, taped, passed, *inputs, shape):
        """The loop run in forward mode: the inputs and the tangents of those the loop
        differentiates (``Loop.active``; 0 for none)."""
        loop = LOOPS[int(key)]
        tangent = dict(zip(loop.inputs, t[3:]))
        dots = [tangent.get(s) for s in loop.active]
        if all(d is None for d in dots):
            return None
        zero = sp.Integer(0)
        dots = [zero if d is None else d for d in dots]
        return LoopDot(key, taped, passed, *inputs, *dots)

    @classmethod
    def shared_vjp(cls, expr, g, ans):
        """(the backward loop's call, and for each argument of ``expr`` the part of its
        result (a function of the call's symbol) or None). ``g`` is the sum of the
        ``LoopSeed``s of the carried values that have an adjoint."""
        loop = expr.loop
        seeds = {}
        for term in sp.Add.make_args(g):
            if isinstance(term, LoopSeed):
                i = int(term.args[1])
                seeds[i] = seeds.get(i, 0) + term.args[0]
        seed_args = [seeds.get(i, sp.Integer(0)) for i in range(len(loop.carries))]
        call = LoopBack(expr.args[0], ans, *loop.inputs, *seed_args)
        first = 3  # the inputs' place among the arguments
        parts = [None] * first
        for j in range(len(loop.inputs)):
            parts.append(lambda b, j=j: LoopPart(b, loop.key, 1, j))
        return call, parts

    def _gradgen_numpy(self, p, **kwargs):
        loop = self.loop
        name = loop.name + ("_forward" if int(self.args[1]) else "")
        args = [p._print(sp.Float(a) if a.is_Number else a) for a in self.args[3:]] + [
            p._print(b) for b in getattr(loop, "passed", ())
        ]
        return f"{name}({', '.join(args)})"

    def _gradgen_text(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[3:])
        return f"loop_{self.loop.line}({args})"

    def _gradgen_latex(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[3:])
        return rf"\operatorname{{loop}}_{{{self.loop.line}}}\left({args}\right)"


class LoopPart(ir.Structural):
    """Part ``i`` of a loop's tuple result: args (tuple, key, kind, i); kind 0: a
    ``LoopRun``'s (or a ``LoopDot``'s) carried value i, kind 1: a ``LoopBack``'s
    gradient of input i, kind 2: a ``LoopDot``'s tangent of carried value i, kind 3: a
    ``LoopBackDot``'s tangent of the gradient of input i."""

    precedence = PRECEDENCE["Atom"]
    array_args = 1

    def out_shape(self, shapes):
        loop, i = LOOPS[int(self.args[1])], int(self.args[3])
        if int(self.args[2]) in (0, 2):
            return tuple(loop.carries[i].shape)
        return tuple(loop.outer_shapes[loop.inputs[i]])

    @staticmethod
    def vjp(g, ans, whole, key, kind, i, *, shape):
        return (LoopSeed(g, i), None, None, None)

    @staticmethod
    def jvp(t, ans, whole, key, kind, i, *, shape):
        """A carried value's tangent: its part of the ``LoopDot`` that is the tangent of
        the loop's run."""
        if int(kind) > 1:
            _no_forward_mode(key)
        return None if t[0] is None else LoopPart(t[0], key, 2 + int(kind), i)

    def _position(self) -> int:
        """Where the part is in the tuple: a tangent comes after every carried value."""
        i, kind, loop = int(self.args[3]), int(self.args[2]), LOOPS[int(self.args[1])]
        if kind == 2:
            return len(loop.carries) + i
        if kind == 3:
            return len(loop.inputs) + i
        return i

    def _gradgen_numpy(self, p, **kwargs):
        return f"{p._print(self.args[0])}[{self._position()}]"

    def _gradgen_text(self, p, **kwargs):
        return f"{p._print(self.args[0])}[{self._position()}]"

    def _gradgen_latex(self, p, **kwargs):
        return rf"{p._print(self.args[0])}_{{[{self._position()}]}}"


class LoopSeed(ir.Structural):
    """The adjoint ``g`` of a loop's carried value ``i``, on its way to the loop's VJP
    (``LoopRun.shared_vjp``); never printed."""

    array_args = 0

    def out_shape(self, shapes):
        return ()

    def _gradgen_text(self, p, **kwargs):
        k = int(self.args[1])
        return f"({p._print(self.args[0])} for the loop's result {k})"

    def _gradgen_latex(self, p, **kwargs):
        return rf"\left({p._print(self.args[0])} \to [{int(self.args[1])}]\right)"


class LoopBack(_LoopCall):
    """The backward loop: args (key, run, *inputs, *seeds), seeds the adjoints of the
    carried values' last values (0 for none); its value is the tuple of the inputs'
    gradients."""

    @staticmethod
    def vjp(g, ans, *args, shape):  # pragma: no cover - a backward pass is not differentiated
        raise GradgenError("the backward loop has no VJP", hint="use the default mode")

    @staticmethod
    def jvp(t, ans, key, run, *args, shape):
        """The backward loop in forward mode (for Hessian-vector products): it reads the
        tape of the loop run in forward mode (the tangent of ``run``, a ``LoopDot``
        that keeps its tape) and the tangents of the inputs and of the seeds."""
        loop = LOOPS[int(key)]
        n = len(loop.inputs)
        if t[1] is None:  # the loop has no tangent: neither has its backward pass
            return None
        tangent = dict(zip(loop.inputs, t[2 : 2 + n]))
        zero = sp.Integer(0)
        dots = [tangent.get(s) for s in loop.active] + list(t[2 + n :])
        dots = [zero if d is None else d for d in dots]
        return LoopBackDot(key, t[1], *args, *dots)

    def _call_args(self, p) -> list[str]:
        loop = self.loop
        run = p._print(self.args[1])
        n = len(loop.inputs)
        seeds = self.args[2 + n :]
        out = [run] + [
            p._print(sp.Float(a) if a.is_Number else a) for a in self.args[2 : 2 + n]
        ]
        for i, s in enumerate(seeds):
            out.append(f"{p.np}.zeros_like({run}[{i}])" if s == 0 else p._print(s))
        return out + [p._print(b) for b in getattr(loop, "passed", ())]

    def _gradgen_numpy(self, p, **kwargs):
        return f"{self.loop.name}_backward({', '.join(self._call_args(p))})"

    def _gradgen_text(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[2:])
        return f"backward_loop_{self.loop.line}({args})"

    def _gradgen_latex(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[2:])
        return rf"\overline{{\operatorname{{loop}}}}_{{{self.loop.line}}}\left({args}\right)"


class LoopDot(_TangentCall):
    """The loop in forward mode: args (key, taped, sizes, *inputs, *tangents) (sizes as
    ``LoopRun``'s), a tangent (0 for none) for each input the loop differentiates
    (``Loop.active``); its value is the tuple of the carried values' last values, then
    their tangents (and, taped, what its backward pass in forward mode reads:
    ``LoopBackDot``)."""

    def _gradgen_numpy(self, p, **kwargs):
        n = len(self.loop.inputs)
        inputs, dots = self.args[3 : 3 + n], self.args[3 + n :]
        args = _with_tangents(p, self.loop, inputs, dots)
        name = "_forward_jvp" if int(self.args[1]) else "_jvp"
        return f"{self.loop.name}{name}({', '.join(args)})"

    def _gradgen_text(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[3:])
        return f"tangent_loop_{self.loop.line}({args})"

    def _gradgen_latex(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[3:])
        return rf"\dot{{\operatorname{{loop}}}}_{{{self.loop.line}}}\left({args}\right)"


def _with_tangents(p, loop: ir.Loop, inputs, dots, seeds=()) -> list[str]:
    """The printed arguments of a tangent helper: the inputs, the seeds (printed), the
    inputs' tangents (zeros for 0), the seeds' tangents, the sizes it takes."""
    out = [p._print(sp.Float(a) if a.is_Number else a) for a in inputs] + list(seeds)
    likes = [p._print(inputs[loop.inputs.index(s)]) for s in loop.active]
    shapes = [loop.outer_shapes[s] for s in loop.active]
    likes += list(seeds)
    shapes += [c.shape for c in loop.carries][: len(seeds)]
    for d, shape, like in zip(dots, shapes, likes):
        if d != 0:
            out.append(p._print(d))
        elif shape:
            out.append(f"{p.np}.zeros_like({like})")
        else:
            out.append("0.0")
    return out + [p._print(b) for b in getattr(loop, "passed", ())]


class LoopBackDot(_TangentCall):
    """The backward loop in forward mode: args (key, run, *inputs, *seeds, *tangents),
    ``run`` the loop run in forward mode keeping its tape (a ``LoopDot``), a tangent (0
    for none) for each input the loop differentiates, then for each seed; its value is
    the tuple of the inputs' gradients, then their tangents."""

    def _gradgen_numpy(self, p, **kwargs):
        loop = self.loop
        n, k = len(loop.inputs), len(loop.carries)
        inputs, seeds = self.args[2 : 2 + n], self.args[2 + n : 2 + n + k]
        run = p._print(self.args[1])
        seeds = [
            (
                p._print(sp.Float(s) if s.is_Number else s)
                if s != 0 or not c.shape
                else f"{p.np}.zeros_like({run}[{i}])"
            )
            for i, (s, c) in enumerate(zip(seeds, loop.carries))
        ]
        args = _with_tangents(p, loop, inputs, self.args[2 + n + k :], seeds)
        return f"{loop.name}_backward_jvp({', '.join([run] + args)})"

    def _gradgen_text(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[1:])
        return f"tangent_backward_loop_{self.loop.line}({args})"

    def _gradgen_latex(self, p, **kwargs):
        args = ", ".join(p._print(a) for a in self.args[1:])
        return rf"\dot{{\overline{{\operatorname{{loop}}}}}}_{{{self.loop.line}}}\left({args}\right)"
