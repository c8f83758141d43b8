"""Central differences in float64, for the random programs autograd cannot run (programs that
write into arrays): the Jacobian of a function of several arguments with respect to some of
them, as one matrix, with a check that the function is smooth enough there for the
differences to mean anything.

``jacobian(fn, args, wrt)`` differentiates ``fn`` (returning an array, a float or a tuple of
them, all flattened into one vector) with respect to every entry of the arguments ``wrt``
names. Each column is a Richardson extrapolation of two central differences, with steps ``H``
and ``H / 2``: R = (4 D(H/2) - D(H)) / 3, whose truncation error is O(H^4), negligible here.
Its rounding error is about 1.7 delta / H, where delta is the rounding error of one
evaluation: below 1e-12 of max(1, the largest entry) for the programs generated here (the
reasoning of ``programcheck.RTOL``), so about 2e-8 of that scale with H = 1e-4. ``RTOL``
allows 1e-6 of max(1, the largest entry of the result, the largest derivative) plus 1e-6 of
the entry: a 50-fold margin, while a wrong derivative is off by far more.

The two differences agree to within the same tolerance where the function is smooth (they
differ by (H^2 / 8) f''' there). They do not where a kink or a jump (np.where, np.max, abs,
a branch) lies within H of the point: then ``jacobian`` raises ``NotSmooth``, and the caller
draws another point.
"""

from __future__ import annotations

import numpy as np

H = 1e-4  # the central-difference step; inputs are O(1)
RTOL = 1e-6


class NotSmooth(Exception):
    """The function has a kink or jump within ``H`` of the point."""


def flat(value) -> np.ndarray:
    parts = value if isinstance(value, (tuple, list)) else (value,)
    return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts])


def _moved(args: list, index: int, pos: tuple, step: float) -> list:
    out = list(args)
    if np.ndim(args[index]) == 0 and not isinstance(args[index], np.ndarray):
        out[index] = args[index] + step
    else:
        moved = np.array(args[index], dtype=float)
        moved[pos] += step
        out[index] = moved
    return out


def _difference(fn, args, index, pos, step) -> np.ndarray:
    plus = flat(fn(*_moved(args, index, pos, step)))
    minus = flat(fn(*_moved(args, index, pos, -step)))
    return (plus - minus) / (2 * step)


def scale(*values) -> float:
    """max(1, the largest entry of these values)."""
    return max([1.0] + [float(np.max(np.abs(flat(v)), initial=0.0)) for v in values])


def jacobian(fn, args: list, wrt: list[int]) -> np.ndarray:
    """d flat(fn(*args)) / d (the entries of args[i] for i in wrt), one column per entry,
    in argument order then C order. Raises ``NotSmooth`` where the two steps disagree.
    """
    coarse, fine = [], []
    for index in wrt:
        for pos in np.ndindex(np.shape(args[index])):
            coarse.append(_difference(fn, args, index, pos, H))
            fine.append(_difference(fn, args, index, pos, H / 2))
    size = flat(fn(*args)).size
    d1 = (
        np.reshape(np.stack(coarse, axis=1), (size, -1))
        if coarse
        else np.zeros((size, 0))
    )
    d2 = np.reshape(np.stack(fine, axis=1), (size, -1)) if fine else np.zeros((size, 0))
    extrapolated = (4 * d2 - d1) / 3
    limit = RTOL * (np.abs(extrapolated) + scale(fn(*args), extrapolated))
    if np.any(np.abs(d1 - d2) > limit):
        raise NotSmooth()
    return extrapolated


def split(vector: np.ndarray, args: list, wrt: list[int]) -> list:
    """A flat vector over the entries of args[i], i in wrt, as one value per argument
    (a float for a float argument)."""
    out, k = [], 0
    for index in wrt:
        shape = np.shape(args[index])
        size = int(np.prod(shape))
        piece = vector[k : k + size]
        out.append(
            float(piece[0]) if isinstance(args[index], float) else piece.reshape(shape)
        )
        k += size
    return out
