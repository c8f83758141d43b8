"""One head of scaled dot-product attention, under a squared error.

The softmax over each row of scores is written naively, exp(s) / sum(exp(s)); gradgen
computes it without overflow (as exp(log_softmax(s))) and its gradient without the
cancellation of the plain formula.
"""

import numpy as np

from gradgen import Array


def loss(
    X: Array["n", "d"],
    Wq: Array["d", "k"],
    Wk: Array["d", "k"],
    Wv: Array["d", "k"],
    target: Array["n", "k"],
) -> float:
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    scores = Q @ K.T / K.shape[1] ** 0.5
    weights = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    out = weights @ V
    return np.mean((out - target) ** 2)
