"""Reference derivatives for the forward-mode and second-order tests: the model (run by HIPS
autograd, or by NumPy for central differences) as a function of one flat vector holding
every argument, so its Jacobian and Hessian are plain matrices to compare block by block.
"""

from __future__ import annotations

import warnings

import autograd
import numpy as np


class Flat:
    """The arguments of a model packed into one float64 vector, and back."""

    def __init__(self, args: list):
        self.args = list(args)
        self.shapes = [np.shape(a) for a in args]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.x = np.concatenate([np.ravel(np.asarray(a, float)) for a in args])

    def unpack(self, x) -> list:
        out, k = [], 0
        for shape, size, arg in zip(self.shapes, self.sizes, self.args):
            piece = x[k : k + size]
            out.append(piece[0] if isinstance(arg, float) else piece.reshape(shape))
            k += size
        return out

    def function(self, fn):
        return lambda x: fn(*self.unpack(x))

    def pack(self, parts, count: int) -> np.ndarray:
        """One derivative per argument (a tuple, or the array itself when there is one)."""
        parts = (parts,) if count == 1 else parts
        return np.concatenate([np.ravel(p) for p in parts])


def reference(fn, args) -> tuple[np.ndarray, np.ndarray | None]:
    """autograd's Jacobian (result entries x argument entries) and, for a scalar result,
    its Hessian."""
    flat = Flat(args)
    f = flat.function(fn)
    out = np.asarray(fn(*args))
    with warnings.catch_warnings():  # a model that ignores a parameter is fine here
        warnings.filterwarnings("ignore", "Output seems independent of input")
        jac = np.reshape(autograd.jacobian(f)(flat.x), (out.size, flat.x.size))
        hess = autograd.hessian(f)(flat.x) if out.shape == () else None
    return jac, hess


def numeric_jacobian(fn, args, eps: float = 1e-6) -> np.ndarray:
    """Central differences, column by column, in float64."""
    flat = Flat(args)

    def f(x):  # a tuple of results (a gradient) as one vector
        value = fn(*flat.unpack(x))
        parts = value if isinstance(value, tuple) else (value,)
        return np.concatenate([np.ravel(p) for p in parts])

    columns = []
    for k in range(flat.x.size):
        e = np.zeros_like(flat.x)
        e[k] = eps
        columns.append((f(flat.x + e) - f(flat.x - e)) / (2 * eps))
    return np.stack(columns, axis=1)


def hessian_matrix(blocks, sizes: list[int]) -> np.ndarray:
    """Nested blocks H_A_B (or one array for one parameter) as one square matrix."""
    if len(sizes) == 1:
        blocks = ((blocks,),)
    assert len(blocks) == len(sizes)
    rows = []
    for i, row in enumerate(blocks):
        assert len(row) == len(sizes)
        rows.append([np.reshape(b, (sizes[i], sizes[j])) for j, b in enumerate(row)])
    return np.block(rows)


def jacobian_matrix(blocks, out_size: int, sizes: list[int]) -> np.ndarray:
    if len(sizes) == 1:
        blocks = (blocks,)
    return np.concatenate(
        [np.reshape(b, (out_size, n)) for b, n in zip(blocks, sizes)], axis=1
    )
