"""Loops that stay loops, written as practitioners write them: over a length that is a
name (``range(T)``, ``for x_t in X``), or long and fixed (``range(300)``). Each target is
checked against autograd and central differences at several lengths from one compile
(tests/test_loops.py)."""

import numpy as np

from gradgen import Array


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn(
    X: Array["T", "n", "d"],
    target: Array["n"],
    h0: Array["n", "k"],
    Wx: Array["d", "k"],
    Wh: Array["k", "k"],
    b: Array["k"],
    w_out: Array["k"],
) -> float:
    h = h0
    for t in range(X.shape[0]):
        h = np.tanh(X[t] @ Wx + h @ Wh + b)
    prediction = h @ w_out
    return 0.5 * np.sum((prediction - target) ** 2)


def lstm(
    X: Array["T", "n", "d"],
    y: Array["n"],
    Wi: Array["d", "k"],
    Ui: Array["k", "k"],
    Wf: Array["d", "k"],
    Uf: Array["k", "k"],
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
        g = np.tanh(x_t @ Wc + h @ Uc)
        c = f * c + i * g
        h = np.tanh(c)
        penalty = penalty + np.mean(h**2)
    return np.sum((h @ w_out - y) ** 2) + 0.1 * penalty


def euler(y0: Array["m"], k: float, A: Array["m", "m"], target: Array["m"]) -> float:
    dt = 0.01
    y = y0
    for step in range(300):
        y = y + dt * (A @ np.tanh(y) - k * y + np.sin(step * dt))
    return np.sum((y - target) ** 2)


def differences(X: Array["T", "d"], w: Array["d"]) -> float:
    total = 0.0
    for t in range(1, X.shape[0]):
        total = total + np.sum((X[t] - X[t - 1]) * w) ** 2
    return total


def leaky(X: Array["T", "d"], W: Array["d", "d"], scale: float) -> float:
    h = X[0] * scale
    for t in range(X.shape[0]):
        z = h @ W.T + X[t]  # W.T does not change from step to step: computed once
        if np.sum(z) > 0:
            h = np.where(z > 0, z, 0.1 * z)
        else:
            h = 0.5 * z
    return np.sum(h**2)


def tagged(
    X: Array["T", "n", "d"], Y: Array["T", "n", int], W: Array["d", "c"]
) -> float:
    n = X.shape[1]
    total = 0.0
    for t in range(X.shape[0]):
        scores = X[t] @ W
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        total = total - np.mean(logp[np.arange(n), Y[t]])
    return total


def zipped(
    X: Array["T", "n", "d"], Y: Array["T", "n"], Wx: Array["d", "k"],
    Wh: Array["k", "k"], w: Array["k"]
) -> float:
    h = np.zeros((X.shape[1], Wh.shape[0]))
    total = 0.0
    for x_t, y_t in zip(X, Y):  # a target per step
        h = np.tanh(x_t @ Wx + h @ Wh)
        total = total + np.mean((h @ w - y_t) ** 2)
    return total / X.shape[0]


def enumerated(X: Array["T", "d"], W: Array["d", "d"], v: Array["d"]) -> float:
    h = v
    total = 0.0
    for t, x_t in enumerate(X):
        h = np.tanh(W @ h + x_t)
        total = total + np.exp(-0.5 * t) * np.sum(h * v)  # later steps count less
    return total


def layers(
    x: Array["n", "d"], W1: Array["d", "k"], b1: Array["k"], W2: Array["k", "c"],
    b2: Array["c"]
) -> float:
    h = x
    for W, b in zip([W1, W2], [b1, b2]):  # Python lists: unrolled, as written
        h = np.tanh(h @ W + b)
    return np.sum(h**2)
