"""A bag-of-embeddings classifier: each token's vector looked up in the table E, averaged
over the sequence, a linear layer and the softmax loss on integer labels.

tokens (the token ids of n sequences of length t) and y (each sequence's class) are integer
data, ``Array[..., int]``. The lookup ``E[tokens]`` reads rows of E by an integer array of
any shape; its gradient adds what each row was read for, as np.add.at does: a token that
appears twice gets the sum of its two gradients (``scatter_add`` in the generated code).
"""

import numpy as np

from gradgen import Array


def loss(
    tokens: Array["n", "t", int],
    y: Array["n", int],
    E: Array["v", "d"],
    W: Array["d", "c"],
    b: Array["c"],
) -> float:
    n = tokens.shape[0]
    vectors = E[tokens]
    mean = np.mean(vectors, axis=1)
    scores = mean @ W + b
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(n), y])
