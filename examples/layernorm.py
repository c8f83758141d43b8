"""Layer normalisation of each row, with a learned scale and shift, under a squared error.

The mean and variance are reductions along the row (keepdims, so they broadcast back); the
gradient flows through both, which is what makes the layer-norm backward pass tedious by
hand.
"""

import numpy as np

from gradgen import Array


def loss(
    x: Array["n", "d"], gamma: Array["d"], beta: Array["d"], target: Array["n", "d"]
) -> float:
    mu = np.mean(x, axis=1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    y = gamma * xhat + beta
    return np.mean((y - target) ** 2)
