"""Backprop through one neuron per layer: x -> h = sigma(W1 x) -> y = sigma(W2 h).

With cost C = (y - t)^2 / 2 the chain rule gives
    dC/dW2 = (y - t) * y (1 - y) * h
    dC/dW1 = (y - t) * y (1 - y) * W2 * h (1 - h) * x
and the shared factor delta_y = (y - t) y (1 - y) is computed once in the generated code.
"""

import gradgen  # noqa: F401 - a model file: `gradgen compile examples/` compiles it
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cost(x: float, t: float, W1: float, W2: float) -> float:
    h = sigmoid(W1 * x)
    y = sigmoid(W2 * h)
    return 0.5 * (y - t) ** 2
