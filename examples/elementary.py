"""Automatic differentiation on elementary operations.

z = x*y + sin(x), split as a = x*y and b = sin(x). Reverse mode gives both partial
derivatives in one backward pass: dz/dx = y + cos(x) (x reaches z along two paths, and the
two contributions add up) and dz/dy = x.
"""

import gradgen  # noqa: F401 - a model file: `gradgen compile examples/` compiles it
import numpy as np


def z(x: float, y: float) -> float:
    a = x * y
    b = np.sin(x)
    return a + b
