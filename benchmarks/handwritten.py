"""Hand-written NumPy value-and-gradient functions: the baseline of every benchmark ratio.

Each is what a careful engineer writes by hand for the model of the same name under
benchmarks/models/ or examples/: one forward pass that keeps what the backward needs, the
deltas of the textbook derivation, and no gradient nobody asked for. Each returns
``(value, grads)`` with ``grads`` a tuple in parameter order (a vector-Jacobian product
returns ``(value, (grad,))``).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- The four workloads ------------------------------------------------------------------


def xor(X, y, W0, W1):
    """Two sigmoid layers, mean squared error; gradients of W0 and W1."""
    h = sigmoid(X @ W0)
    yhat = sigmoid(h @ W1)
    err = yhat - y
    loss = np.mean(err**2)
    delta2 = (2 / err.size) * err * yhat * (1 - yhat)
    delta1 = (delta2 @ W1.T) * h * (1 - h)
    return loss, (X.T @ delta1, h.T @ delta2)


def mlp(X, Y, W1, b1, W2, b2, W3, b3):
    """ReLU MLP with softmax cross-entropy; Y is one-hot, so dL/dz = (softmax - Y) / n."""
    n = X.shape[0]
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(z2, 0)
    z3 = h2 @ W3 + b3
    shifted = z3 - z3.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = -np.sum(Y * (shifted - np.log(total))) / n
    d3 = (e / total - Y) / n
    d2 = (d3 @ W3.T) * (z2 > 0)
    d1 = (d2 @ W2.T) * (z1 > 0)
    return loss, (
        X.T @ d1,
        d1.sum(axis=0),
        h1.T @ d2,
        d2.sum(axis=0),
        h2.T @ d3,
        d3.sum(axis=0),
    )


def tanh_net(X, y, *params):
    """h = tanh(h @ W + b) per layer, mean squared error; gradients of every W and b."""
    weights, biases = params[0::2], params[1::2]
    hs = [X]
    for W, b in zip(weights, biases):
        hs.append(np.tanh(hs[-1] @ W + b))
    err = hs[-1] - y
    loss = np.mean(err**2)
    delta = (2 / err.size) * err
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        dz = delta * (1 - hs[i + 1] ** 2)
        grads += [dz.sum(axis=0), hs[i].T @ dz]
        if i:
            delta = dz @ weights[i].T
    return loss, tuple(reversed(grads))


def elementwise(x, y):
    """sum(x * y + sin x): the x * y part is a dot product; dx = y + cos x, dy = x."""
    return x @ y + np.sin(x).sum(), (y + np.cos(x), x)


# --- The examples (every parameter differentiated, as in generated/) -----------------------


def bowl(w1, w2):
    return w1**2 + 0.5 * w2**2, (2 * w1, w2)


def elementary(x, y):
    return x * y + np.sin(x), (y + np.cos(x), x)


def gate(w0, x0, w1, x1, w2):
    f = sigmoid(w0 * x0 + w1 * x1 + w2)
    dz = f * (1 - f)
    return f, (dz * x0, dz * w0, dz * x1, dz * w1, dz)


def neuron(x, t, W1, W2):
    h = sigmoid(W1 * x)
    y = sigmoid(W2 * h)
    err = y - t
    dy = err * y * (1 - y)
    dh = dy * W2 * h * (1 - h)
    return 0.5 * err**2, (dh * W1, -err, dh * x, dy * h)


def sigmoid_scalar(z):
    s = sigmoid(z)
    return s, (s * (1 - s),)


def sigmoid_array_vjp(z, cotangent):
    s = sigmoid(z)
    return s, (cotangent * s * (1 - s),)


def deep(x, t, W1, W2, W3, W4):
    """Three hidden sigmoid layers, half the summed squared error; every gradient."""
    h1 = sigmoid(x @ W1)
    h2 = sigmoid(h1 @ W2)
    h3 = sigmoid(h2 @ W3)
    y = sigmoid(h3 @ W4)
    err = y - t
    d4 = err * y * (1 - y)
    d3 = (d4 @ W4.T) * h3 * (1 - h3)
    d2 = (d3 @ W3.T) * h2 * (1 - h2)
    d1 = (d2 @ W2.T) * h1 * (1 - h1)
    return 0.5 * np.sum(err**2), (
        d1 @ W1.T,
        -err,
        x.T @ d1,
        h1.T @ d2,
        h2.T @ d3,
        h3.T @ d4,
    )


# --- Loops over a sequence (benchmarks/loops.py) --------------------------------------------


def rnn(X, target, h0, Wx, Wh, b, w_out):
    """benchmarks/models/rnn_loop.py: h = tanh(X[t] @ Wx + h @ Wh + b) over T steps, half
    the summed squared error of h @ w_out; backpropagation through time, one step at a
    time: the states kept in one preallocated array, the weight gradients summed over the
    steps of a reversed loop. Gradients of every parameter, target's included."""
    T = X.shape[0]
    hs = np.empty((T + 1,) + h0.shape, dtype=h0.dtype)
    hs[0] = h0
    for t in range(T):
        np.tanh(X[t] @ Wx + hs[t] @ Wh + b, out=hs[t + 1])
    err = hs[T] @ w_out - target
    dX = np.empty_like(X)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh = np.outer(err, w_out)
    for t in range(T - 1, -1, -1):
        dz = dh * (1 - hs[t + 1] ** 2)
        dWh += hs[t].T @ dz
        dWx += X[t].T @ dz
        db += dz.sum(axis=0)
        dX[t] = dz @ Wx.T
        dh = dz @ Wh.T
    return 0.5 * (err @ err), (dX, -err, dh, dWx, dWh, db, hs[T].T @ err)


def rnn_hoisted(X, target, h0, Wx, Wh, b, w_out):
    """``rnn`` with the input's share of every step taken out of the loops: X @ Wx + b for
    all T steps in one product before the forward loop, and the gradients of X, Wx, Wh and
    b in one product each after the backward loop, which keeps every step's dz."""
    T, n, d = X.shape
    k = h0.shape[1]
    Z = (X.reshape(T * n, d) @ Wx + b).reshape(T, n, k)
    hs = np.empty((T + 1, n, k), dtype=h0.dtype)
    hs[0] = h0
    for t in range(T):
        np.tanh(Z[t] + hs[t] @ Wh, out=hs[t + 1])
    err = hs[T] @ w_out - target
    dZ = Z  # no longer needed: overwritten by each step's dz
    dh = np.outer(err, w_out)
    for t in range(T - 1, -1, -1):
        np.multiply(dh, 1 - hs[t + 1] ** 2, out=dZ[t])
        dh = dZ[t] @ Wh.T
    dZ = dZ.reshape(T * n, k)
    return 0.5 * (err @ err), (
        (dZ @ Wx.T).reshape(T, n, d),
        -err,
        dh,
        X.reshape(T * n, d).T @ dZ,
        hs[:T].reshape(T * n, k).T @ dZ,
        dZ.sum(axis=0),
        hs[T].T @ err,
    )


def lstm(X, target, h0, c0, Wx, Wh, b, w_out):
    """benchmarks/models/lstm_loop.py: an LSTM whose four gates (input, forget, cell,
    output) are the column blocks of one product per step; backpropagation through time
    with the gates, cells and tanh(c) of every step kept in preallocated arrays."""
    T, n, _ = X.shape
    k = h0.shape[1]
    gates = np.empty((T, n, 4 * k), dtype=h0.dtype)  # i, f, g, o after their functions
    cs, tcs = np.empty((T + 1, n, k), dtype=h0.dtype), np.empty((T, n, k), h0.dtype)
    hs = np.empty((T + 1, n, k), dtype=h0.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        z = X[t] @ Wx + hs[t] @ Wh + b
        a = gates[t]
        a[:, : 2 * k] = sigmoid(z[:, : 2 * k])
        np.tanh(z[:, 2 * k : 3 * k], out=a[:, 2 * k : 3 * k])
        a[:, 3 * k :] = sigmoid(z[:, 3 * k :])
        cs[t + 1] = a[:, k : 2 * k] * cs[t] + a[:, :k] * a[:, 2 * k : 3 * k]
        np.tanh(cs[t + 1], out=tcs[t])
        np.multiply(a[:, 3 * k :], tcs[t], out=hs[t + 1])
    err = hs[T] @ w_out - target
    dX = np.empty_like(X)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dz = np.empty((n, 4 * k), dtype=h0.dtype)
    dh, dc = np.outer(err, w_out), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        a, tc = gates[t], tcs[t]
        i, f, g, o = a[:, :k], a[:, k : 2 * k], a[:, 2 * k : 3 * k], a[:, 3 * k :]
        dc = dc + dh * o * (1 - tc**2)
        dz[:, :k] = dc * g * i * (1 - i)
        dz[:, k : 2 * k] = dc * cs[t] * f * (1 - f)
        dz[:, 2 * k : 3 * k] = dc * i * (1 - g**2)
        dz[:, 3 * k :] = dh * tc * o * (1 - o)
        dc = dc * f
        dWh += hs[t].T @ dz
        dWx += X[t].T @ dz
        db += dz.sum(axis=0)
        dX[t] = dz @ Wx.T
        dh = dz @ Wh.T
    return 0.5 * (err @ err), (dX, -err, dh, dc, dWx, dWh, db, hs[T].T @ err)
