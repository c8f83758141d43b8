"""sum(x * y + sin x) over a long vector: elementwise work only, no matrix products."""

import numpy as np

from gradgen import Array


def f(x: Array["n"], y: Array["n"]) -> float:
    return np.sum(x * y + np.sin(x))
