"""An LSTM over a sequence of T steps, the four gates in one matrix product.

The gates' pre-activations are the m = 4k columns of z = X[t] @ Wx + h @ Wh + b, in the
order input, forget, cell, output (k columns each); the loss is half the summed squared
error of a linear read-out of the last state h. benchmarks/loops.py runs this source on
autograd's and PyTorch's namespaces with n = 32, d = 16, k = 64 at T = 100 and 1000. gradgen
does not compile it: the annotations cannot say that m is 4k, so the slices of z are of
sizes it cannot match with k.
"""

import numpy as np

from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(
    X: Array["T", "n", "d"],
    target: Array["n"],
    h0: Array["n", "k"],
    c0: Array["n", "k"],
    Wx: Array["d", "m"],
    Wh: Array["k", "m"],
    b: Array["m"],
    w_out: Array["k"],
) -> float:
    T, k = X.shape[0], h0.shape[1]
    h, c = h0, c0
    for t in range(T):
        z = X[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :k])
        f = sigmoid(z[:, k : 2 * k])
        g = np.tanh(z[:, 2 * k : 3 * k])
        o = sigmoid(z[:, 3 * k :])
        c = f * c + i * g
        h = o * np.tanh(c)
    return 0.5 * np.sum((h @ w_out - target) ** 2)
