"""The Array API form of a contraction (``np.einsum``, which the standard lacks), as code.

Takes the printed operands with their labels (distinct letters within an operand, as
``Einsum`` holds them) and the result's labels; returns the printed expression, a call
(or an index of one), so an atom wherever it is printed. The operands are contracted two
at a time, left to right; a label that neither a later operand nor the result has is
summed as soon as only one operand holds it. Each pair is one of the standard's calls:

- ``tensordot`` when the labels they share are all summed (no batch label),
- ``matmul`` for stacks of matrices (batch labels, one row, one summed, one column label),
- else broadcasting: ``multiply`` when nothing is summed, ``vecdot`` for one summed
  label, ``sum`` of the product for more,

and ``permute_dims`` puts the result's axes in order.
"""

from __future__ import annotations


def contraction_text(xp: str, operands: list[tuple[str, str]], output: str) -> str:
    """``np.einsum`` of ``operands`` ((printed operand, labels) each) into ``output``,
    in the calls of the Array API namespace ``xp``."""
    text, labels = operands[0]
    for k in range(1, len(operands)):
        keep = set(output).union(*(x for _, x in operands[k + 1 :]))
        text, labels = _pair(xp, (text, labels), operands[k], keep)
    text, labels = _summed(xp, text, labels, set(output))
    return _arranged(xp, text, labels, list(output))


def _axes(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(axes)


def _summed(xp: str, text: str, labels: str, keep: set) -> tuple[str, str]:
    """The operand summed along its labels outside ``keep``."""
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return text, labels
    kept = "".join(c for c in labels if c in keep)
    return f"{xp}.sum({text}, axis={_axes(axes)})", kept


def _arranged(xp: str, text: str, labels: str, order: list) -> str:
    """The operand with its axes in ``order`` (labels, and None for a new axis of size
    1): ``permute_dims``, then an index that names every axis."""
    letters = [c for c in order if c is not None]
    if letters != list(labels):
        text = f"{xp}.permute_dims({text}, {tuple(labels.index(c) for c in letters)})"
    if None in order:
        text = f"{text}[{', '.join('None' if c is None else ':' for c in order)}]"
    return text


def _pair(xp: str, a: tuple[str, str], b: tuple[str, str], keep: set):
    """Two operands contracted, keeping the labels in ``keep``: (text, labels)."""
    (ta, la), (tb, lb) = a, b
    ta, la = _summed(xp, ta, la, keep | set(lb))
    tb, lb = _summed(xp, tb, lb, keep | set(la))
    shared = [c for c in la if c in lb]
    batch = [c for c in shared if c in keep]
    summed = [c for c in shared if c not in keep]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    made = "".join(batch + only_a + only_b)
    if summed and not batch:  # result axes: a's free ones, then b's
        axes = (tuple(la.index(c) for c in summed), tuple(lb.index(c) for c in summed))
        return f"{xp}.tensordot({ta}, {tb}, axes={axes})", "".join(only_a + only_b)
    if len(summed) == 1 and len(only_a) == len(only_b) == 1:
        x = _arranged(xp, ta, la, batch + only_a + summed)
        y = _arranged(xp, tb, lb, batch + summed + only_b)
        return f"{xp}.matmul({x}, {y})", made
    x = _arranged(xp, ta, la, batch + only_a + [None] * len(only_b) + summed)
    y = _arranged(xp, tb, lb, batch + [None] * len(only_a) + only_b + summed)
    if not summed:
        return f"{xp}.multiply({x}, {y})", made
    if len(summed) == 1:
        return f"{xp}.vecdot({x}, {y})", made
    last = _axes(tuple(range(-len(summed), 0)))
    return f"{xp}.sum({xp}.multiply({x}, {y}), axis={last})", made
