"""A tanh recurrent network over a sequence of T steps, T a named size.

X holds T steps of a batch of n sequences, d features each; the state h (n × k) starts at h0
and the loss is half the summed squared error of a linear read-out of the last state.
Because T is a name, not a number, the loop is a loop of the model: it is not unrolled.
benchmarks/loops.py times it with n = 32, d = 16, k = 64 at T = 100 and 1000.
"""

import numpy as np

from gradgen import Array


def loss(
    X: Array["T", "n", "d"],
    target: Array["n"],
    h0: Array["n", "k"],
    Wx: Array["d", "k"],
    Wh: Array["k", "k"],
    b: Array["k"],
    w_out: Array["k"],
) -> float:
    T = X.shape[0]
    h = h0
    for t in range(T):
        h = np.tanh(X[t] @ Wx + h @ Wh + b)
    return 0.5 * np.sum((h @ w_out - target) ** 2)
