"""An LSTM over a sequence of any length: input, forget and output gates, a cell state.

``for x_t in X`` runs over the first axis of X (T steps of n rows of d features). The
loop carries two states, h and c, and a running penalty on h; gradgen keeps it a loop,
so the backward pass is one reversed loop whatever T is.
"""

import numpy as np

from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(
    X: Array["T", "n", "d"],
    y: Array["n"],
    Wi: Array["d", "k"],
    Ui: Array["k", "k"],
    Wf: Array["d", "k"],
    Uf: Array["k", "k"],
    Wo: Array["d", "k"],
    Uo: Array["k", "k"],
    Wc: Array["d", "k"],
    Uc: Array["k", "k"],
    w_out: Array["k"],
) -> float:
    n, k = X.shape[1], Ui.shape[0]
    h = np.zeros((n, k))
    c = np.zeros((n, k))
    penalty = 0.0
    for x_t in X:
        i = sigmoid(x_t @ Wi + h @ Ui)
        f = sigmoid(x_t @ Wf + h @ Uf + 1.0)
        o = sigmoid(x_t @ Wo + h @ Uo)
        c = f * c + i * np.tanh(x_t @ Wc + h @ Uc)
        h = o * np.tanh(c)
        penalty = penalty + np.mean(h**2)
    return np.mean((h @ w_out - y) ** 2) + 0.01 * penalty
