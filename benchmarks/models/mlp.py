"""A 784 -> 256 -> 256 -> 10 ReLU network with biases and a softmax cross-entropy loss.

The benchmark runs it on a batch of 128 MNIST-sized rows with one-hot labels Y. The
log-sum-exp is shifted by the row maximum, as numerically careful code writes it.
"""

import numpy as np

from gradgen import Array


def relu(z):
    return np.maximum(z, 0)


def loss(
    X: Array["n", 784],
    Y: Array["n", 10],
    W1: Array[784, 256],
    b1: Array[256],
    W2: Array[256, 256],
    b2: Array[256],
    W3: Array[256, 10],
    b3: Array[10],
) -> float:
    h1 = relu(X @ W1 + b1)
    h2 = relu(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    shifted = z - np.max(z, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]
