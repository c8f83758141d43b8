"""One compile target per indexing, joining, reshaping, creating or writing construct, for
the table-driven gradient tests. Each ends in a weighted sum with a random array ``c`` where
a plain sum would hide a wrong gradient.

``NO_AUTOGRAD``: targets autograd cannot run (it has no in-place writes, nor a gradient of
np.copy); central differences still check them.
"""

import numpy as np
from numpy import exp, r_, zeros

from gradgen import Array

NO_AUTOGRAD = {
    "write_slots",
    "write_accumulate",
    "write_broadcast",
    "inplace_arithmetic",
    "view_accumulate",
    "write_loop",
    "write_column",
    "copied",
}


# --- reading parts of an array --------------------------------------------------------
def index_int(x: Array["n"], y: Array["n", "d"]) -> float:
    return x[0] * x[-1] + np.sum(y[1] * y[-1])


def slices(x: Array["n"], c: Array["n"]) -> float:
    return np.sum(x[1:] * c[:-1] - x[:-1] ** 2) + np.sum(x[::2] ** 2) + np.sum(x[1:-1])


def rosenbrock(x: Array["n"]) -> float:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def columns_rows(X: Array["n", "d"], w: Array["n"], c: Array[2, "d"]) -> float:
    return np.sum(X[:, 0] * w) + np.sum(X[1:3, :] * c) + np.sum(X[::2, -1] ** 2)


def fixed_slices(x: Array[6], c: Array[2]) -> float:
    return np.sum(x[3:5] * c) + np.sum(x[::-2] ** 2) + x[..., 2]


def new_axis(x: Array["n"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum((x[:, None] * y[None, :]) * c)


def iterate_rows(X: Array[3, "d"], c: Array["d"]) -> float:
    total = 0.0
    for row in X:
        total = total + np.sum(row * c) ** 2
    return total + len(X)


# --- joining and reshaping --------------------------------------------------------------
def concatenate(a: Array["n"], b: Array["d"], c: Array["n"]) -> float:
    v = np.concatenate([a, b, a * c])
    return np.sum(v**2 * np.concatenate((c, b, c)))


def concatenate_axis(
    A: Array["n", "d"], B: Array["n", "k"], C: Array["n", "d"]
) -> float:
    M = np.concatenate([A, B, A * C], axis=-1)
    return np.sum(M**3)


def stack(a: Array["n"], b: Array["n"], C: Array["n", 2]) -> float:
    return np.sum(np.stack([a, b * a], axis=1) * C) + np.sum(np.stack((a, b)) ** 2)


def index_joins(
    x: Array["n"], s: float, A: Array["n", "d"], w: Array["n"], C: Array["n", 2]
) -> float:
    v = np.r_[s, x, 2.0, x * s]
    rows = np.r_[A, A * s, np.tanh(A)]
    columns = np.c_[x, np.tanh(x) * s]
    M = np.c_[A * s, x, A**2]
    return (
        np.sum(v**2 * np.r_[1.0, w, 0.5, w]) * np.sum(np.r_[0:2, 0.5])  # a constant
        + np.sum(rows**3)
        + np.sum(columns * C)
        + np.sum(M**3)
        + np.sum(np.r_[[s, s * s], x, [1.0, 2.0]] ** 3)
    )


def rearranged(X: Array[3, 4], T: Array[2, 3, 4], c: Array[4, 3]) -> float:
    turned = np.rot90(np.flipud(X)) + np.fliplr(np.rollaxis(np.roll(X, 1, 1), 1))
    stacked = (
        np.column_stack([X[:, 0], np.real(X[:, 1:])]) * np.atleast_3d(X[0])[0, :, 0]
    )
    ends = np.append(np.roll(T, -1), np.conj(X[0])) ** 2 + np.sum(
        np.hstack(T[:, 0, :1])
    )
    return np.sum(turned * c) + np.sum(stacked**3) + np.sum(ends)


def splits_of_axes(T: Array[2, 4, 4], c: Array[2, 2, 4]) -> float:
    top, bottom = np.vsplit(T, 2)
    left, right = np.hsplit(T, [2])
    front, back = np.dsplit(T, 2)
    return np.sum((top - bottom) ** 2) + np.sum(left * right * c) + np.sum(front * back)


def reshapes(X: Array["n", "d"], c: Array["n", "d"]) -> float:
    flat = X.reshape(-1)
    back = np.reshape(flat**2, (X.shape[0], X.shape[1]))
    return np.sum(back * c) + np.sum(np.ravel(X) * flat.reshape((-1,)))


def dims(x: Array["n"], s: float, c: Array["n", 1]) -> float:
    column = np.expand_dims(x, axis=1)
    row = np.atleast_2d(x)
    total = np.sum(column * c) + np.sum(row.T * c) + np.sum(np.squeeze(column * c) ** 2)
    return total + np.sum(np.atleast_1d(s) * 2.0) + np.sum(np.atleast_2d(s)) * s


def sum_of_list(a: float, b: float, x: Array["n"]) -> float:
    return (
        np.sum([a * b, a, b**2])
        + np.sum([x, x * a], axis=0)[0]
        + np.sum(np.array([a, b]))
    )


def creation(x: Array["n", "d"]) -> float:
    z = np.zeros_like(x) + np.ones((x.shape[0], x.shape[1])) + np.full_like(x, 2.0)
    e = np.eye(x.shape[1])
    return np.sum((x + z) ** 2) + np.sum(x @ e * x) + np.sum(np.ones_like(x) * x)


def norms(x: Array["n", "d"]) -> float:
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, axis=1))


def copied(x: Array["n"]) -> float:
    y = np.copy(x)
    z = x.copy()
    return np.sum(y * z * x)


# --- writing into arrays (made pure) ------------------------------------------------------
def write_slots(x: Array[4], y: float) -> float:
    out = np.zeros(5)
    out[0] = y * x[0]
    out[1:] = x**2
    out[-1] = out[-1] * y
    return np.sum(out**2)


def write_accumulate(x: Array["n"], c: Array["n"]) -> float:
    acc = np.zeros_like(x)
    acc[1:] += x[:-1] * c[1:]
    acc[0] += x[-1]
    acc[:] += c * acc
    return np.sum(acc**2)


def write_broadcast(X: Array["n", "d"], b: Array["d"]) -> float:
    Y = X * 1.0
    Y[0] = b
    Y[1:, 0] = 3.0
    return np.sum(Y**2 * X)


def inplace_arithmetic(x: Array["n"], y: Array["n"]) -> float:
    z = x * y
    alias = z
    z += x
    z *= y
    z -= 1.0
    z /= 2.0
    z **= 2
    return np.sum(alias * x)


def view_accumulate(x: Array["n"], y: Array["n"]) -> float:
    z = x * 2.0
    tail = z[1:]
    tail += y[1:]
    z[:2] *= y[:2]
    return np.sum(z**2)


def write_loop(x: Array[4], w: float) -> float:
    h = np.zeros(4)
    state = 0.0
    for t in range(4):
        state = np.tanh(w * state + x[t])
        h[t] = state
    return np.sum(h**2)


def write_column(X: Array["n", "d"], v: Array["n"]) -> float:
    Y = np.zeros((X.shape[0], X.shape[1]))
    Y[:, 0] = v
    Y[:, 1:] = X[:, 1:] * v[:, None]
    return np.sum(Y * X)


# --- NumPy's functions under the model's own names ----------------------------------
def names_from_numpy(x: Array["n"], y: Array["d"], c: Array["n"]) -> float:
    """from numpy import zeros, exp, r_: the traced versions stand in for them too."""
    z = zeros(x.shape[0]) + exp(x)
    return np.sum(z * c) + np.sum(r_[x, y] ** 2)
