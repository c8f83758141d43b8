"""A 20-layer tanh network (width d, batch n) with a mean squared error loss.

The benchmark runs it with width 64 and batch 32: many small layers, so per-operation
overhead counts as much as arithmetic.
"""

import numpy as np

from gradgen import Array


def loss(
    X: Array["n", "d"],
    y: Array["n", "d"],
    W1: Array["d", "d"],
    b1: Array["d"],
    W2: Array["d", "d"],
    b2: Array["d"],
    W3: Array["d", "d"],
    b3: Array["d"],
    W4: Array["d", "d"],
    b4: Array["d"],
    W5: Array["d", "d"],
    b5: Array["d"],
    W6: Array["d", "d"],
    b6: Array["d"],
    W7: Array["d", "d"],
    b7: Array["d"],
    W8: Array["d", "d"],
    b8: Array["d"],
    W9: Array["d", "d"],
    b9: Array["d"],
    W10: Array["d", "d"],
    b10: Array["d"],
    W11: Array["d", "d"],
    b11: Array["d"],
    W12: Array["d", "d"],
    b12: Array["d"],
    W13: Array["d", "d"],
    b13: Array["d"],
    W14: Array["d", "d"],
    b14: Array["d"],
    W15: Array["d", "d"],
    b15: Array["d"],
    W16: Array["d", "d"],
    b16: Array["d"],
    W17: Array["d", "d"],
    b17: Array["d"],
    W18: Array["d", "d"],
    b18: Array["d"],
    W19: Array["d", "d"],
    b19: Array["d"],
    W20: Array["d", "d"],
    b20: Array["d"],
) -> float:
    h = X
    h = np.tanh(h @ W1 + b1)
    h = np.tanh(h @ W2 + b2)
    h = np.tanh(h @ W3 + b3)
    h = np.tanh(h @ W4 + b4)
    h = np.tanh(h @ W5 + b5)
    h = np.tanh(h @ W6 + b6)
    h = np.tanh(h @ W7 + b7)
    h = np.tanh(h @ W8 + b8)
    h = np.tanh(h @ W9 + b9)
    h = np.tanh(h @ W10 + b10)
    h = np.tanh(h @ W11 + b11)
    h = np.tanh(h @ W12 + b12)
    h = np.tanh(h @ W13 + b13)
    h = np.tanh(h @ W14 + b14)
    h = np.tanh(h @ W15 + b15)
    h = np.tanh(h @ W16 + b16)
    h = np.tanh(h @ W17 + b17)
    h = np.tanh(h @ W18 + b18)
    h = np.tanh(h @ W19 + b19)
    h = np.tanh(h @ W20 + b20)
    return np.mean((h - y) ** 2)
