"""Naive forms that overflow or lose their digits in plain NumPy, and the same functions from
gradgen.functions, for tests/test_numerics.py: gradgen must compile each to code that is
accurate for arguments from -1000 to 1000."""

import numpy as np

from gradgen import Array
from gradgen.functions import (
    log_sigmoid,
    log_softmax,
    logsumexp,
    sigmoid,
    softmax,
    softplus,
)


def sigmoid_naive(x: Array["n"]) -> Array["n"]:
    return 1 / (1 + np.exp(-x))


def sigmoid_exp_ratio(x: Array["n"]) -> Array["n"]:
    return np.exp(x) / (1 + np.exp(x))


def softplus_naive(x: Array["n"]) -> Array["n"]:
    return np.log(1 + np.exp(x))


def softplus_log1p(x: Array["n"]) -> Array["n"]:
    return np.log1p(np.exp(x))


def log_sigmoid_naive(x: Array["n"]) -> Array["n"]:
    return np.log(1 / (1 + np.exp(-x)))


def log_one_minus_sigmoid(x: Array["n"]) -> Array["n"]:
    p = 1 / (1 + np.exp(-x))
    return np.log(1 - p)


def one_minus_sigmoid(x: Array["n"]) -> Array["n"]:
    return 1 - 1 / (1 + np.exp(-x))


def exp_of_sigmoid(x: Array["n"]) -> Array["n"]:
    return np.exp(1 / (1 + np.exp(-x)))


def cross_entropy_named(z: Array["n"], y: Array["n"]) -> Array["n"]:
    p = 1 / (1 + np.exp(-z))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def log_one_plus(x: Array["n"]) -> Array["n"]:
    return np.log(1 + x)


def exp_minus_one(x: Array["n"]) -> Array["n"]:
    return np.exp(x) - 1


def logsumexp_naive(x: Array["n", "k"]) -> Array["n"]:
    return np.log(np.sum(np.exp(x), axis=1))


def log_softmax_naive(x: Array["n", "k"]) -> Array["n", "k"]:
    return x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))


def log_softmax_after_a_logsumexp(x: Array["n", "k"]) -> Array["n", "k"]:
    # the log-softmax rewrite meets -x's logsumexp first, and passes it by
    return (
        x
        - np.log(np.sum(np.exp(-x), axis=1, keepdims=True))
        - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    )


def log_of_softmax(x: Array["n", "k"]) -> Array["n", "k"]:
    e = np.exp(x)
    return np.log(e / np.sum(e, axis=1, keepdims=True))


def softmax_naive(x: Array["n", "k"]) -> Array["n", "k"]:
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def norm_of_rows(x: Array["n", "k"]) -> Array["n"]:
    return np.sqrt(np.sum(x**2, axis=1))


def helpers_elementwise(x: Array["n"]) -> Array["n"]:
    return sigmoid(x) + softplus(x) * 0.5 + log_sigmoid(x) * 0.25


def helpers_rows(x: Array["n", "k"]) -> Array["n", "k"]:
    return (
        log_softmax(x, axis=1)
        + softmax(x, axis=1)
        + logsumexp(x, axis=1, keepdims=True)
    )


# --- selects whose branch not taken is nan or inf there ------------------------------------
def sqrt_where(x: Array["n"]) -> float:
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def log_where(x: Array["n"]) -> float:
    return np.sum(np.where(x > 0, np.log(x), 0.0))


def named_sqrt_where(x: Array["n"]) -> float:
    s = np.sqrt(x)
    return np.sum(np.where(x > 0, s, 0.0))


def branch_log(x: float) -> float:
    if x > 0:
        y = np.log(x)
    else:
        y = x
    return y
