"""A two-layer sigmoid network for XOR, trained by examples/train_xor.py.

X is 4 x 2, W0 2 x 4, W1 4 x 1, no biases; the loss is the mean squared error.
"""

import numpy as np

from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(X: Array["n", 2], y: Array["n", 1], W0: Array[2, 4], W1: Array[4, 1]) -> float:
    h = sigmoid(X @ W0)
    yhat = sigmoid(h @ W1)
    return np.mean((yhat - y) ** 2)
