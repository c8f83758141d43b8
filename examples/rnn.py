"""An unrolled tanh recurrent network over a sequence of five steps.

Each step reads one row of the sequence, xs[t], and the state of the step before; the loop
runs a fixed number of times, so gradgen unrolls it and the generated backward pass is
backpropagation through time, one block per step, from the last step to the first.
"""

import numpy as np

from gradgen import Array


def loss(
    xs: Array[5, "d"],
    target: float,
    h0: Array["k"],
    Wx: Array["d", "k"],
    Wh: Array["k", "k"],
    b: Array["k"],
    w_out: Array["k"],
) -> float:
    h = h0
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    prediction = h @ w_out
    return 0.5 * (prediction - target) ** 2
