"""The chain rule on a sigmoid, one local derivative per step.

sigma(z) = 1 / (1 + e^-z) split into f(z) = -z, g(f) = e^f, h(g) = 1 + g, i(h) = 1/h.
The derivative is the product of the four local ones, (-1) * e^f * 1 * (-1/h^2), and it
equals sigma(z) * (1 - sigma(z)). gradgen derives it through the same four steps: see
generated/sigmoid.py, where each step's adjoint is a line of its own.
"""

import numpy as np

from gradgen import Array


def sigmoid(z: float) -> float:
    f = -z
    g = np.exp(f)
    h = 1 + g
    i = 1 / h
    return i


def sigmoid_array(z: Array["n"]) -> Array["n"]:
    """The same, elementwise over an array (its VJP is sigma' times the cotangent)."""
    return 1 / (1 + np.exp(-z))
