"""The sigmoid gate of a computational graph: f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))).

Treating the whole sigmoid as one gate, its local gradient is f (1 - f), so the backward
pass needs just one multiplication before fanning out to the inputs. With w = (2, -3, -3) and
x = (-1, -2): f = 0.73, and the gradients are dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59).
"""

import gradgen  # noqa: F401 - a model file: `gradgen compile examples/` compiles it
import numpy as np


def gate(w0: float, x0: float, w1: float, x1: float, w2: float) -> float:
    return 1 / (1 + np.exp(-(w0 * x0 + w1 * x1 + w2)))
