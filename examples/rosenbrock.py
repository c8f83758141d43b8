"""The Rosenbrock function in vector form: sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2.

Slices read neighbouring entries; in the generated gradient each slice sends its part back
into its own slots of dx (dx[1:] and dx[:-1]), as one would write it by hand.
"""

import numpy as np

from gradgen import Array


def rosenbrock(x: Array["n"]) -> float:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
