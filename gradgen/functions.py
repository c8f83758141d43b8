"""Numerically stable functions for models: plain NumPy when a model runs on arrays, and
the same operations gradgen recognises when it traces the model.

    from gradgen.functions import sigmoid, softplus, log_softmax

Each is accurate over the whole float range (no overflow, no NumPy warnings); gradgen also
recognises the naive forms (1 / (1 + np.exp(-x)), np.log(1 + np.exp(x)), ...) written out,
so these are a convenience, not a requirement. Imports NumPy only.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "sigmoid",
    "softplus",
    "log_sigmoid",
    "logsumexp",
    "log_softmax",
    "softmax",
    "relu",
]


def _traced(x) -> bool:
    """Whether ``x`` is a value gradgen is tracing (checked without importing gradgen's
    compiler, so using these functions at run time stays light: nothing is traced before
    the tracer's module is loaded)."""
    traced = sys.modules.get("gradgen.traced")
    return traced is not None and isinstance(x, traced.Tracer)


def _largest_and_excess(x, axis):
    """The largest entries m along ``axis``, and log(sum(exp(x - m))) as log1p of the sum
    without the largest term (accurate when that sum is small)."""
    m = np.max(x, axis=axis, keepdims=True)
    top = x == m
    rest = np.sum(np.where(top, 0, np.exp(x - m)), axis=axis, keepdims=True)
    ties = np.sum(top, axis=axis, keepdims=True, dtype=rest.dtype)
    return m, np.log1p(rest + (ties - 1))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    if _traced(x):
        return x._stable("sigmoid")
    e = np.exp(-np.abs(x))  # at most 1: no overflow in any float type
    return np.where(x >= 0, 1, e) / (e + 1)


def softplus(x):
    """log(1 + exp(x))."""
    return x._stable("softplus") if _traced(x) else np.logaddexp(0, x)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -softplus(-x)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x), axis))."""
    if _traced(x):
        return x._stable("logsumexp", axis, keepdims)
    m, excess = _largest_and_excess(x, axis)
    out = m + excess
    return out if keepdims else np.squeeze(out, axis=axis)[()]


def log_softmax(x, axis=-1):
    """x - logsumexp(x, axis, keepdims=True)."""
    if _traced(x):
        return x._stable("log_softmax", axis)
    m, excess = _largest_and_excess(x, axis)
    return (x - m) - excess


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x), axis, keepdims=True)."""
    return np.exp(log_softmax(x, axis))


def relu(x):
    """max(x, 0)."""
    return np.maximum(x, 0.0)
