"""A bowl for steepest descent: f(w1, w2) = w1^2 + w2^2 / 2, with gradient (2 w1, w2).

examples/descent.py walks downhill from (1, 1) with step size 1.
"""

import gradgen  # noqa: F401 - a model file: `gradgen compile examples/` compiles it


def f(w1: float, w2: float) -> float:
    return w1**2 + 0.5 * w2**2
