"""A tanh recurrent network over a sequence of any length T: backpropagation through time.

X holds T steps of a batch of n rows. The loop runs over a length that is a name, so
gradgen keeps it a loop: the generated forward loop stores each step's state in one
preallocated array, and the backward loop runs the steps in reverse, carrying the
state's gradient and summing the weights' (dWh += h_tᵀ δ_t). One compile serves every
length. examples/rnn.py is the same network over five steps, unrolled.
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
    h = h0
    for t in range(X.shape[0]):
        h = np.tanh(X[t] @ Wx + h @ Wh + b)
    prediction = h @ w_out
    return 0.5 * np.mean((prediction - target) ** 2)
