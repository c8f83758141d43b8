"""Python ``if`` statements on traced values, compiled to element-wise selects: one target
per form, for the table-driven gradient tests. autograd runs the same source with plain
Python branching. Python cannot branch on an array condition, so for those targets
``REFERENCE`` gives the element-wise meaning written with np.where, and the tests check
against it by central differences (``NO_AUTOGRAD``); autograd has no in-place writes.
"""

import numpy as np

from gradgen import Array

NO_AUTOGRAD = {"relu_array", "clip_array", "piecewise_array", "write_in_branch"}


def huber(r: float, delta: float) -> float:
    if abs(r) <= delta:
        return 0.5 * r**2
    return delta * (abs(r) - 0.5 * delta)


def sign_scale(x: float, y: float) -> float:
    if x * y > 0:
        s = x + y
        t = x * y
    else:
        s = x - y
        t = 2.0
    return s * t


def nested(x: float, y: float) -> float:
    if x > 0:
        if y > 0:
            out = x * y
        elif y > -1:
            out = x + y
        else:
            out = x - y**2
    else:
        out = -x * np.exp(y)
    return out**2


def boolean_ops(x: float, y: float) -> float:
    if x > 0 and not y > 1 or 0 < y < 0.5:
        return x * y
    return x + y


def conditional_expression(x: float, y: float) -> float:
    z = x**2 if x > y else y**3
    return z + (x if y > 0 else -x)


def helper_branch(x: float, y: float) -> float:
    return _smooth_abs(x) * _smooth_abs(y - 0.3)


def _smooth_abs(u):
    if u > 0.1:
        return u
    if u < -0.1:
        return -u
    return 5.0 * u**2 + 0.05


def relu_array(x: Array["n"], c: Array["n"]) -> float:
    if x > 0:
        y = x
    else:
        y = 0.1 * x
    return np.sum(y * c)


def clip_array(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    out = x * c
    if x > 1.0:
        out = np.ones_like(x)
    elif x < -1.0:
        out = -np.ones_like(x)
    return np.sum(out * x)


def piecewise_array(x: Array["n"]) -> float:
    return np.sum(_huber_elementwise(x, 0.5))


def _huber_elementwise(r, delta):
    if np.abs(r) <= delta:
        return 0.5 * r**2
    return delta * (np.abs(r) - 0.5 * delta)


def write_in_branch(x: Array["n"], s: float) -> float:
    y = x * 1.0
    if s > 0:
        y[0] = s * x[0]
    else:
        y[1:] = x[1:] ** 2
    return np.sum(y**2)


def static_condition(x: Array[4], s: float) -> float:
    if x.shape[0] > 2:
        total = np.sum(x[:3])
    else:
        total = np.sum(x)
    if s > 0:
        total = total * s
    return total


# --- element-wise meanings of the array-condition targets --------------------------------
def _relu_array(x, c):
    return np.sum(np.where(x > 0, x, 0.1 * x) * c)


def _clip_array(x, c):
    out = np.where(x > 1.0, 1.0, np.where(x < -1.0, -1.0, x * c))
    return np.sum(out * x)


def _piecewise_array(x):
    r = np.abs(x)
    return np.sum(np.where(r <= 0.5, 0.5 * x**2, 0.5 * (r - 0.25)))


REFERENCE = {
    "relu_array": _relu_array,
    "clip_array": _clip_array,
    "piecewise_array": _piecewise_array,
}
