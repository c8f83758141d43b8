"""Train the XOR network with the generated gradient, by plain gradient descent.

The hand-written deltas of the classic NumPy version (layer_2_delta, layer_1_delta) are
replaced by generated/xor.py. Weights start uniform in [0, 1) with seed 1. The loss is the
mean of the squared errors (a quarter of their sum here), so the learning rate is 1.0 rather
than the 0.1 used with the summed error; 10,000 epochs bring every prediction within 0.1 of
its target.

    gradgen compile examples/xor.py      # writes generated/xor.py
    python examples/train_xor.py
    python examples/train_xor.py --save examples/xor_trained.npz   # keep the trained point

The saved point (X, y and the trained W0, W1) is what ``gradgen report examples/xor.py
--at examples/xor_trained.npz`` shows.
"""

import sys
from pathlib import Path

import numpy as np


def main(epochs=10_000, rate=1.0, save=None):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from generated.xor import loss, loss_value_and_grad

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    rng = np.random.RandomState(1)
    W0 = rng.random_sample((2, 4))
    W1 = rng.random_sample((4, 1))
    for epoch in range(epochs):
        value, (_, _, dW0, dW1) = loss_value_and_grad(X, y, W0, W1)
        W0 -= rate * dW0
        W1 -= rate * dW1
        if epoch % 2000 == 0:
            print(f"epoch {epoch:5d}  loss {value:.6f}")
    h = 1 / (1 + np.exp(-X @ W0))
    predictions = 1 / (1 + np.exp(-h @ W1))
    print(f"final loss {loss(X, y, W0, W1):.6f}")
    if save:
        np.savez(save, X=X, y=y, W0=W0, W1=W1)
        print(f"wrote {save}")
    for row, p, target in zip(X, predictions[:, 0], y[:, 0]):
        print(f"  {row.astype(int)} -> {p:.3f}  (target {target:g})")
    return predictions[:, 0]


if __name__ == "__main__":
    main(save=sys.argv[2] if sys.argv[1:2] == ["--save"] else None)
