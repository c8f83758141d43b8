"""Integer data (labels, indices, counts): ``Array["n", int]`` and ``int`` parameters are
never differentiated, and index the float arrays. One target per construct, each ending in
a weighted sum with a random array ``c``, as in ``ops.py``.

``DOMAINS``: ``("index", "k")`` draws an integer array with entries from 0 to k - 1 (an
index into an axis of size k); integer data without one is drawn from 0 and 1. Indices
drawn from fewer values than they have entries repeat: the gradient adds each repeat
(``np.add.at``). ``NO_AUTOGRAD``: autograd cannot write into an array, and has no
derivative of np.take and np.take_along_axis (central differences still check these; the
same reads written as x[:, idx] are checked against autograd too).
"""

import numpy as np

from gradgen import Array

DOMAINS = {
    "pick_labels": {"y": ("index", "k")},
    "embedding": {"idx": ("index", "n")},
    "take_axis": {"idx": ("index", "k")},
    "columns": {"idx": ("index", "k")},
    "take_flat": {"idx": ("index", "n")},
    "take_along": {"idx": ("index", "k")},
    "one_hot": {"y": ("index", "k")},
    "index_scalar": {"k": ("index", "n")},
    "softmax_labels": {"y": ("index", "k")},
    "svm": {"y": ("index", "k")},
    "compared_labels": {"y": ("index", "k")},
}
NO_AUTOGRAD = {"masked_write", "svm", "take_axis", "take_flat", "take_along"}


# --- integer data as numbers ------------------------------------------------------------
def times_count(x: Array["n", "d"], k: int, c: Array["n", "d"]) -> float:
    return np.sum(x * c) * k


def times_labels(x: Array["n"], y: Array["n", int], c: Array["n"]) -> float:
    return np.sum(x * y * c + (2 * y + 1) * x**2)


# --- gathering by integer arrays --------------------------------------------------------
def pick_labels(p: Array["n", "k"], y: Array["n", int], c: Array["n"]) -> float:
    n = p.shape[0]
    return np.sum(p[np.arange(n), y] * c)


def softmax_labels(s: Array["n", "k"], y: Array["n", int]) -> float:
    n = s.shape[0]
    e = np.exp(s - np.max(s, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(n), y]))


def embedding(
    E: Array["n", "d"], idx: Array["k", 3, int], c: Array["k", 3, "d"]
) -> float:
    return np.sum(E[idx] * c)  # 3k indices into n rows: rows repeat


def constant_list(x: Array["n", "d"], c: Array[2, "d"]) -> float:
    return np.sum(x[[0, 2]] * c)


def repeated_list(x: Array["n"], c: Array[4]) -> float:
    return np.sum(x[[0, 1, 0, 0]] * c)  # x[0] three times: its gradient adds up


def column_list(x: Array["n", "d"], c: Array["n", 3]) -> float:
    return np.sum(x[:, np.array([1, 0, 1])] * c)


def take_axis(x: Array["n", "k"], idx: Array["d", int], c: Array["n", "d"]) -> float:
    return np.sum(np.take(x, idx, axis=1) * c)


def columns(x: Array["n", "k"], idx: Array["d", int], c: Array["n", "d"]) -> float:
    return np.sum(x[:, idx] * c)


def take_flat(x: Array["n", "d"], idx: Array["k", int], c: Array["k"]) -> float:
    return np.sum(np.take(x, idx) * c)


def take_along(x: Array["n", "k"], idx: Array["n", 2, int], c: Array["n", 2]) -> float:
    return np.sum(np.take_along_axis(x, idx, axis=1) * c)


def one_hot(s: Array["n", "k"], y: Array["n", int]) -> float:
    Y = np.eye(s.shape[1])[y]
    return np.sum(Y * s**2 + np.log1p(s**2))


def index_scalar(x: Array["n", "d"], k: int, c: Array["d"]) -> float:
    return np.sum(x[k] * c)


def argmax_pick(s: Array["n", "k"], c: Array["n"]) -> float:
    n = s.shape[0]
    j = np.argmax(s, axis=1)
    return np.sum(s[np.arange(n), j] * c) + np.sum(j * c)


def argmin_flat(x: Array["n"]) -> float:
    return x[np.argmin(x)] ** 2 + x[x.argmax()]


def svm(W: Array["d", "k"], X: Array["n", "d"], y: Array["n", int]) -> float:
    """CS231n's multiclass SVM loss, the label's own margin set to 0 by an index write."""
    n = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(n), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(n), y] = 0
    return np.sum(margins) / n + 0.1 * np.sum(W * W)


# --- constants and masks that keep the shape -------------------------------------------
def float_constant(x: Array["n", 2], c: Array["n", 2]) -> float:
    return np.sum(x * np.array([0.5, 2.0]) * c) + np.sum(x @ np.array([1.0, -1.0]))


def times_mask(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    mask = x > 0.1
    return np.sum(x * mask * c)


def where_mask(x: Array["n", "d"], y: Array["n", "d"], c: Array["n", "d"]) -> float:
    mask = x > y
    return np.sum(np.where(mask, x * y, y**2) * c)


def compared_labels(
    s: Array["n", "k"], y: Array["n", int], c: Array["n", "k"]
) -> float:
    Y = (y[:, None] == np.arange(s.shape[1])) * 1.0  # one-hot by comparison
    return np.sum(Y * s * c) + np.sum(s < 0) * np.sum(s**2)  # a mask counted


def like_a_mask(x: Array["n", "d"], y: Array["n", int], c: Array["n", "d"]) -> float:
    mask = x > 0.1
    kept = np.ones_like(mask) + mask.copy()  # masks: their or, all true
    scale = np.full_like(y, 2.5)  # integer data: 2
    return np.sum(x * kept * c) + np.sum(x**2 * scale[:, None])


def picked_booleans(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    wide = np.where(x > c, True, False) | np.where(x < -0.5, False, c > 0.2)
    counted = (x > 0).astype(int)  # 0 and 1 as numbers
    nonzero = (x - 0.5).astype(bool)
    picked = np.where(wide, x * c, c**2) + np.where(nonzero, x, 2 * c)
    return np.sum(picked) + np.sum(x**2 * counted)


def products_of_masks(x: Array["n", "d"], A: Array["d", "d"], c: Array["n", "d"]) -> float:
    # NumPy's @, einsum and diagonals of booleans are booleans (or of ands, not counts)
    reach = (A > 0) @ (A > 0.5)
    rows = np.einsum("ij->i", x > 0)
    own = np.diagonal(A > 0) + np.floor(np.diag(A) > 0.5) + np.abs(np.diag(A) > 1.0)
    return np.sum(x @ (A * reach) * c) + np.sum(x.T * rows) + np.sum(np.diag(A) * own)


def written_masks_and_integers(x: Array["n"], y: Array["n", int], c: Array["n"]) -> float:
    mask = x > 0
    mask[x < -1] = 0.5  # as NumPy writes a number into booleans: true
    counts = np.zeros(x.shape[0], dtype=int)
    counts[x > c] = 2.7  # into integers: 2
    labels = y.copy()
    labels[y < 0] = -1.5  # -1
    steps = np.arange(x.shape[0], dtype=float) / 2
    return np.sum(x * (mask + mask)) + np.sum(c * counts) + np.sum(x * c * labels * steps)


def discounted(r: Array["n"], gamma: float) -> float:
    fixed = 0.5 ** np.arange(r.shape[0])  # a constant base to integer powers
    return np.sum(r * fixed) + np.sum(r * np.power(0.9, np.arange(r.shape[0]))) + np.sum(
        r * gamma ** np.arange(r.shape[0])
    )


def masked_write(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    z = x * c
    z[x < 0] = 0.0
    return np.sum(z**2)
