"""One compile target per supported operation, for the table-driven gradient tests.

Each target ends in a weighted sum with a random array ``c`` so its gradient is a general
vector-Jacobian product, not one against ones.

``DOMAINS``: where a target's inputs are drawn from when not standard normal;
``NO_AUTOGRAD``: targets autograd cannot run (central differences still check them).
"""

import numpy as np

from gradgen import Array

POSITIVE = (0.5, 2.0)
DOMAINS = {
    "div": {"y": POSITIVE},
    "rdiv": {"x": POSITIVE},
    "pow_const": {"x": POSITIVE},
    "pow_traced": {"x": POSITIVE, "p": POSITIVE},
    "pow_traced_base": {"x": POSITIVE, "p": POSITIVE},
    "scalars": {"b": POSITIVE},
    "log_": {"x": POSITIVE},
    "sqrt_": {"x": POSITIVE},
    "inverse_trig": {"x": (-0.8, 0.8)},
    "abs_": {"x": "nonzero"},
    "arctan2_": {"x": "nonzero"},
    "log2_log10_exp2": {"x": POSITIVE},
    "remainder_": {"y": POSITIVE},
    "inverse_hyperbolic": {"x": (-0.8, 0.8)},
    "power_of_zero": {"x": POSITIVE},
}
# autograd cannot run these: .dot, einsum's repeated labels, cross of broadcast operands,
# np.linspace without its endpoint (its rule ignores endpoint=), np.diagonal off the
# last two axes or with an offset, the second derivatives of np.gradient and of einsum's
# operand lists (its rules fail on them),
# the norms it has no gradient for (or nan, for ord=inf), diag of a rectangular matrix,
# np.cumprod and np.clip in its bounds (no rule), // (its arrays lack it), np.sort of a
# matrix
NO_AUTOGRAD = {
    "linalg_lower_triangle",  # autograd's cholesky gradient is the symmetric one
    "dot_method",
    "einsum_diagonal",
    "cross_",
    "linalg_norms_more",
    "diag_rectangular",
    "cumprod_axes",
    "floor_divide_",
    "clip_traced_bounds",
    "linspace_open",
    "diagonal_offsets",
    "gradient_",
    "einsum_operand_lists",
    "sort_axes",  # autograd sorts vectors only
    "angle_degrees",  # autograd's np.angle has no deg=
    "mask_written",  # autograd has no writes into arrays
}


# --- arithmetic with broadcasting ---------------------------------------------------
def add_bias(x: Array["n", "d"], b: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum((x + b) * c)


def sub_column(x: Array["n", "d"], y: Array["n", 1], c: Array["n", "d"]) -> float:
    return np.sum((x - y) * c)


def mul_scalar(s: float, x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(s * x * c)


def mul_row_column(u: Array["n", 1], v: Array[1, "d"], c: Array["n", "d"]) -> float:
    return np.sum(u * v * c)


def div(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum(x / y * c)


def rdiv(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(2.0 / x * c)


def rsub_neg(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((1.0 - x) * c + (-x) ** 2)


def pow_const(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(x**3 * c + x**0.5)


def pow_traced(x: Array["n", "d"], p: float, c: Array["n", "d"]) -> float:
    return np.sum(x**p * c)


def pow_traced_base(x: Array["n", "d"], p: Array["n", "d"]) -> float:
    return np.sum(x**p)


def rpow(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(2.0**x * c)


def scalars(a: float, b: float) -> float:
    return a * b + a / b - b**2 + np.pi * a


# --- elementwise functions ------------------------------------------------------------
def exp_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.exp(x) * c)


def log_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.log(x) * c)


def sqrt_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.sqrt(x) * c)


def trig(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.sin(x) + np.cos(2.0 * x) + np.tan(0.5 * x)) * c)


def hyperbolic(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.tanh(x) + np.sinh(x) * np.cosh(x)) * c)


def inverse_trig(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.arcsin(x) + np.arccos(x) * np.arctan(x)) * c)


def abs_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.abs(x) * c)


def maximum_minimum(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum((np.maximum(x, y) + np.minimum(x, 0.5)) * c)


def relu(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.maximum(x, 0.0) * c)


def where_leaky(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.where(x > 0, x, 0.1 * x) * c)


def where_two_arrays(
    x: Array["n", "d"], y: Array["n", "d"], c: Array["n", "d"]
) -> float:
    return np.sum(np.where((x < y) & (x > -1.0), x * y, np.exp(y)) * c)


def where_masks(
    S: Array["n", "n"], x: Array["n", 3], c: Array["n", "n"], e: Array["n", 3]
) -> float:
    # masks that are not comparisons: np.tri(dtype=bool) (causal attention), a boolean
    # constant, numbers (true where not 0); with comparisons through & | ^ ~
    causal = np.where(np.tri(S.shape[0], dtype=bool), S, -1e9)
    p = np.exp(causal - np.max(causal, axis=1, keepdims=True))
    p = p / np.sum(p, axis=1, keepdims=True)
    keep = np.array([True, False, True])
    a = np.where(keep, np.tanh(x), x**2) + x * keep
    b = np.where(keep & (x > 0) | ~keep ^ (x < -0.5), x, 0.0)
    s = np.select([~keep, np.logical_and(x < 0, keep)], [np.sin(x), -x], default=x)
    u = np.where(np.triu(np.ones((S.shape[0], S.shape[0])), 1), np.cos(S), S)
    return np.sum(p * c) + np.sum((a + b + s) * e) + np.sum(u * c)


def masks_rearranged(
    S: Array["n", "n"], x: Array["n", 3], c: Array["n", "n"], e: Array["n", 3]
) -> float:
    # masks stay masks through .T, slices and np.where between masks (& of a transposed
    # mask, not a product of numbers)
    # + and * of masks are their or and and, as NumPy's; np.triu, np.outer, np.max,
    # np.pad of masks are masks
    m = np.tri(S.shape[0], dtype=bool).T & (S > 0) | (S > 0.5).T
    picked = np.where(S[0] > 0, S[1] > 0, S[1] < -1) | (S[:, 0] > 0.3)
    n = S.shape[0]
    ors = ((S > 0).T + (S > 0.5)) * S + (np.triu(np.ones((n, n), dtype=bool), 1) + m) * c
    ands = np.outer(x[:, 0] > 0, x[:, 1] > 0.5) * (S < 0.2) + np.max(S > 0, axis=0)
    padded = np.pad(x[1:, 2] > 0, (0, 1)) + (x[:, 2] > 0.5)
    return (
        np.sum(np.where(m, S, -S) * c)
        + np.sum(picked * x[:, 0] * e[:, 1])
        + np.sum(ors * c + ands * S)
        + np.sum(padded * x[:, 1])
    )


def mask_written(x: Array["n"], c: Array["n"]) -> float:
    # a mask written into stays a mask: True and comparisons written, then & and +
    m = np.zeros(x.shape[0], dtype=bool)
    m[0] = True
    m[1:] = x[1:] > 0.5
    return np.sum(np.where(m & (x < 1.5), x, -x) * c) + np.sum((m + (x > 1)) * x)


def constant_mask_index(x: Array["n", 3], e: Array["n", 2]) -> float:
    # a boolean constant indexes as its np.nonzero: a fixed number of columns
    keep = np.array([True, False, True])
    return np.sum(x[:, keep] * e)


def sigmoid_forms(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    a = 1 / (1 + np.exp(-x))
    b = np.exp(x) / (1 + np.exp(x))
    return np.sum((a + 2.0 * b) * c)


def softmax_forms(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    e = np.exp(x)
    p = e / np.sum(e, axis=1, keepdims=True)  # a softmax
    q = x / np.sum(e, axis=1, keepdims=True)  # not one: x is not e
    return np.sum((p + q) * c)


def log2_log10_exp2(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.log2(x) + np.log10(x) * np.exp2(x)) * c)


def steps(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    # derivative 0 for the steps themselves (sign, floor, ceil); |x| as np.fabs
    return np.sum((np.sign(x) * x + np.floor(x) * x + np.ceil(x) + np.fabs(x)) * c)


def floor_divide_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.floor_divide(x, 0.7) * x + x // 0.3 + 2.0 // (x * x + 1.0)) * c)


def hypot_(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum(np.hypot(x, y) * c)


def fmin_fmax(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum((np.fmax(x, y) + np.fmin(x, 0.5)) * c)


def remainder_(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum((np.remainder(x, y) + x % 0.7 + 3.0 % y) * c)


def degrees_radians(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.deg2rad(x) + np.rad2deg(x) ** 2 + np.radians(np.degrees(x))) * c)


def inverse_hyperbolic(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum((np.arcsinh(x) + np.arccosh(x + 2.0) * np.arctanh(x)) * c)


def logaddexp2_(x: Array["n", "d"], y: Array["d"], c: Array["n", "d"]) -> float:
    return np.sum(np.logaddexp2(x, y) * c)


def clip_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    # the derivative is 1 strictly inside the bounds, 0 at and beyond them
    return np.sum((np.clip(x, -0.5, 0.5) + np.clip(x, 0.2, None) * x) * c)


def clip_traced_bounds(
    x: Array["n", "d"], lo: float, hi: Array["d"], c: Array["n", "d"]
) -> float:
    # lo > hi + 1 happens: np.clip is then hi + 1 everywhere
    return np.sum(np.clip(x, lo, hi + 1.0) * c) + np.sum(np.clip(x, None, hi) ** 2)


def comparisons_as_numbers(
    x: Array["n", "d"], y: Array["n", "d"], c: Array["n", "d"]
) -> float:
    counts = np.sum(x < y) + 0.0 + np.mean(x >= y) * np.sum(x)
    return counts + np.sum((x > 0) * x * c) + np.sum((x > y).astype(float) * c * y)


def power_of_zero(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    # 0**x is 0 for x > 0: its derivative is 0 there, not 0 * log(0)
    return np.sum(np.power(0.0, x) * c) + np.sum(0.0**x)


# --- matrix products and transposes ---------------------------------------------------
def matmul_2d(A: Array["n", "d"], B: Array["d", "k"], c: Array["n", "k"]) -> float:
    return np.sum((A @ B) * c)


def matmul_vec_mat(v: Array["d"], B: Array["d", "k"], c: Array["k"]) -> float:
    return np.sum(np.matmul(v, B) * c)


def matmul_mat_vec(A: Array["n", "d"], v: Array["d"], c: Array["n"]) -> float:
    return np.sum(np.dot(A, v) * c)


def dot_vectors(u: Array["d"], v: Array["d"]) -> float:
    return np.dot(u, v) + u @ v * 2.0


def dot_scalar(s: float, A: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.dot(s, A) * c)


def dot_nd(
    A: Array["n", "d"],
    B: Array[2, "d", "k"],
    C: Array[2, "n", "d"],
    c: Array["n", 2, "k"],
    e: Array[2, "n", 2, "k"],
) -> float:
    # np.dot of N-D arrays pairs the last axis of A with the second-to-last of B
    return np.sum(np.dot(A, B) * c) + np.sum(np.dot(C, B) * e)


def transposes(A: Array["n", "d"], B: Array["n", "k"], c: Array["d", "k"]) -> float:
    return np.sum((A.T @ B + np.transpose(B.T @ A) + (B.T @ A).T) * c)


def method_calls(A: Array["n", "d"], v: Array["d"]) -> float:
    return (A @ v).sum() + A.transpose().mean() + A.max() + A.sum(axis=0).max()


def dot_method(A: Array["n", "d"], v: Array["d"]) -> float:
    return np.sum(
        A.dot(v) ** 2
    )  # autograd's arrays lack .dot: checked numerically only


# --- reductions ------------------------------------------------------------------------
def sum_axes(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n"], c2: Array["n", 1]
) -> float:
    return (
        np.sum(np.sum(x, axis=0) * c0)
        + np.sum(np.sum(x, axis=-1) * c1)
        + np.sum(np.sum(x, axis=1, keepdims=True) * c2)
        + np.sum(x, axis=(0, 1))
    )


def mean_axes(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n"], c2: Array[1, "d"]
) -> float:
    return (
        np.sum(np.mean(x, axis=0) * c0)
        + np.sum(np.mean(x, axis=1) * c1)
        + np.sum(np.mean(x, axis=0, keepdims=True) * c2)
        + np.mean(x)
    )


def max_axes(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n"], c2: Array["n", 1]
) -> float:
    return (
        np.sum(np.max(x, axis=0) * c0)
        + np.sum(np.max(x, axis=-1) * c1)
        + np.sum(np.max(x, axis=1, keepdims=True) * c2)
        + np.max(x)
    )


def min_axes(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n"], c2: Array["n", 1]
) -> float:
    return (
        np.sum(np.min(x, axis=0) * c0)
        + np.sum(np.amin(x, axis=-1) * c1)
        + np.sum(x.min(axis=1, keepdims=True) * c2)
        + np.min(x)
        + x.min()
    )


def prod_axes(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n"], c2: Array["n", 1]
) -> float:
    return (
        np.sum(np.prod(x, axis=0) * c0)
        + np.sum(np.prod(x, axis=-1) * c1)
        + np.sum(x.prod(axis=1, keepdims=True) * c2)
        + np.prod(x)
    )


def cumprod_axes(x: Array["n", "d"], c: Array["n", "d"], v: Array["d"]) -> float:
    rows = np.cumprod(x, axis=0) * c
    return (
        np.sum(rows) + np.sum(np.cumprod(x) ** 2) * 0.1 + np.sum(x.cumprod(axis=-1) @ v)
    )


def var_std(
    x: Array["n", "d"], c0: Array["d"], c1: Array["n", 1], c2: Array["n"]
) -> float:
    return (
        np.sum(np.var(x, axis=0) * c0)
        + np.sum(np.std(x, axis=1, keepdims=True, ddof=1) * c1)
        + np.sum(np.std(x, axis=-1) * c2)
        + np.var(x, ddof=1)
        + np.std(x)
    )


def diff_(x: Array["n", "d"], c0: Array["n", "d"], c1: Array["n", "d"]) -> float:
    return (
        np.sum(np.diff(x) * c0[:, 1:])
        + np.sum(np.diff(x, axis=0) * c1[1:])
        + np.sum(np.diff(x, n=2, axis=0) ** 2)
    )


def trace_(A: Array["n", "n"], B: Array["n", "n"]) -> float:
    return np.trace(A @ B) + np.trace(A) ** 2


# --- Python structure: helpers, loops, shapes ----------------------------------------
def _softplus(z):
    return np.log(1.0 + np.exp(z))


def helper_and_loop(x: Array["n", "d"], W: Array["d", "d"]) -> float:
    h = x
    for _ in range(3):
        h = np.tanh(h @ W) + _softplus(h)
    return np.sum(h) / x.shape[0]


def tuple_loop(x: Array["d"], W1: Array["d", "d"], W2: Array["d", "d"]) -> float:
    h = x
    for W in (W1, W2):
        h = np.sin(W @ h)
    return np.sum(h**2)


def reuse_and_cancel(x: Array["n", "d"], y: Array["n", "d"]) -> float:
    z = x * y
    return np.sum(z * z + z - (x - x) + np.exp(z) * y)


def unused_parameter(x: Array["n", "d"], unused: Array["d"]) -> float:
    return np.sum(x**2)


# --- array outputs (VJP) -----------------------------------------------------------------
def layer(X: Array["n", "d"], W: Array["d", "k"], b: Array["k"]) -> Array["n", "k"]:
    return np.tanh(X @ W + b)


def scaled(x: Array["d"], s: float) -> Array["d"]:
    return s * np.exp(x)


# --- degenerate cases ----------------------------------------------------------------
def identity(x: Array["n"]) -> Array["n"]:
    return x


def zeroed(x: Array["n"]) -> Array["n"]:
    return x * 0 + x - x


def first_of_two(a: float, b: float) -> float:
    return a


def zero_dim_array(x: Array[()], y: Array["n"]) -> float:
    return np.sum(x * y) * y.shape[0]


# --- added through the operation registry (gradgen/ops) --------------------------------
def arctan2_(y: Array["n", "d"], x: Array["n", "d"], c: Array["n", "d"]) -> float:
    return np.sum(np.arctan2(y, x) * c)


def cumsum_axes(x: Array["n", "d"], c: Array["n", "d"], v: Array["d"]) -> float:
    rows = np.cumsum(x, axis=0) * c
    return (
        np.sum(rows) + np.sum(np.cumsum(x) ** 2) * 0.1 + np.sum(x.cumsum(axis=-1) @ v)
    )


# --- contractions and axis orders (gradgen/ops/einsum.py, shapes.py) -------------------
def einsum_forms(
    A: Array["n", "d"], B: Array["d", "k"], v: Array["k"], c: Array["n", "k"]
) -> float:
    return (
        np.sum(np.einsum("ij,jk->ik", A, B) * c)
        + np.sum(np.einsum("ij,jk,k->ij", A, B, v) * A)
        + np.einsum("ij,ij", A, A)
        + np.sum(np.einsum("ij->j", A) ** 2)
        + np.einsum("nk,k->", c, v)
        + np.sum(np.einsum("ik,jk->ij", c, np.tanh(c)))
        + np.sum(np.einsum("ji", B) * np.einsum("ki->ik", B))
    )


def einsum_diagonal(S: Array["d", "d"], T: Array["d", "d"]) -> float:
    return np.sum(np.einsum("ii->i", S) * np.einsum("ij,jj->i", T, S)) + (
        np.einsum("ii", T) ** 2
    )


def einsum_ellipsis(
    X: Array["k", "n", "d"], W: Array["d", "d"], c: Array["k", "n", "d"]
) -> float:
    return np.sum(np.einsum("...ij,jl->...il", X, W) * c) + 0.1 * np.sum(
        np.einsum("bij,bij->b", X, X) ** 2
    )


def tensordot_inner_outer(
    X: Array["n", "d", "k"], Y: Array["d", "k"], u: Array["n"], w: Array["d"]
) -> float:
    return (
        np.sum(np.tensordot(X, Y) * u)
        + np.sum(np.tanh(np.tensordot(X, Y, axes=([1], [0]))))
        + np.sum(np.outer(u, w) * X[:, :, 0])
        + np.inner(w, w)
        + np.sum(np.inner(X, Y) ** 2)
    )


def batched_matmul(
    A: Array["k", "n", "d"],
    B: Array["k", "d", "n"],
    M: Array["d", "d"],
    v: Array["d"],
    C: Array[2, 1, "n", "n"],
    c: Array["k", "n", "n"],
) -> float:
    return (
        np.sum((A @ B) * c)
        + np.sum(np.matmul(A, M) ** 2)
        + np.sum(np.tanh(A @ v))
        + np.sum(np.sin(C @ A))
        + np.sum(v @ B)
    )


def axis_orders(X: Array["n", "d", "k"], c: Array["k", "d", "n"]) -> float:
    return (
        np.sum(X.T * c)
        + np.sum(np.transpose(X, (2, 1, 0)) ** 2 * c)
        + np.sum(np.swapaxes(X, 0, 2) * np.sin(c))
        + np.sum(np.moveaxis(X, 0, -1) * np.transpose(c, (1, 0, 2)))
        + np.sum(X.transpose((1, 0, 2)) * np.moveaxis(c, [0, 2], [2, 1]) ** 2)
    )


# --- arrays assembled from others (gradgen/ops/assembled.py) ---------------------------
def cross_axes(a: Array[3, "n"], b: Array["n", 3], c: Array[3, "n"]) -> float:
    return np.sum(np.cross(a, b, axisa=0, axisc=0) * c)


def trace_offset(A: Array["n", "n"], T: Array["n", "n", "k"], c: Array["k"]) -> float:
    return np.trace(A, offset=1) * np.trace(A, offset=-2) + np.sum(
        np.trace(T, offset=-1) * c
    )


def diagonal_(T: Array["k", "n", "n"], c: Array["k", "n"]) -> float:
    return np.sum(np.diagonal(T, axis1=-1, axis2=-2) * c)


def diagonal_offsets(
    A: Array["n", "n"], T: Array["n", "k", "n"], c: Array["k", "n"], e: Array["n"]
) -> float:
    inner = np.diagonal(T, -1, 2, 0) * c[:, 1:]
    return np.sum(inner) + np.sum(np.diagonal(A, 1) ** 2) + np.sum(A.diagonal() * e)


def gradient_(x: Array["n", 3], c: Array["n", 3], e: Array["n", 3]) -> float:
    along_rows, along_columns = np.gradient(x)
    return np.sum(along_rows * c) + np.sum(
        np.gradient(x**2, axis=0) * e * along_columns
    )


def einsum_operand_lists(
    A: Array["n", "d"], B: Array["d", "k"], c: Array["n", "k"]
) -> float:
    return np.sum(np.einsum(A, [0, 1], B, [1, 2], [0, 2]) * c) + np.einsum(
        A, [0, 1], []
    )


def linspace_(a: float, b: float, x: Array["n"], c: Array[5]) -> float:
    grid = np.linspace(a, b, 5)
    ramp = np.linspace(0.0, b, x.shape[0])
    return np.sum(grid * c) + np.sum(ramp * x) + np.sum(np.linspace(a, 2.0, 1) ** 2)


def linspace_open(a: float, b: float, x: Array["n"]) -> float:
    return np.sum(np.linspace(a, b, x.shape[0], endpoint=False) * x)


def diag_tri(v: Array["d"], A: Array["d", "d"], X: Array["n", "d"]) -> float:
    causal = np.tri(A.shape[0])
    return (
        np.sum(np.sin(np.diag(v)))
        + np.sum(np.diag(A) * v)
        + np.sum(np.cos(np.diag(v, 1)))
        + np.sum(np.diag(v, -2) ** 2)
        + np.sum(np.triu(A, 1) * np.sin(A))
        + np.sum(np.tril(X) ** 2)
        + np.sum(causal * np.cos(A))
        + np.sum(np.diag(X[:2, :2]) ** 3)
        + np.sum(np.diag(A, 1) * np.diag(A, -1))
        + np.sum(np.diag(X[:2, :2], 1) ** 2)
    )


def diag_rectangular(Y: Array[2, 3], x: Array[1]) -> float:
    # autograd's diag of a rectangular matrix fails: checked numerically only
    return np.sum(np.diag(Y) ** 2 + np.diag(Y, 1) ** 3) + np.sum(np.diag(Y, -1) * x)


def tile_repeat(x: Array["n", "d"], v: Array["d"]) -> float:
    return (
        np.sum(np.sin(np.tile(x, (2, 3))))
        + np.sum(np.tile(v, 2) * np.repeat(v, 2))
        + np.sum(np.cos(np.repeat(x, 3, axis=1)))
        + np.sum(np.repeat(x, 2) ** 3)
        + np.sum(np.tanh(np.tile(v, (2, 1, 1))))
    )


def pad_stack_split(x: Array["n", "d"], v: Array["d"], y: Array[5, "d"]) -> float:
    top, rest = np.split(x, [1])
    a, b = np.array_split(y, 2)
    p, q = np.split(y[:4], 2, axis=0)
    return (
        np.sum(np.sin(np.pad(x, 1, "constant")))
        + np.sum(np.cos(np.pad(v, (2, 0), "constant", constant_values=1.5)))
        + np.sum(np.sin(np.vstack([x, v])))
        + np.sum(np.hstack([v, 2.0 * v]) ** 3)
        + np.sum(np.tanh(np.hstack([x, x * x])))
        + np.sum(top**2)
        + np.sum(np.sin(rest))
        + np.sum(a**3) * np.sum(b)
        + np.sum(p * q)
    )


def broadcast_kron(u: Array[3], A: Array["n", "d"], B: Array[2, "k"]) -> float:
    return (
        np.sum(np.sin(np.broadcast_to(u[None, :], (4, 3))))  # autograd: no new axes
        + np.sum(np.cos(np.kron(A, B)))
        + np.sum(np.kron(u, u[:2]) ** 2)
    )


def cross_(u: Array[3], w: Array["n", 3], v: Array["n", 3]) -> float:
    # autograd's cross fails on broadcast operands: checked numerically only
    return np.sum(np.cross(u, w) ** 2) + np.sum(np.sin(np.cross(w, v)))


# --- np.linalg (gradgen/ops/linalg.py, spectral.py) ------------------------------------
# Each draws its matrices well-conditioned from a random one: B @ B.T + d * I is symmetric
# positive definite, B + 3 * d * I diagonally dominant.
def _spd(B):
    return B @ B.T + B.shape[0] * np.eye(B.shape[0])


def linalg_solve_inv(
    B: Array["d", "d"], b: Array["d"], M: Array["d", "k"], c: Array["d", "d"]
) -> float:
    A = _spd(B)
    N = B + 3.0 * B.shape[0] * np.eye(B.shape[0])
    return (
        np.sum(np.linalg.solve(A, b) ** 2)
        + np.sum(np.sin(np.linalg.solve(N, M)))
        + np.sum(np.linalg.inv(A) * c)
        + np.sum(np.linalg.inv(N) ** 2)
    )


def linalg_det(B: Array["d", "d"], c: Array["d", "d"]) -> float:
    A = _spd(B)
    N = B + 3.0 * B.shape[0] * np.eye(B.shape[0])
    sign, logdet = np.linalg.slogdet(N)
    return (
        np.log(np.linalg.det(A))
        + np.linalg.det(N * 0.2)
        + sign * logdet
        + np.linalg.slogdet(A + c * c.T)[1]
    )


def linalg_cholesky(B: Array["d", "d"], b: Array["d"]) -> float:
    L = np.linalg.cholesky(_spd(B))
    return (
        np.sum(np.sin(L))
        + np.sum(np.linalg.solve(L, b) ** 2)
        + 2.0 * np.sum(np.log(np.diag(L)))
    )


def linalg_eigh(B: Array["d", "d"], c: Array["d"], M: Array["d", "d"]) -> float:
    # eigenvalues near 2, 4, 6, ...: distinct; V's columns' signs do not matter below
    A = 0.1 * (B + B.T) + np.diag(np.cumsum(np.ones(B.shape[0])) * 2.0)
    w, V = np.linalg.eigh(A)
    return np.sum(np.sin(w) * c) + np.sum(V**2 * M) + np.sum(np.linalg.eigh(A)[0] ** 2)


def linalg_lower_triangle(B: Array["d", "d"], c: Array["d"]) -> float:
    # A is not symmetric: eigh and cholesky read its lower triangle, and the gradient is
    # zero above the diagonal, as central differences find
    A = 0.1 * B + np.diag(np.cumsum(np.ones(B.shape[0])) * 2.0)
    w, V = np.linalg.eigh(A)
    L = np.linalg.cholesky(A)
    return np.sum(np.sin(w) * c) + np.sum(V**2 * B) + np.sum(np.sin(L))


def linalg_norms(x: Array["d"], A: Array["n", "d"], S: Array["d", "d"]) -> float:
    return (
        np.linalg.norm(x)
        + np.linalg.norm(x, 3)
        + np.linalg.norm(A, "fro")
        + np.sum(np.linalg.norm(A, axis=1) * np.linalg.norm(A, 1.5, axis=1))
        + np.linalg.norm(_spd(S), "nuc")
    )


def linalg_norms_more(x: Array["d"], A: Array["n", "d"], S: Array["d", "d"]) -> float:
    # autograd has no gradient for these: checked numerically only
    return (
        np.linalg.norm(x, 1)
        + np.linalg.norm(x, np.inf)
        + np.linalg.norm(x, -np.inf)
        + np.linalg.norm(A, 1)
        + np.linalg.norm(A, -np.inf)
        + np.linalg.norm(S, 2)
        + np.linalg.norm(S, "nuc")
        + np.sum(np.linalg.norm(A, axis=0, keepdims=True) ** 2)
    )


def linalg_pinv(X: Array["n", "d"], c: Array["d", "n"]) -> float:
    A = X + 3.0 * np.eye(X.shape[0], X.shape[1])  # full column rank, well-conditioned
    return np.sum(np.linalg.pinv(A) * c) + np.sum(np.linalg.pinv(A.T) ** 2)


def linalg_svd(
    X: Array["d", "d"], Y: Array[4, 3], c: Array["d"], M: Array["d", "d"]
) -> float:
    # singular values near 2, 4, 6, ...: distinct; the signs of U's and V's columns
    # do not matter below
    A = 0.1 * X + np.diag(np.cumsum(np.ones(X.shape[0])) * 2.0)
    B = 0.1 * Y + np.eye(4, 3) * np.cumsum(np.ones(3)) * 2.0
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    P, t, Qh = np.linalg.svd(B, full_matrices=False)
    return (
        np.sum(np.sin(s) * c)
        + np.sum(U**2 * M)
        + np.sum(np.cos(Vh**2))
        + np.sum(np.linalg.svd(A, compute_uv=False) ** 3)
        + np.sum(P**4) * np.sum(t)
        + np.sum(np.sin(Qh**2))
    )


# --- sorting, np.select, the phase of real numbers --------------------------------------
def sort_vector(x: Array["n"], c: Array["n"], w: Array[2]) -> float:
    """Each entry's gradient goes back to where np.sort took it from."""
    return np.sum(np.sort(x) * c) + np.sum(np.sort(x, kind="stable")[-2:] * w)


def sort_axes(x: Array["n", "d"], c: Array["n", "d"], w: Array[3]) -> float:
    return (
        np.sum(np.sort(x, axis=0) * c)
        + np.sum(np.sort(x) * c)
        + np.sum(np.sort(x, axis=None)[:3] * w)
        + np.sum(np.sort(x, axis=0, kind="stable")[-1] ** 2)
    )


def argsort_order(x: Array["n"], y: Array["n"], c: Array["n"]) -> float:
    """y in the order of x: the order is integer data, y's gradient a scatter by it."""
    order = np.argsort(x)
    return np.sum(y[order] * c) + np.sum(x[x.argsort()] * c)


def select_(x: Array["n", "d"], c: Array["n", "d"]) -> float:
    y = np.select([x < -0.5, x > 0.5], [x**2, np.sin(x)], default=0.1 * x)
    return np.sum(y * c) + np.sum(np.select([x > 0], [x], 0.0) ** 2)


def angle_imag(x: Array["n"], c: Array["n"]) -> float:
    return np.sum((np.angle(x) * x + np.imag(x) + np.real(x)) * c)


def angle_degrees(x: Array["n"], c: Array["n"]) -> float:
    return np.sum(np.angle(x, deg=True) * c + np.angle(-x) * x)


# --- reversed slices of an axis whose size is a name ------------------------------------
def reversed_named_axis(x: Array["n"], X: Array["n", "d"], v: Array["d"]) -> float:
    """x[::-1] and np.flipud of named axes: a sequence read backwards."""
    r = np.cumsum(x[::-1]) * np.flipud(x)
    return np.sum(r) + np.sum(np.tanh(X[::-1] @ v) * X[:, 0]) + np.sum(X[::-1][1:] ** 2)


def reversed_slice_bounds(X: Array["n", "d"], w: Array["d"]) -> float:
    """Reversed slices with bounds (the entry checks need n >= 3)."""
    return np.sum(X[-2::-1] @ w) + np.sum(X[:1:-2, 0] ** 2) + np.sum(np.sin(X[2::-1]))
