"""Integer data (labels, indices, counts): ``Array["n", int]`` and ``int`` parameters are
never differentiated, and index the float arrays. One target per construct, each ending in
a weighted sum with a random array ``c``, as in ``ops.py``.

``DOMAINS``: ``("index", "k")`` draws an integer array with entries from 0 to k - 1 (an
index into an axis of size k); integer data without one is drawn from 0 and 1.
"""

import numpy as np

from gradgen import Array

DOMAINS: dict = {}


# --- integer data as numbers ------------------------------------------------------------
def times_count(x: Array["n", "d"], k: int, c: Array["n", "d"]) -> float:
    return np.sum(x * c) * k


def times_labels(x: Array["n"], y: Array["n", int], c: Array["n"]) -> float:
    return np.sum(x * y * c + (2 * y + 1) * x**2)
