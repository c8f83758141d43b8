"""The Huber loss: quadratic near zero, linear beyond delta.

``huber`` is written with a Python if on the residual, as in a textbook; gradgen runs both
branches and selects with np.where, and lifts the early return. ``huber_loss`` is the mean
over a batch, written with np.where directly.
"""

import numpy as np

from gradgen import Array


def huber(r: float, delta: float) -> float:
    if abs(r) <= delta:
        return 0.5 * r**2
    return delta * (abs(r) - 0.5 * delta)


def huber_loss(prediction: Array["n"], target: Array["n"], delta: float) -> float:
    r = prediction - target
    quadratic = 0.5 * r**2
    linear = delta * (np.abs(r) - 0.5 * delta)
    return np.mean(np.where(np.abs(r) <= delta, quadratic, linear))
