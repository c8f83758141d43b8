"""A multilayer perceptron with biases, a ReLU hidden layer and a softmax cross-entropy loss.

Y holds one-hot labels. The log-softmax is written out as logits minus the log of the summed
exponentials; gradgen recognises it, computes it stably, and the generated gradient of the
logits is the familiar softmax(logits) - Y, scaled by 1/n.
"""

import numpy as np

from gradgen import Array


def loss(
    X: Array["n", "d"],
    Y: Array["n", "c"],
    W1: Array["d", "h"],
    b1: Array["h"],
    W2: Array["h", "c"],
    b2: Array["c"],
) -> float:
    hidden = np.maximum(X @ W1 + b1, 0.0)
    logits = hidden @ W2 + b2
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))
