"""CS231n's two-layer net: affine, ReLU, affine, and the softmax loss on integer labels,
with L2 regularisation of the weights.

y holds each row's class as an integer (``Array["n", int]``): data, not differentiated, so
the gradient lists X, W1, b1, W2, b2 and reg. The loss is written as in the assignment:
scores shifted by their row maximum, probabilities, and the log of each row's probability of
its label, ``probs[np.arange(n), y]``. gradgen computes that log from the log-softmax (no
log of 0), and the generated gradient of the scores is the familiar (probs - one_hot(y))/n,
written as ``scatter_add``, the np.add.at of the labels.
"""

import numpy as np

from gradgen import Array


def loss(
    X: Array["n", "d"],
    y: Array["n", int],
    W1: Array["d", "h"],
    b1: Array["h"],
    W2: Array["h", "c"],
    b2: Array["c"],
    reg: float,
) -> float:
    n = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    scores = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[np.arange(n), y])) / n
    reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss
