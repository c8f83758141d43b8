"""The explicit Euler integration of an ODE, dy/dt = A tanh(y) - k y + sin(t), over
1000 steps; the loss compares the end state with a target.

A loop of a fixed length of 20 steps or more stays a loop (``gradgen compile --unroll``
unrolls it): the gradient with respect to the initial state, the coupling matrix A and
the damping k is one reversed loop of 1000 steps (the adjoint method, discretised).
"""

import numpy as np

from gradgen import Array


def loss(y0: Array["m"], A: Array["m", "m"], k: float, target: Array["m"]) -> float:
    dt = 0.01
    y = y0
    for step in range(1000):
        y = y + dt * (A @ np.tanh(y) - k * y + np.sin(step * dt))
    return np.sum((y - target) ** 2)
