"""A network with three hidden sigmoid layers: the delta recursion.

Once the output delta (delta_z4, the notes' delta_y) is known, each layer's delta follows from
the one above it: delta_z3 = (delta_z4 W4^T) * h3 (1 - h3), then delta_z2 from delta_z3, then
delta_z1 from delta_z2; each weight gradient is the layer's input transposed times its delta.
Read generated/deep.py from top to bottom: it is that recursion (with 1 - h3 written as
sigmoid(-z3), the same number computed without cancellation).
"""

import numpy as np

from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cost(
    x: Array["n", "d"],
    t: Array["n", "k"],
    W1: Array["d", "m"],
    W2: Array["m", "m"],
    W3: Array["m", "m"],
    W4: Array["m", "k"],
) -> float:
    z1 = x @ W1
    h1 = sigmoid(z1)
    z2 = h1 @ W2
    h2 = sigmoid(z2)
    z3 = h2 @ W3
    h3 = sigmoid(z3)
    z4 = h3 @ W4
    y = sigmoid(z4)
    return 0.5 * np.sum((y - t) ** 2)
