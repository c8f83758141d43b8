"""Programs the random program generator (tests/support/programs.py) found gradgen
getting wrong, reduced by hand to the smallest model that shows each bug.
tests/test_random_regressions.py checks every target here against NumPy and autograd."""

import numpy as np

from gradgen import Array
from gradgen.functions import relu


# --- a reduction's scalar adjoint reaching a broadcast operand -------------------------------
# The adjoint of x + b is a scalar standing for an (n, d) array, so d/db is n, not 1.
def sum_of_bias(x: Array["n", "d"], b: Array["d"]) -> float:
    return np.sum(x + b)


def mean_of_broadcasts(b: Array[1], X: Array["k", 1], W: Array["k", "k"]) -> float:
    z = b - X - W
    return np.mean(z) + np.max(b * X)


def sum_of_column_and_scalar(u: Array[1], v: Array["n"], s: float) -> Array["n"]:
    t = u + v + s
    return np.sum(t) * v


# --- a size from x.shape in an elementwise derivative ------------------------------------------
# Checking the derivative n * exp(x) rewritten through the node's value left n unevaluated.
def dim_times_exp(x: Array["n", "d"]) -> float:
    return np.sum(np.exp(x) * x.shape[0])


# --- a size from x.shape on the left of an operator ---------------------------------------------
# n - x asked SymPy first (n is a SymPy symbol), and SymPy's probe of the tracer failed.
def dim_on_the_left(x: Array["n", "d"], b: Array["d"]) -> float:
    n = x.shape[0]
    return (
        np.sum(n - x) + np.sum(x.shape[1] * x) + np.sum(n / (b**2 + 1.0)) + np.sum(n**b)
    )


# --- an elementwise node through np.minimum -------------------------------------------------------
# Rewriting the derivative through the node's value asked SymPy to invert Min, which it cannot.
def minimum_of_exp(u: Array["k"], v: Array["k"]) -> float:
    return np.sum(np.minimum(u - np.exp(v), 0.0) ** 2)


# --- a broadcast that SymPy folds away ---------------------------------------------------------------
# x + 0 * B is x to SymPy but has B's shape; the value must keep that shape, and a folded
# expression broadcast to it must still pass its gradient on.
def zero_times_broadcast(
    x: Array["d"], B: Array["n", "d"], W: Array["d", "k"]
) -> float:
    h = x + 0.0 * B
    return np.sum(np.tanh(h @ W))


def where_folded_to_a_scalar(v: Array[1], u: Array["k"], s: float) -> float:
    return np.dot(np.where((v <= v) | (u >= s), s, s), u.T)


def minimum_with_zero_array(u: Array[1], v: Array[1], b: Array["k"]) -> float:
    h = np.minimum(u - np.exp(v), b - b)
    return np.sum(h * h)


# --- the gradient of np.max, negated ------------------------------------------------------------------
# The mask of maxima was a boolean array, and NumPy refuses -mask.
def negated_max(x: Array["n", "d"], y: Array["d"]) -> float:
    return -np.max(x) - np.sum(np.max(x * y, axis=0) - np.max(x, axis=0))


# --- an exp deep inside other functions -------------------------------------------------------------
# Rewriting the derivative through the node's value asked SymPy to solve
# cosh(tanh(u / (2 + sin(m))))**s = value for u = exp(A1); its solver recursed until Python
# stopped it (after 45 s).
def exp_inside_cosh_power(
    A1: Array["k", 1], A2: Array["k", 1], W3: Array[1, 1], u4: Array[1]
) -> float:
    z5 = np.cosh(np.tanh(np.exp(A1) / (2.0 + np.sin(np.minimum(A2, W3)))))
    return np.sum(z5 ** np.sum(u4, axis=-1))


# --- subtracting a sum -------------------------------------------------------------------------------
# a - (2*b - 3) was printed a - 2*b - 3: a wrong value, and gradients through it.
def subtracted_sum(a: float, b: Array["n"]) -> float:
    return np.sum(a * b - (b * 2.0 - 3.0)) - np.tanh(a - (-95.0 + 4.5 * np.tanh(a)))


# --- an odd or even function of a sum with more minus signs than plus signs -----------------------
# SymPy pulls the sign out (sin(-x - y) = -sin(x + y)); with distribution off while compiling
# that negation never ended, and the model was refused as "recursing too deeply".
def function_of_negative_sum(a: float, b: float, c: Array["n"]) -> float:
    t = np.tanh(a - b - c) + np.sin(-a - 1.0) + np.cos(-b - c) + np.abs(-a - c - 2.0)
    return np.sum(t * np.arctan(-c - b))


# --- np.abs of a value SymPy cannot tell is real -----------------------------------------------------
# SymPy differentiated |asin(u)|, |sqrt(x) - 1|, |log(x)| through re() and im(): an atan2 it
# could not print (an internal error), or sign(a)/a * a forms that divide by zero where a is 0.
def abs_of_arcsin(s: float, x: Array["n"]) -> float:
    return np.abs(np.arcsin(0.85 * np.tanh(s))) + np.sum(
        np.abs(np.arccos(0.5 * x) - 1.0)
    )


def abs_of_log_sqrt_power(x: Array["n"], p: float) -> float:
    return np.sum(np.abs(np.log(x)) + np.abs(np.sqrt(x) - 1.0) + np.abs(x**p - 1.0))


# --- a matmul operand printed as a division -----------------------------------------------------------
# np.dot(u, u ** -0.5) was printed u @ 1 / np.sqrt(u), which Python reads as (u @ 1) / ...
def matmul_with_a_reciprocal(u: Array["d"], W: Array["d", "d"]) -> float:
    return np.dot(u, u ** (-0.5)) + np.sum((1.0 / u) @ W)


# --- a gradient that cancels to 0 once values are substituted ------------------------------------------
# g = s - h; sin(h + g) does not depend on h, but that only shows after inlining, where
# delta - delta folded to the scalar 0: du came out with shape () and dv as the number 0.
def gradient_that_cancels(u: Array[1], v: Array["n"], s: float) -> float:
    h = v * (u + v)
    g = s - h
    g = np.sin(h + g)
    return np.sum(g)


# --- SymPy printing a structural operation with str() ---------------------------------------------------
# Simplifying a power of a matmul made SymPy call str() on it (to order polynomial
# generators), and its StrPrinter's _print_MatMul (meant for its own matrices) failed on ours.
def power_of_a_matmul(b: Array["n"], s: float) -> float:
    return np.cosh(np.tanh((1.25 + 0.67 * np.tanh(b @ b)) ** (s + s))) ** s


# --- a select inside a matmul inside the condition of a select ----------------------------------------
# Inlining np.where(c, A, B) into "... @ v > b", the condition of another np.where, let SymPy's
# piecewise_fold rewrite it as np.where(c, A @ v, B @ v): a wrong value, with wrong shapes.
def where_matmul_in_a_condition(b1: Array["n"], W2: Array[1, "n"], b4: Array[1]):
    h5 = np.where(np.where(b1 > W2, b1, W2) @ b1 > b4, b4, b1)
    return np.sum(h5)


def where_matmul_in_a_condition_2(
    A1: Array[1, "n"], A2: Array[1, 1], v4: Array["n"], u6: Array["d"], s8: float
) -> float:
    t1 = np.where(np.matmul(np.where(A1 <= A1.shape[0], A2, A1), v4) > u6, s8, -s8)
    return np.max(t1) - np.tan(s8) + np.sum(np.where(A1 > 0, A1, A2) @ v4)


# --- the second derivative of np.abs of a value SymPy cannot tell is real -----------------------
# d|a| = sign(a) da; differentiated again (f_hvp) SymPy left d sign(asin(u)) unevaluated, and
# the compile failed with "no derivative rule". sign is flat almost everywhere: 0.
def second_derivative_through_abs(s: float, x: Array["n"]) -> float:
    return np.abs(np.arcsin(0.5 * np.tanh(s))) * s + np.sum(np.abs(x**s - 1.0) * x)


# --- a return inside a nested if ---------------------------------------------------------------
# Lifting the returns, the statements after the outer if ran after the inner return too: its
# result (z * 2) replaced the returned one, silently when the conditions are plain Python
# values, and refused ("_gg_result takes values other than numbers") when they are traced.
def return_in_nested_if(x: float, y: Array[4]) -> float:
    z = x * 3.0
    if x > 0.2:
        if len(y) > 3:
            return np.sum(y) * x
        z = x + np.sum(y)
    else:
        z = x - np.sum(y)
    return z * 2.0


def return_in_nested_traced_if(x: float, y: float) -> float:
    z = x * 3.0
    if x > 0:
        if y > 0:
            return x * y
        z = x + y
    elif y < -0.5:
        return x - y
    return z * 2.0


# --- a name rebound with another shape after an early return ----------------------------------
# Lifting the return moves the statements after the if into its else branch; merging the
# names they assign with what the returning branch left refused b, of shapes (n,) and (d,),
# though nothing reads b after the if.
def rebound_after_early_return(s: float, b: Array["n"], W: Array["d", 1]) -> float:
    if s > 0.2:
        return np.sum(b) * s
    b = W[:, 0] * s
    return np.sum(b**2)


# --- a write whose value selects the array's old value ------------------------------------------
# The gradient of x through y[:] = np.where(c, s, y) is an Update (y with the slot zeroed) plus
# a select; folding the selects first put the Update inside np.where, which cannot be printed
# (an internal error).
def write_of_a_select(x: Array["n"], s: float) -> float:
    y = x * 1.0
    y[:] = np.where(s > 0.3, s, y)
    return np.sum(y * x)


# --- part of a broadcast array ------------------------------------------------------------------
# The gradient of a sum over axis 0 is a row broadcast down the columns; a part of it was
# taken as the row itself, broadcast to the part's shape: right for a constant, but for a row
# it ignored the columns the part selects: reversed in the wrong order (a silently wrong
# gradient), or sliced to a shape NumPy cannot broadcast to (an error at run time).
def write_reversed_columns(X: Array[2, 3], V: Array[2, 3], w: Array[3]) -> float:
    Y = X * 1.0
    Y[:, ::-1] = V
    return np.sum(np.sum(Y, axis=0) * w)


def concatenated_columns_summed(
    A: Array["k", "n"], B: Array["k", "d"], w: Array["n"], u: Array["d"]
) -> float:
    return np.sum(
        np.sum(np.concatenate([A, B], axis=1), axis=0) * np.concatenate([w, u])
    )


# --- a select between two integers --------------------------------------------------------------
# The gradient of a result chosen by a traced if is np.where(c, 1, 0): an integer array. Copied
# to be written into (the gradient of Y[-1:, :] *= b), it could not hold the float gradients
# added to it; and dx, dy came out as integer arrays.
def write_then_early_return(X: Array["k", 2], b: Array[2], s: float) -> float:
    Y = X * 1.0
    Y[-1:, :] *= b
    if s > 0.3:
        return s
    return np.sum(Y)


def select_between_parameters(x: float, y: float) -> float:
    if x > 0.3:
        return y
    return x


# --- a select on a comparison of a value with itself ----------------------------------------------
# x[:, None] > x[:, None] is False everywhere: a constant condition broadcast to (n, 1). The
# derivation in the docstring wrote it into np.where's condition, where SymPy takes only a
# Boolean (an internal error).
def select_on_a_constant_condition(q: Array["n"], w: Array["n"]) -> float:
    t = np.where(q[:, None] > q[:, None], q, w)
    return np.max(t)


# (u ⊗ u != u ⊗ u) | (a > c) is a > c once the two products are found equal, a scalar
# condition broadcast to (k, k): the broadcast was an array, not a condition, and written out
# into a select in the derivation it was refused by SymPy (an internal error). A condition
# broadcast is now a condition.
def select_on_an_or_folded_to_a_scalar(
    u: Array["k"], a: float, c: float
) -> Array["k", "k"]:
    w = np.outer(u, u)
    return np.where((w != np.outer(u, u)) | (a > c), w, c)


# ... and where a > c is also a select's condition, so that it is computed once and named:
# the named condition broadcast must be a condition too.
def select_on_an_or_folded_to_a_named_condition(
    u: Array["k"], a: float, c: float
) -> float:
    s = a > c
    w = np.outer(u, u)
    return np.where(s, a, c) * np.sum(np.where((w != np.outer(u, u)) | s, w, c))


def write_of_a_select_on_an_or_folded_to_a_scalar(
    X: Array["k", "k"], u: Array["k"], a: float, c: float
) -> float:
    y = np.tanh(X)
    y[:, 0] += np.where((np.cumsum(u) != np.cumsum(u)) | (a > c), u, c)
    return np.sum(y)


# --- the tangent of a traced if whose branch not taken is undefined -----------------------------
# The JVP of the select a traced if becomes was u_dot * np.where(c, 1, 0) + u_1_dot *
# np.where(c, 0, 1): where the branch not taken takes the log of a negative number, its
# tangent is nan, and 0 * nan is nan. The tangent is now np.where(c, u_dot, u_1_dot).
def tangent_of_an_undefined_branch(s: float, b: Array["k"]) -> float:
    if s > 0.4:
        u = np.log(s - 0.3) * b
    else:
        u = np.log(0.5 - s) + b
    return np.sum(u)


# --- an if after an if, the first with a branch not taken that is undefined ---------------------
# The adjoint of h in the first if's branch not taken was np.where(c > 0, g * np.where(s > 0.4,
# 1, 0), 0): zero outside c > 0 & s > 0.4, but only c > 0 was known, so the sqrt's derivative
# there, inf or nan, was multiplied by 0 rather than selected away: a nan gradient.
def if_after_an_if(s: float, c: float, b: Array["k"]) -> float:
    if s > 0.4:
        h = np.sqrt(s - 0.3) * b
    else:
        h = np.sqrt(0.5 - s) + b
    if c > 0.0:
        y = np.exp(h)
    else:
        y = b
    return np.sum(y)


# --- a comparison of a select as a condition ------------------------------------------------------
# np.where(c, a, b) < 1 is, to SymPy, the condition ITE(c, a < 1, b < 1). Folding the selects of an
# adjoint, piecewise_fold simplified that condition, and SymPy recursed without end on
# log(p - 0.85) < 1 (an internal error: maximum recursion depth exceeded).
def select_compared_in_a_condition(p: float, q: float, a: float) -> float:
    if np.where(p > 0.95, np.log(p - 0.85), q) < 1.0:
        return a
    return np.where(q > 0.0, np.log(q + 0.1), q)


# --- a local named max ------------------------------------------------------------------------------
# The shared exp(-z) of a scalar z is printed with Python's max (np.exp(-max(z, -709.0))); a
# value the model names max took that name in the generated code and shadowed the builtin
# ('numpy.float64' object is not callable).
def local_named_max(s: float, x: Array["n"]) -> float:
    max = np.sin(s)
    return np.log(1 + np.exp(max)) * np.sum(x)


# --- a product of a slice with itself -------------------------------------------------------------
# The gradient of a[:-1] * a[:-1] is two equal Scatters (zeros with a[:-1]'s slots filled in);
# SymPy added them into 2 * Scatter(...), which the printer could not write (an internal error:
# "a Scatter is printed as statements").
def slice_times_itself(a: Array["n"]) -> float:
    return np.sum(np.sin(a[:-1] * a[:-1]))


# --- an operand that cancels once values are folded in --------------------------------------------
# The two reshapes of B are two nodes; folded into their users they are equal, and SymPy cancels
# r * c - r * c to 0: a scalar as the argument of @ (an internal error: "matmul needs 1-D or 2-D
# operands") and of the sum that un-broadcasts c's gradient (np.sum(0, axis=1) at run time).
def reshapes_that_cancel(
    A: Array["d", "n"], B: Array["n", "d"], c: Array["n", 1]
) -> float:
    return np.sum(np.matmul(A, np.reshape(B, (1, -1)) * c - np.reshape(B, (1, -1)) * c))


# --- not on a condition on floats ---------------------------------------------------------------
# A negated condition was printed with ~, but a comparison of floats is a Python bool, and
# ~True is -2, which np.where takes as true: the value of the other branch, silently.
def not_on_floats(a: float, x: float) -> float:
    if not 0.8 < a < 1.4:
        y = x * 2.0
    else:
        y = x + 1.0
    return y


# --- np.abs of a power whose exponent SymPy cannot tell is real ------------------------------------
# SymPy wrote |cosh(x)**tanh(log(s + 2))| as cosh(x)**re(tanh(log(s + 2))), expanded into re,
# im and arg, which the printer cannot write (an internal error); every traced value is real.
def abs_of_a_power_with_a_log_exponent(x: Array["n"], s: float) -> float:
    return np.sum(np.abs(np.cosh(x) ** np.tanh(np.log(s + 2.0))))


# --- a negated sum holding a Scatter ---------------------------------------------------------------
# The gradient of b through b[0] chosen by a traced if, minus sum(b), came out as
# -(delta - Scatter(...) + 1): SymPy keeps the negation outside the sum, where the printer
# found no Scatter to write slot by slot (an internal error: "a Scatter is printed as
# statements"). Numbers multiplying such a sum are now moved into its terms.
def negated_sum_with_a_scatter(s: float, b: Array["d"]) -> float:
    if s > 0.0:
        h3 = s + np.sum(-b)
        h4 = b[0]
    else:
        h3 = s
        h4 = s
    return h3 + h4 - np.sum(b)


# --- a gradient that is a scalar plus a Scatter ------------------------------------------------------
# d/db of sum(b) + b[0], both chosen by a traced if, is delta + Scatter(delta, b, 0) with delta a
# scalar (np.where(c, 1.0, 0.0)). Writing in place wrote the slot into delta itself
# (delta[0] += delta, an IndexError at run time): delta is no array of b's shape.
def scalar_plus_a_scatter(s: float, b: Array["d"]) -> float:
    if s > 0.0:
        h3 = np.sum(b)
        h4 = b[0]
    else:
        h3 = s
        h4 = s
    return h3 + h4


# --- a select inside a matrix product read by an if's condition ------------------------------
# The if's condition became a statement; folding the product (with the select _choose returns
# inside it) into that statement let SymPy's piecewise_fold move the select out of the
# product: s <= where(c, a, b) @ w became where(c, s <= a @ w, s <= b @ w), with c an array
# (a shape error at run time, or a wrong branch where the shapes agree).
def _choose(a, p, r):
    if a > 0.5:
        return p / (2.0 + np.sin(p))
    else:
        return np.where(p < r, p, r)


def select_in_a_product_in_a_condition(
    s: float, u: Array["n"], W: Array["n", 5], v: Array["k"], M: Array["d", 2]
) -> float:
    r = u**2 + 1.0
    if np.where(s <= np.dot(_choose(s, u, r), W[:, 1]), np.tanh(v)[-1], M[-1, 0]) <= s:
        m = s * 2
    else:
        m = np.sum(v)
    return m * s


# --- a comparison of a select whose condition SymPy cannot simplify ---------------------------
# Building np.where on c < h, c a select, made SymPy fold c into the condition and simplify
# it; its simplification of log(h - 0.69 + 0.1) recursed without end ("the model recurses
# too deeply"). The comparison is now split by hand: ITE(c's condition, a < h, b < h).
def _log_of_trace(a, b):
    if np.trace(a) > 1.6:
        return np.log(np.trace(a) - 1.6 + 0.1) * (b - 2)
    else:
        return np.log(1.6 - np.trace(a) + 0.1) * np.where(b < 3, b, b)


def comparison_of_an_undefined_select(
    b1: Array["n"], W3: Array["n", "n"], b5: Array[1], s6: float
) -> Array["n", "n"]:
    h2 = np.log(np.sum(np.exp(b1), axis=0))
    c = np.where(h2 > 0.69, np.log(h2 - 0.69 + 0.1), s6)
    if (
        h2**2 + np.squeeze(b5) + (c if _log_of_trace(W3, np.tanh(h2)) <= h2 else h2)
        < h2
    ):
        return W3 - W3
    return W3[0] + W3


# --- a select on a value that is not real where its branch is not taken ------------------------
# u11 - u11 folds to 0, so _sqrt_branch's a is the constant 1.25 and a @ a = 3.125: the branch
# not taken holds sqrt(2.75 - 3.125 + 0.1), imaginary to SymPy. Checking a rewritten derivative
# at random points then compared that imaginary number in a condition, and SymPy raised
# TypeError (an internal error); such a rewrite is now just not taken. (The program as the
# random test drew it: smaller ones did not reach the rewrite.)
def _columns(a):
    return a[:, :]


def _sqrt_branch(a, b):
    out1 = np.matmul(a, a)
    if out1 > 2.75:
        return np.sqrt(out1 - 2.75 + 0.1) * np.tan(b)
    else:
        return np.sqrt(2.75 - out1 + 0.1) * np.transpose(b)


def select_of_a_value_not_real(
    W1: Array["d", 1],
    s3: float,
    s4: float,
    W5: Array[2, "n"],
    W6: Array[2, "k"],
    W7: Array[2, "k"],
    W8: Array["d", "d"],
    v9: Array["d"],
    b10: Array["d"],
    u11: Array[2],
    v12: Array[4],
    X13: Array["n", 1],
    X15: Array[1, "n"],
    W17: Array["k", "k"],
) -> float:
    h2 = W1.sum(axis=0)
    W5 = (
        np.concatenate((W5, W6), axis=1)
        if s3 < s4
        else np.concatenate([W5, W7], axis=1)
    )
    value = np.mean(_columns(np.cos(W8)), axis=1, keepdims=True)
    for _ in range(1):
        value = np.cos(
            np.stack([np.where((s3 > W8.shape[0]) & (s3 < v9), v9, b10)], axis=-1)
        )
    z14 = np.where(u11 > 0.4, 1.0 / (u11 - 0.4 + 0.5), u11) * v12[:-1:2] + np.mean(
        np.square(X13), axis=-1, keepdims=True
    )
    out16 = X15.sum(axis=(0,))
    y18 = np.sum(W17.transpose().transpose(), axis=(0,))
    for _ in range(1):
        y18 = np.tanh(
            np.where(
                _sqrt_branch(1.25 + 0.67 * np.tanh(u11 - u11), np.sin(y18 * y18)) > 0.0,
                1.0
                / (
                    _sqrt_branch(1.25 + 0.67 * np.tanh(u11 - u11), np.sin(y18 * y18))
                    - 0.0
                    + 0.5
                ),
                np.sin(np.maximum(h2, h2)),
            )
        )
    return np.max(z14) + np.mean(out16) - np.mean(y18)


# --- a condition that is a select of conditions on a named condition --------------------------
# where(s5 > 2, s5, 2.0) > 0.5 inside another comparison became ITE(ITE(t, s5 > 1/2, True), ...)
# with t = s5 > 2 named by CSE. SymPy's rewrite of that ITE to a Piecewise, which printed it,
# dropped the ~t: the code tested s5 > 1/2, a wrong branch for s5 <= 1/2 (a wrong value, no
# error). ITEs are now printed as np.where by gradgen's printer.
def select_of_a_select_condition(
    b1: Array["n"], b3: Array[1], b4: Array["d"], s5: float, W6: Array["n", "n"]
):
    h2 = b1
    return np.sum(h2) + np.where(
        np.where(b3 > b3, b4, b3)[0]
        > np.where(
            np.where(s5 > 2.0, s5, 2.0) > 0.5,
            1.0 / (np.where(s5 > 2.0, s5, 2.0) - 0.5 + 0.5),
            np.trace(W6),
        ),
        s5,
        np.tanh(s5),
    )


# --- a write into a gradient broadcast from an integer ------------------------------------------
# The adjoint of u20 after `u20[0] -= sum` was np.broadcast_to(-1, (n, 1)).copy(), an integer
# array, and `delta[0] += -1.0 * ...` could not cast the float back (an error at run time).
# np.broadcast_to now prints an integer as a float. (The program as the random test drew it.)
def _same(a, b):
    y1 = np.transpose(a)
    return np.maximum(b, b)


def _squared_plus_one(a, b):
    return _same(a / 10.0, b**2 + 1.0)


def _block(a, b, x, z, p):
    delta_h = a.transpose()
    if np.trace(b) < np.matmul(x, x):
        return np.sum(z)
    return p if p <= p and p < x.shape[0] else p


def _layer(a, b, x, z, p):
    if a * 10.0 >= np.squeeze(b):
        hidden1 = x / np.exp(x)
    elif _block(x, np.cosh(z), p, b, a) > a:
        hidden1 = x
    else:
        hidden1 = x
    return a


def write_of_an_integer_broadcast(
    u1: Array["n"],
    s2: float,
    b3: Array[3],
    W4: Array[3, "k"],
    alpha5: float,
    W6: Array[2, 2],
    W8: Array["n", 1],
    A9: Array[1, "n"],
    W10: Array[1, 1],
    v11: Array[1],
    s12: float,
    W13: Array["d", "d"],
    W14: Array["d", 1],
    v15: Array[1],
    A16: Array["n", "d"],
    s18: Array[()],
    b19: Array["d"],
    W21: Array["n", "n"],
):
    if np.sum(-np.arccos(0.85 * np.tanh(u1)), axis=(0,)) >= np.where(
        np.where(np.less(s2, u1.shape[0]), s2, -0.5) * (u1.shape[0] / np.exp(s2))
        < np.log(np.cosh(s2)) * (s2 - 1.5),
        np.log(1 / (1 + np.exp(-(s2**3)))),
        np.minimum(u1, u1)[-1],
    ):
        y7 = np.trace(np.arcsin(0.85 * np.tanh(W8 / A9)))
        delta_h = np.divide(
            s2, np.divide(1.0 / (1.0 + np.exp(-alpha5)), alpha5 / np.cosh(-1.0))
        )
    elif (
        np.where(
            s2 > (1.25 + 0.67 * np.tanh(s2 + s2)) ** b3[0],
            _squared_plus_one(W4[-1::-2], 0.9 * np.tanh(u1 @ u1)),
            np.divide(
                np.where(alpha5 > -1.0, alpha5, alpha5), np.log(np.sum(np.exp(W6)))
            ),
        )
        < s2
    ):
        y7 = (
            np.sum(u1, axis=(0,))
            if np.matmul(u1, u1) < np.squeeze(W10)
            else np.log(np.sum(np.exp(u1)))
        ) + np.max(v11, axis=-1)
        delta_h = np.cos(
            np.multiply(
                np.squeeze(W10),
                np.where(alpha5 > 0.95, np.log(alpha5 - 0.95 + 0.1), b3.shape[0]),
            )
        )
    else:
        y7 = np.where(
            np.mean((W10 if alpha5 <= alpha5 else W10), axis=(0, 1))
            == np.maximum(np.dot(s12, -1.0), 0.1),
            np.trace(relu(W13)),
            np.dot(W14 @ v15, np.dot(u1, A16)),
        )
        delta_h = np.cosh(np.cos(s12 + alpha5)) ** 0.5
    if np.cosh(delta_h) >= np.where(s2 > 0.4, np.log(s2 - 0.4 + 0.1), -0.5):
        sum = np.tanh(s18)
        out17 = W14 + W10
    else:
        sum = alpha5
        out17 = np.expand_dims(b19, axis=-1)
    u20 = W8 * 1.0
    if (
        np.where(
            np.log(np.sum(np.exp(np.multiply(W10, W14))))
            > _layer(
                np.cosh(np.tanh(np.square(sum))), v11, W13, W21, np.tanh(b19 - b19)
            ),
            sum,
            sum,
        )
        > y7
    ):
        u20[:] = W8
    else:
        u20[0] += np.cos(v11)
    u20[:] *= sum
    u20[0] -= sum
    h22 = u1
    return np.sum(out17) - np.sum(u20) + np.sum(h22)


def stack_of_a_cancelled_slice(u: Array["n"], b: Array[1]):
    # u[1:] - u[1:] cancels to 0 once folded: the stacked operand became the scalar
    # sqrt(1/2), and np.stack([sqrt(2) / 2], axis=1) raised an AxisError at run time
    out = np.tan(b / 10.0)
    act = np.stack([np.sqrt(np.abs(u[1:] - u[1:]) + 0.5)], axis=-1)
    return np.sum(out) + np.sum(act)


def cube_of_a_maximum(u: Array["k"]):
    # d/du of Max(0, -u)**3 was written through the value y it names as -3 * y**(2/3):
    # equal, but the HVP differentiates it again: 0 / y**(1/3) = nan wherever u > 0
    y = np.maximum(0.0, -u) ** 3
    return np.sum(np.sin(y))


def comparison_of_a_log_of_a_select(W1: Array[3, "n"], b4: Array[3]):
    # untangling the outer comparison put the inner select's branch 3 into np.log(... - 5.23):
    # log(-2.23) is not real, and SymPy raised a TypeError comparing it with -0.37; as nan
    # in NumPy, it compares false (the select's own condition rules that branch out)
    return np.sum(
        np.where(
            np.where(
                np.where(b4 > 0.0, 1.0 / (b4 + 0.5), W1.shape[0]) > 5.33,
                np.log(np.where(b4 > 0.0, 1.0 / (b4 + 0.5), W1.shape[0]) - 5.23),
                b4,
            )
            > -0.37,
            b4 * b4,
            np.sin(b4),
        )
    )


def _unused_reshape(a, b, x):
    u1 = a - b.reshape(-1)
    return x


def _guarded_log(a, b):
    if a[-1] > -0.4:
        return np.log(a[-1] - -0.4 + 0.1) * b.transpose()
    else:
        return np.sqrt(-0.4 - a[-1] + 0.1) + b.transpose()


def fold_of_a_tanh_of_a_select(
    W1: Array[3, "n"],
    W2: Array[3, 1],
    W3: Array[1, 1],
    b4: Array[3],
    b6: Array[1],
    W7: Array["n d"],
    v8: Array["k"],
    X10: Array["d", "k"],
    W11: Array["k", "d"],
    X12: Array["d", "d"],
    X13: Array["d", "n"],
) -> Array["n"]:
    # SymPy's piecewise_fold of an adjoint 0.9 * a * (1 - tanh(select)**2) * select
    # recursed without end (Abs.eval calling itself on a factor): the adjoint is now kept
    # as a sum of selects there
    h5 = W1 + (W2 + W3) + np.stack([b4], axis=1)
    g9 = _unused_reshape(0.9 * np.tanh(b6), W7, np.abs(v8) + 0.5)
    dW1 = -X10[:, :]
    for _ in range(2):
        dW1 = 0.9 * np.tanh(
            _guarded_log(np.cos(np.maximum(v8, g9)), np.sin(np.matmul(W11, X12)))
        )
    return np.tanh(np.mean(h5, axis=0) * np.sum(dW1) * np.sum(X13, axis=(0,)))


def power_of_an_exp_of_a_negated_sum(x: Array["n"], s: float):
    # a power of exp(-x - 1) takes |-x - 1|; with SymPy's distribution off while compiling,
    # Abs negated -1*(-x - 1) without end: "the model recurses too deeply", a refusal
    return np.sum(np.sqrt(np.exp(-x - 1.0)) + np.exp(np.subtract(-1.0, x)) ** s)


def ufuncs_of_a_dimension_size(x: Array["n"], A: Array["n", 2]):
    # np.sin(x.shape[0]): NumPy cannot dispatch a ufunc on a size (a SymPy symbol) to the
    # tracer, so this failed in NumPy's object loop; a size is now a traced constant there
    n = x.shape[0]
    scale = np.sin(n) + np.sqrt(np.maximum(n - 1.0, 0.5)) / np.exp(A.shape[1])
    gate = np.where(np.greater(n, 2), x, -x)
    return np.sum(gate * scale) + np.sum(np.tanh(A)) * np.log1p(np.square(n))


def maximum_of_a_log_in_a_condition(s: float, t: float):
    # checking a derivative rewritten through a node's value met Max(s, log(s - 1.15)) at a
    # point where the log is not real; SymPy's Max raised ValueError, an internal error
    if np.maximum(s, np.where(s > 1.25, np.log(s - 1.15), 1.0)) <= t:
        return 0.0 * t
    return np.exp(t)


# --- a constant quotient of calls on sizes ---------------------------------------------------------
# logaddexp2(c, c) is c + logaddexp(0, 0) / log(2): the printer made the quotient a float by
# appending .item() to its text, after each call had one already (np.log(2).item().item()).
def logaddexp2_of_equal_arguments(c: float) -> float:
    return np.maximum(np.tanh(c), np.logaddexp2(c, c))


# --- a constant power ending in parentheses --------------------------------------------------
# The second derivative of sin(x / pi) has the factor pi**-2, printed np.pi ** (-2): taken
# for one call (it ends in a parenthesis) and made a float as np.pi ** (-2).item(), which
# Python reads as (-2).item(), an AttributeError in the HVP.
def second_derivative_of_a_quotient_by_pi(x: float) -> float:
    return np.sin(x / np.pi)


# --- the real part of a value SymPy cannot tell is real -----------------------------------------
# |exp(z)| is exp(re(z)) to SymPy when z may be complex (arcsin of a value it cannot bound): the
# p-norm's |x| ** 3 printed re(...), which no printer knew, an internal error.
def norm_of_an_exp_of_arcsin(A: Array["d", "k"]) -> float:
    x = np.exp(np.arcsin(0.85 * np.tanh(A)))
    return np.sum(np.cos(np.linalg.norm(x, 3, axis=-2, keepdims=True)))


# --- a power of a traced power ----------------------------------------------------------------------
# (x**w)**2 with both x and w traced printed as x ** w**2, which Python reads as x**(w**2).
def norm_of_a_traced_power(W: Array["d", "d"]) -> Array[1, "d"]:
    x = (1.25 + 0.67 * np.tanh(W)) ** W
    return np.linalg.norm(x, 2, axis=0, keepdims=True) + np.sum(x**3)


# x**w printed without parentheses before .T or an index (x ** w.T), and a power as its base
# without them ((2**v)**w as 2**v ** w, which Python reads as 2**(v**w)).
def transpose_of_a_traced_power(v: Array[2], W: Array[1, 1], s: float) -> Array[2]:
    z = ((2.0**v) ** np.where(W > s, W, s)).transpose()
    return z[:, 0] + ((1.25 + 0.67 * np.tanh(v)) ** s)[::-1]


# --- a logistic in a condition ------------------------------------------------------------------
# exp(x) / (1 + exp(x)) compared in an `if` whose other side is a select: the derivation, which
# writes sigma(-x) as 1 - sigma(x) and multiplies out where that is shorter, multiplied out the
# condition itself (an if-then-else of comparisons), which SymPy cannot expand: an internal error.
def logistic_compared_under_a_select(s: float, v: Array[2], W: Array[2, 2]) -> float:
    if s < np.where(s > 0.5, np.exp(v[-1]) / (1 + np.exp(v[-1])), np.amin(W)):
        return s * 2.0
    return np.sum(W) * s


# --- a loop that stays a loop and sets its carried value to an outer one ---------------------
# k = s1 in each of 24 steps: the step's new value is a copy of an outer value, marked as the
# step's own in a memo that was a throwaway dict; the copy then stayed outside the step and
# building the loop's helpers was an internal error.
def loop_that_sets_its_carry_to_an_outer_value(s1: float, b: Array["d"]) -> Array["d"]:
    k = np.sum(b)
    for _ in range(24):
        k = s1
    return k + b * s1


# --- a loop whose carried value has a size that no input has as an axis of its own ----------
# t1 has n - 1 entries and no input of the loop's helpers has an axis of n: the tape
# np.empty((24, n - 1)) read an n the helper did not have, a NameError at run time. Such sizes
# are now passed to the helpers.
def loop_over_a_value_of_n_minus_one(
    X: Array["n", "n"], A: Array[1, "n"], u: Array[1]
) -> float:
    t1 = np.max(np.cosh(X[1:, :]), axis=-1)
    for _ in range(24):
        t1 = np.tanh(t1) * np.max(A[:, :-1], axis=-2) * u
    return np.sum(t1)


# --- a traced power whose exponent is a power with a negative exponent -----------------------
# x ** ((5.1 + tanh(y)) ** -0.5), both traced: the exponent prints as 1 / np.sqrt(...), and it
# was printed without parentheses (x ** 1 / np.sqrt(...), which Python reads as x / sqrt(...)):
# a wrong value, from the value function on.
def power_to_a_reciprocal_root(x: Array["n"], y: Array["n"]) -> float:
    return np.sum((np.abs(x) + 0.5) ** ((5.1 + np.tanh(y)) ** (-0.5)))


# --- a carried value's adjoint written in several lines, in a loop that stays a loop ------
# v[None, :] gives v's adjoint as zeros with a row written in (d = zeros; d[None, :] = ...).
# The backward loop renamed the first line to the carried adjoint (dv) but not the row
# written after it: a NameError in the generated gradient.
def carry_read_through_a_new_axis(W: Array["k", "k"], u: Array["k"], v0: Array["k"]) -> float:
    v = v0
    for _ in range(24):
        v = np.sin((W - v[None, :]) @ u)
    return np.sum(v)


# --- a branch's guard kept through the sum of a broadcast ---------------------------------
# b - b folds to 0, so the else branch is a scalar (a sqrt, nan where the if branch is
# taken) broadcast to (k, d); its adjoint, np.sum(np.broadcast_to(np.where(c, 0, g))), lost
# the guard of the branch: 0 * (nan from the sqrt's derivative) gave a nan gradient.
def scalar_branch_broadcast_beside_an_array(
    W: Array[2, "d"], A: Array["d", 2], X: Array["k", "d"], b: Array["k"]
) -> float:
    if np.cos(np.mean(np.dot(W, A))) > -0.4:
        z = np.log(np.cos(np.mean(np.dot(W, A))) + 0.5) + X
    else:
        z = np.sqrt(-0.3 - np.cos(np.mean(np.dot(W, A)))) + np.tensordot(b, b - b, axes=0) @ X
    return np.mean(z)


# --- a carried value's adjoint scattered from itself, in a loop that stays a loop ----------
# z[:, :] gives z's adjoint as zeros with the incoming adjoint written in (d = zeros; d[:, :]
# = dz). The backward loop wrote both lines to the carried adjoint dz itself: the first
# cleared what the second copies, a zero gradient.
def carry_read_through_a_full_slice(X: Array["k", 2]) -> float:
    z = X
    for _ in range(24):
        z = z[:, :]
    return np.mean(z)


# --- a size read only in the expression of a loop's step ----------------------------------
# np.var(W) < 0 folds to inv / n < 0 with inv = sum((W - mean(W))**2) computed outside the
# loop; no value the loop's helpers take has n as an axis, and they were not passed it: a
# NameError in the generated code.
def size_read_in_a_loop_condition(W: Array["n"], h0: Array["k"]) -> float:
    h = h0
    for _ in range(24):
        h = np.sin(h) if np.var(W) < 0.5 else np.cos(h)
    return np.sum(h)


# --- an arccos of the log of a negated select -------------------------------------------
# Asked whether arccos(0.85 * tanh(log(-u - 0.91))) is real (to compare it), SymPy formed
# Abs(-u - 0.91); under gradgen's distribute(False) its sign extraction turned the sum
# over without end (sympy 1.14), reported as "the model recurses without end". Whether it
# did depended on the hash seed (long profile, seeds 62 and 64).
def arccos_of_a_log_of_a_negated_select(z: float, a: float) -> float:
    u = np.where(z > 1.55, np.log(z - 1.45), z)
    if np.arccos(0.85 * np.tanh(np.log(-u - 0.91))) < a:
        return a * z
    return np.sin(z)


# --- a row picked by a computed index, then written into -------------------------------
# p[np.argmin(q)] is a row of p, a view (a single integer index is NumPy's basic indexing),
# but the generated code wrote into it without a copy: the write changed p, the caller's
# array or a value the backward pass reads (tanh(solve(...)) here: a wrong gradient; long
# profile, seed 87).
def row_by_argmin_written_into(X: Array[3, "n"], B: Array[3, "k"], q: Array[3], a: float) -> float:
    C = np.clip(X, -0.4, 0.6)
    p = np.tanh(np.linalg.solve(C @ C.T + np.eye(3), B))
    row = p[np.argmin(q)] * 1.0
    row[::-1] += a
    row[-1] += np.cosh(a)
    return np.sum(row)


# --- a division by a comparison, picked where it holds ----------------------------------------
# 1 / (v < w) as a number is 1 where v < w, and a division by zero elsewhere: SymPy folds it
# into a select with an infinite branch, refused as "infinite for every input" although the
# np.where around it picks it only where it is 1 (long profile, seed 96).
def division_by_a_comparison_where_it_holds(
    v: Array["k"], w: Array[1], W: Array[1, "k"]
) -> float:
    t = np.where(
        (v < w).astype(float) > 0.5,
        1.0 / ((v < w).astype(float) - 0.5 + 0.5),
        np.tanh(W) * v,
    )
    return np.sum(t * v)


# --- a division at its pole in the branch np.where does not take ------------------------------
# h is 0 where it was not written, so 1 / (h - 0.5 + 0.5) divides by zero there, in NumPy as in
# the generated code, and np.where discards it; the checker took the generated code's division
# by zero for its own (long profile, seed 107).
def division_at_its_pole_in_a_branch_not_taken(s: float, v: Array["d"]) -> float:
    h = np.zeros((v.shape[0],))
    h[0] = np.cos(s)
    h[::-1] -= np.where(h > 0.5, 1.0 / (h - 0.5 + 0.5), h)
    return np.max(h) + np.sum(h * v)


# --- a sum of a select, written out in the derivation inside a select ---------------------
# t = where(u6 < u7, 1, 0) is a small temporary, written out where the docstring's derivation
# reads it; inside where(sum(t) * A8 < ..., ...) SymPy decided it by that condition as if it
# were one truth value, leaving sum(1) of a 1-D array: the compile ended in an internal error
# (long profile, seed 103).
def select_summed_inside_a_select(W1: Array["d", 1], b3: Array["n"], u6: Array["k"], u7: Array[1], A8: Array["n", 1], X9: Array["d", 2]) -> float:
    h2 = np.linalg.norm(W1, 'fro')
    h4 = b3
    u5 = 1 / (1 + np.exp(-np.arccos(0.85 * np.tanh(W1 * W1))))
    for _ in range(2):
        u5 = np.sin(np.tri(X9.shape[0], 1, k=1) * ((u5 + W1) * np.sum(A8 * np.sum(u6 < u7) < np.linalg.norm(X9, np.inf, axis=-2, keepdims=True))))
    return np.max(h4) + np.max(u5) - np.maximum(1.5 - h2, b3 @ b3)


# --- the gradient of a slice of an array that cancels to zeros ------------------------------
# X.reshape(-1) - X.reshape(-1) folds to the number 0; the gradient of its slice [:] is zeros
# shaped like it with the slice written, and with the shape of the number 0 it was broadcast
# whole, a write inside an expression: the compile ended in an internal error (long profile,
# seed 104).
def slice_of_a_difference_that_cancels(W: Array[2, "n"], X: Array["n", "k"]) -> Array["n", "k"]:
    return np.reshape((X.reshape(-1) - X.reshape(-1))[:], (W.shape[1], -1)) + X
