"""Logistic regression: the mean binary cross-entropy of n rows of d features.

X holds the rows, y their labels (0 or 1), w the weights and b the bias. The loss is a mean
over the rows, so the gradient over a data set split into chunks of rows is the chunks'
gradients weighted by their share of the rows: examples/train_dask.py trains this model on
a Dask array larger than its workers' memory with the Array API module
(generated/array_api/logistic.py).
"""

import numpy as np

from gradgen import Array


def loss(X: Array["n", "d"], y: Array["n"], w: Array["d"], b: float) -> float:
    p = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
