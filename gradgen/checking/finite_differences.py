"""Numerical checks of generated functions: central differences along random directions.

Takes a generated module, a target's name, a reference function for central differences
(the model itself, or the generated value function), arguments, and which of them are
differentiated; returns one ``Row`` per differentiated parameter holding the relative error
of each checked function, and lays the rows out as a table. ``gradient`` and ``vjp`` are
compared with the directional derivative of the reference along a random unit direction per
parameter (as autograd's ``check_grads`` does), ``jvp`` and ``jacobian`` with the
difference quotient of the result, ``hvp`` and ``hessian`` with the difference quotient of
the generated gradient (itself checked in the first column).

Uses NumPy only: ``gradgen compile --emit-test`` copies everything below the marker line
(after the tolerances of ``tolerances.py``) into the test file it writes, so that test
runs without gradgen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradgen.checking.tolerances import EPS, FLOOR, RTOL

# --- copied into emitted tests ---


def random_args(shapes: Any, seed: int = 0, integers: Any = ()) -> list[Any]:
    """Standard normal arguments; a shape of None is a float. The positions in
    ``integers`` are integer data: 0 or 1, an index into any axis of two or more."""
    rng = np.random.default_rng(seed)
    args: list[Any] = []
    for k, s in enumerate(shapes):
        if k in integers:
            args.append(int(rng.integers(0, 2)) if s is None else rng.integers(0, 2, s))
        else:
            args.append(float(rng.normal()) if s is None else rng.normal(size=s))
    return args


def relative_error(actual: Any, expected: Any, floor: float) -> float:
    actual = np.ravel(np.asarray(actual, dtype=float))
    expected = np.ravel(np.asarray(expected, dtype=float))
    if actual.shape != expected.shape:
        return float("inf")
    scale = max(float(np.linalg.norm(actual)), float(np.linalg.norm(expected)), floor)
    return float(np.linalg.norm(actual - expected) / scale)


def _unit(arg: Any, rng: np.random.Generator) -> Any:
    u = rng.normal(size=np.shape(arg))
    u = u / max(np.linalg.norm(u), 1e-300)
    return float(u) if isinstance(arg, float) else u


def _zero(arg: Any) -> Any:
    return 0.0 if isinstance(arg, float) else np.zeros_like(arg)


def _moved(args: list[Any], moves: dict[int, Any], step: float) -> list[Any]:
    """The arguments with ``step * direction`` added to those in ``moves``."""
    out = list(args)
    for k, u in moves.items():
        out[k] = args[k] + step * u
    return out


def _tuple(value: Any, count: int) -> tuple[Any, ...]:
    return (value,) if count == 1 else tuple(value)


def _difference(fn: Any, args: list[Any], moves: dict[int, Any], eps: float) -> Any:
    """The central difference quotient of fn along ``moves``, in float64; a tuple result
    (a gradient) gives a list."""
    plus, minus = fn(*_moved(args, moves, eps)), fn(*_moved(args, moves, -eps))
    if isinstance(plus, tuple):
        return [(np.asarray(p) - m) / (2 * eps) for p, m in zip(plus, minus)]
    return (np.asarray(plus, dtype=float) - minus) / (2 * eps)


def _floor(value: Any) -> float:
    values = value if isinstance(value, tuple) else (value,)
    return FLOOR * max(1.0, *[float(np.linalg.norm(v)) for v in values])


class Checker:
    """Checks the functions generated for one target ``name`` at ``args``."""

    def __init__(
        self,
        module: Any,
        name: str,
        reference: Any,
        args: Any,
        wrt: Any,
        array_output: bool,
        seed: int = 0,
    ) -> None:
        self.module, self.name, self.reference = module, name, reference
        self.args, self.wrt, self.array_output = list(args), list(wrt), array_output
        self.rng = np.random.default_rng(seed + 1)
        self.value = reference(*self.args)
        self.floor = _floor(self.value)
        self.hv: Any = (
            None  # a direction v and the difference quotient of the gradient along it
        )

    def generated(self, suffix: str) -> Any:
        return getattr(self.module, f"{self.name}_{suffix}")

    def grad(self, k: int) -> float:
        u = _unit(self.args[k], self.rng)
        if self.array_output:
            w = self.rng.normal(size=np.shape(self.value))
            grads = self.generated("vjp")(*self.args, w)
            numeric = np.sum(w * _difference(self.reference, self.args, {k: u}, EPS))
        else:
            grads = self.generated("grad")(*self.args)
            numeric = _difference(self.reference, self.args, {k: u}, EPS)
        grad = _tuple(grads, len(self.wrt))[self.wrt.index(k)]
        return relative_error(np.sum(grad * u), numeric, self.floor)

    def jvp(self, k: int) -> float:
        u = _unit(self.args[k], self.rng)
        tangents = [u if j == k else _zero(self.args[j]) for j in self.wrt]
        given = tangents[0] if len(tangents) == 1 else tuple(tangents)
        value, value_dot = self.generated("jvp")(*self.args, given)
        numeric = _difference(self.reference, self.args, {k: u}, EPS)
        error = relative_error(value_dot, numeric, self.floor)
        return max(error, relative_error(value, self.value, self.floor))

    def jacobian(self, k: int) -> float:
        u = _unit(self.args[k], self.rng)
        blocks = _tuple(self.generated("jacobian")(*self.args), len(self.wrt))
        block = blocks[self.wrt.index(k)]
        applied = np.tensordot(block, u, axes=np.ndim(u))
        numeric = _difference(self.reference, self.args, {k: u}, EPS)
        return relative_error(applied, numeric, self.floor)

    def _hessian_vector(self) -> Any:
        """A random direction v over all differentiated parameters, the difference
        quotient of the generated gradient along it (one array per parameter), a floor.
        """
        if self.hv is None:
            v = {k: _unit(self.args[k], self.rng) for k in self.wrt}
            count = len(self.wrt)

            def grad(*args: Any) -> tuple[Any, ...]:
                return _tuple(self.generated("grad")(*args), count)

            numeric = _difference(grad, self.args, v, EPS)
            self.hv = (v, numeric, _floor(grad(*self.args)))
        return self.hv

    def hvp(self, k: int) -> float:
        v, numeric, floor = self._hessian_vector()
        given = [v[j] for j in self.wrt]
        hv = self.generated("hvp")(
            *self.args, given[0] if len(given) == 1 else tuple(given)
        )
        i = self.wrt.index(k)
        return relative_error(_tuple(hv, len(self.wrt))[i], numeric[i], floor)

    def hessian(self, k: int) -> float:
        v, numeric, floor = self._hessian_vector()
        blocks = self.generated("hessian")(*self.args)
        i = self.wrt.index(k)
        row = [blocks] if len(self.wrt) == 1 else blocks[i]
        applied = sum(
            np.tensordot(row[m], v[j], axes=np.ndim(v[j]))
            for m, j in enumerate(self.wrt)
        )
        return relative_error(applied, numeric[i], floor)


def check(
    module: Any,
    name: str,
    reference: Any,
    args: Any,
    wrt: Any,
    array_output: bool,
    modes: Any = (),
    seed: int = 0,
    directions: int = 2,
) -> tuple[dict[int, dict[str, float]], float]:
    """{parameter index: {check: worst relative error}} over ``directions`` draws, and the
    relative error of the value. ``modes`` lists the generated extras to check besides the
    gradient (or VJP)."""
    checker = Checker(module, name, reference, args, wrt, array_output, seed)
    value_error = relative_error(
        getattr(module, name)(*args), checker.value, checker.floor
    )
    extras = ("jvp", "jacobian") if array_output else ("jvp", "hvp", "hessian")
    names = ["vjp" if array_output else "grad"] + [m for m in extras if m in modes]
    rows: dict[int, dict[str, float]] = {k: {} for k in wrt}
    for _ in range(directions):
        checker.hv = None
        for k in wrt:
            for mode in names:
                method = (
                    checker.grad if mode in ("grad", "vjp") else getattr(checker, mode)
                )
                error = method(k)
                rows[k][mode] = max(rows[k].get(mode, 0.0), error)
    return rows, value_error


def passed(error: float, rtol: float = RTOL) -> bool:
    return bool(np.isfinite(error) and error <= rtol)


def table(rows: Any, names: Any, shapes: Any, rtol: float = RTOL) -> str:
    """The rows as a text table: parameter, shape, one column per check, ok or FAIL."""
    columns = list(next(iter(rows.values()), {}))
    lines = [["parameter", "shape"] + columns + ["result"]]
    for k, errors in rows.items():
        ok = all(passed(e, rtol) for e in errors.values())
        shape = "float" if shapes[k] is None else str(tuple(shapes[k]))
        cells = [f"{errors[c]:.1e}" for c in columns]
        lines.append([names[k], shape] + cells + ["ok" if ok else "FAIL"])
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
        for line in lines
    )
