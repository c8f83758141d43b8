"""Contractions and axis orders of N-D arrays: ``Einsum`` (``np.einsum`` of any subscripts,
and what reduces to it: ``np.tensordot``, ``np.inner``, ``np.matmul``/``@`` with batch
dimensions) and ``Permute`` (``np.transpose`` with axes, ``.T`` of N-D arrays,
``np.swapaxes``, ``np.moveaxis``). Each operation in one place: shape, VJP and JVP, code,
text and LaTeX; the tracing functions turn the forms that read better as a product, an
outer product, a sum or a transpose into those operations.

A contraction's subscripts are held as a ``Tuple`` of ``Tuple``s of label codes (the
character codes of the letters), one per operand and the last for the result; labels
within one operand are distinct (a repeated label, a diagonal, is traced as a product
with an identity matrix) and every label of one contraction has one size.
"""

from __future__ import annotations

import string

import numpy as np
import sympy as sp

from gradgen import dispatch, ir
from gradgen.ir import ShapeError, shape_str, static
from gradgen.ops.arrays import Eye
from gradgen.ops.contraction_text import contraction_text
from gradgen.ops.linear import MatMul, Outer
from gradgen.ops.reductions import expand_dims
from gradgen.ops.shapes import Permute
from gradgen.ops.tracing import any_tracer, as_tracer
from gradgen.ops.tracing import axis as axis_of
from gradgen.traced import kept_mask

LETTERS = string.ascii_letters


def spec(inputs, output) -> sp.Tuple:
    """Subscripts as a static argument: a Tuple per operand, the result's last."""
    codes = [[ord(c) for c in labels] for labels in list(inputs) + [output]]
    return sp.Tuple(*[sp.Tuple(*map(sp.Integer, c)) for c in codes])


def _letters(labels) -> str:
    return "".join(chr(int(c)) for c in labels)


def subscripts(einsum_spec: sp.Tuple) -> str:
    *inputs, output = einsum_spec
    return ",".join(_letters(x) for x in inputs) + "->" + _letters(output)


def contract(operands: list, labels: list, output: str) -> sp.Expr:
    """The contraction of ``operands`` (each labelled by a string of distinct letters)
    into ``output``: the operand itself or its transpose when nothing is summed, scalar
    operands as factors."""
    scalars = [a for a, x in zip(operands, labels) if not x]
    if scalars:
        rest = [(a, x) for a, x in zip(operands, labels) if x]
        if not rest:
            return sp.Mul(*scalars)
        arrays, names = zip(*rest)
        return sp.Mul(*scalars) * contract(list(arrays), list(names), output)
    if len(operands) == 1 and sorted(labels[0]) == sorted(output):
        order = [labels[0].index(c) for c in output]
        return Permute(operands[0], static(order))
    return Einsum(*operands, spec(labels, output))


class Einsum(ir.Structural):
    """``np.einsum(subscripts, *operands)`` without repeated labels in an operand; the
    last argument is the subscripts (``spec``)."""

    @property
    def array_args(self) -> int:
        return len(self.args) - 1

    @property
    def labels(self) -> list[str]:
        """The letters of each operand, then the result's."""
        return [_letters(x) for x in self.args[-1]]

    def out_shape(self, shapes):
        *inputs, output = self.labels
        sizes: dict = {}
        if len(shapes) != len(inputs):
            raise ShapeError(f"einsum of {len(inputs)} operands got {len(shapes)}")
        for letters, shape in zip(inputs, shapes):
            if len(letters) != len(shape):  # SymPy folded an operand (x - x is 0)
                raise ShapeError(
                    f"einsum subscripts {letters!r} for an array of shape "
                    f"{shape_str(shape)}"
                )
            for c, d in zip(letters, shape):
                if sizes.setdefault(c, d) != d:
                    raise ShapeError(
                        f"np.einsum {subscripts(self.args[-1])!r}: label {c!r} is "
                        f"{sizes[c]} in one operand and {d} in another"
                    )
        return tuple(sizes[c] for c in output)

    @staticmethod
    def vjp(g, ans, *args, shape):
        *operands, labelled = args
        *inputs, output = [_letters(x) for x in labelled]
        out = []
        for k, letters in enumerate(inputs):
            others = [
                (a, x) for j, (a, x) in enumerate(zip(operands, inputs)) if j != k
            ]
            others.append((g, output))
            present = set("".join(x for _, x in others))
            kept = "".join(c for c in letters if c in present)
            missing = [i for i, c in enumerate(letters) if c not in present]
            arrays, names = zip(*others)
            result = contract(list(arrays), list(names), kept)
            # a label only this operand has is summed: its adjoint broadcasts along it
            out.append(expand_dims(result, missing, len(kept)))
        return out

    @staticmethod
    def jvp(t, ans, *args, shape):
        *operands, labelled = args
        terms = []
        for k, tangent in enumerate(t):
            if tangent is not None:
                replaced = operands[:k] + [tangent] + operands[k + 1 :]
                terms.append(Einsum(*replaced, labelled))
        return sp.Add(*terms) if terms else None

    def _gradgen_numpy(self, p, **kwargs):
        if p.array_api:  # the standard has no einsum: its matmul, tensordot, sums
            operands = [(p.postfix(a), x) for a, x in zip(self.args[:-1], self.labels)]
            return contraction_text(p.np, operands, self.labels[-1])
        arrays = ", ".join(p._print(a) for a in self.args[:-1])
        return f'{p.np}.einsum("{subscripts(self.args[-1])}", {arrays})'

    def _gradgen_text(self, p, **kwargs):
        arrays = ", ".join(p._print(a) for a in self.args[:-1])
        return f"einsum({subscripts(self.args[-1]).replace('->', '→')}; {arrays})"

    def _gradgen_latex(self, p, **kwargs):
        arrays = ",\\ ".join(p._print(a) for a in self.args[:-1])
        *inputs, output = self.labels
        where = rf"\mathrm{{{','.join(inputs)}}} \to \mathrm{{{output or '{}'}}}"
        return rf"\operatorname{{einsum}}_{{{where}}}\left({arrays}\right)"


# --- tracing: the NumPy calls that make these ------------------------------------------


def _error(t, what: str, hint: str | None = None):
    return t.session.error(f"np.einsum: {what}", hint)


def _parse(t, text, ndims: list[int]) -> tuple[list[str], str]:
    """Subscripts as a letter string per operand and one for the result, the ellipsis
    written out as letters of its own (right-aligned, as NumPy broadcasts)."""
    text = text.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    parts = inputs.split(",")
    if len(parts) != len(ndims):
        raise _error(t, f"{len(parts)} subscripts for {len(ndims)} operands")
    free = [c for c in LETTERS if c not in text]
    widest = max(
        (n - len(p.replace("...", "")) for p, n in zip(parts, ndims)), default=0
    )
    batch = "".join(free[:widest]) if any("..." in p for p in parts) else ""
    labels = []
    for p, n in zip(parts, ndims):
        explicit = p.replace("...", "")
        width = n - len(explicit)
        if (
            width < 0
            or (width and "..." not in p)
            or not explicit.isalpha()
            and explicit
        ):
            raise _error(t, f"subscripts {p!r} for an array of {n} dimensions")
        labels.append(p.replace("...", batch[len(batch) - width :]))
    if not arrow:
        once = sorted(c for c in set(inputs) if c.isalpha() and inputs.count(c) == 1)
        output = batch + "".join(once)
    elif (
        output.replace("...", "").isalpha() or output.replace("...", "") == ""
    ) and output.count("...") <= 1:
        output = output.replace("...", batch)
    else:
        raise _error(t, f"result subscripts {output!r}")
    return labels, output


def _diagonals(t, operands: list, labels: list[str]) -> None:
    """A label repeated within an operand (a diagonal, ``ii``): each repeat a label of its
    own, tied to the first by an identity matrix."""
    free = [c for c in LETTERS if c not in "".join(labels)]
    for k in range(len(operands)):
        letters = list(labels[k])
        for i, c in enumerate(letters):
            if c in letters[:i]:
                n, m = operands[k].shape_[letters.index(c)], operands[k].shape_[i]
                if n != m:
                    raise _error(t, f"label {c!r} is {n} and {m} in one operand")
                letters[i] = free.pop(0)
                eye = t.session.structural(Eye(n, n), [])
                operands.append(eye)
                labels.append(c + letters[i])
        labels[k] = "".join(letters)


def _unbroadcast(t, operands: list, labels: list[str], name: str) -> None:
    """A label of size 1 in an operand where another has it larger broadcasts (NumPy's
    rule): the operand drops that axis. ``name``: the call the user wrote, whose
    labels are gradgen's own unless it is np.einsum."""
    sizes: dict = {}
    for a, letters in zip(operands, labels):
        for c, d in zip(letters, a.shape_):
            if d != 1:
                if sizes.setdefault(c, d) != d:
                    hint = "give equal sizes the same dimension name"
                    if name == "np.einsum":
                        raise _error(
                            t,
                            f"label {c!r} is {sizes[c]} in one operand and {d} in "
                            "another",
                            hint,
                        )
                    shapes = " and ".join(shape_str(x.shape_) for x in operands)
                    raise t.session.error(
                        f"{name} of shapes {shapes}: sizes {sizes[c]} and {d} on "
                        "axes that must match",
                        hint,
                    )
    for k, (a, letters) in enumerate(zip(operands, labels)):
        drop = [i for i, c in enumerate(letters) if a.shape_[i] == 1 and c in sizes]
        if drop:
            kept = tuple(d for i, d in enumerate(a.shape_) if i not in drop)
            operands[k] = dispatch.METHODS["reshape"](a, kept)
            labels[k] = "".join(c for i, c in enumerate(letters) if i not in drop)


def _as_product(operands: list, labels: list[str], output: str):
    """``a @ b`` (after transposes) or ``np.outer(a, b)`` when the contraction is one,
    else None."""
    if len(operands) != 2 or any(len(x) > 2 for x in labels):
        return None
    (a, b), (la, lb) = operands, labels
    shared = set(la) & set(lb)
    if len(shared) > 1 or shared & set(output) or set(output) != set(la + lb) - shared:
        return None
    if not shared:
        if len(la) == len(lb) == 1 and output in (la + lb, lb + la):
            first, second = (a, b) if output == la + lb else (b, a)
            return dispatch.FUNCTIONS[np.outer](first, second)
        return None
    (j,) = shared
    if len(la) == 2 and la[0] == j:
        a, la = dispatch.METHODS["transpose"](a), la[::-1]
    if len(lb) == 2 and lb[1] == j:
        b, lb = dispatch.METHODS["transpose"](b), lb[::-1]
    product = dispatch.METHODS["__matmul__"](a, b)
    made = la.replace(j, "") + lb.replace(j, "")
    return product if made == output else dispatch.METHODS["transpose"](product)


def contraction(t, operands: list, labels: list[str], output: str, name="np.einsum"):
    """The traced contraction of tracers ``operands``, labelled, into ``output``, for
    the call ``name``."""
    if len(set(output)) != len(output) or not set(output) <= set("".join(labels)):
        raise _error(t, f"result subscripts {output!r}: each a distinct input label")
    operands, labels = list(operands), list(labels)
    _diagonals(t, operands, labels)
    _unbroadcast(t, operands, labels, name)
    if len(operands) == 1:
        (a,), (letters,) = operands, labels
        summed = [i for i, c in enumerate(letters) if c not in output]
        if summed:
            a = dispatch.METHODS["sum"](a, tuple(summed))
            letters = "".join(c for c in letters if c in output)
        return dispatch.METHODS["transpose"](a, [letters.index(c) for c in output])
    product = _as_product(operands, labels, output)
    if product is not None:
        return product
    s = t.session
    expr = Einsum(*[s.materialise(a) for a in operands], spec(labels, output))
    return s.structural(expr, operands)


def _operands(values) -> list:
    t = any_tracer(*values)
    return t, [as_tracer(v, t) for v in values]


def _sublists(first, rest) -> tuple[str, list]:
    """The subscripts string and the operands of einsum's interleaved form, whose labels
    are integers (0 to 51) and ``...``."""
    items = [first, *rest]
    pairs = len(items) // 2 * 2
    arrays, lists = items[0:pairs:2], items[1:pairs:2]
    out = items[-1] if len(items) % 2 else None

    def letters(sub) -> str:
        if not isinstance(sub, (list, tuple)) or not all(
            x is Ellipsis or isinstance(x, (int, np.integer)) and 0 <= x < 52
            for x in sub
        ):
            raise _error(
                any_tracer(*arrays),
                f"einsum subscripts {sub!r}",
                'write the subscripts as "ij,jk->ik"',
            )
        return "".join("..." if x is Ellipsis else string.ascii_letters[x] for x in sub)

    text = ",".join(letters(sub) for sub in lists)
    return (text if out is None else f"{text}->{letters(out)}"), arrays


@dispatch.numpy(
    np.einsum,
    note="subscripts as a string (with ... and repeated labels) or operand lists; as @ "
    "where it is one",
    section="Reductions and products",
)
def einsum(subscripts, *operands, optimize=False):
    if not isinstance(subscripts, str):  # np.einsum(a, [0, 1], b, [1, 2], [0, 2])
        subscripts, operands = _sublists(subscripts, operands)
    t, arrays = _operands(operands)
    labels, output = _parse(t, subscripts, [a.ndim for a in arrays])
    # of masks, NumPy's einsum (as @, np.dot) sums with or: a mask
    return kept_mask(arrays, contraction(t, arrays, labels, output))


@dispatch.numpy(
    np.tensordot, note="axes: a count or two lists", section="Reductions and products"
)
def tensordot(a, b, axes=2):
    return _tensordot(a, b, axes, "np.tensordot")


def _tensordot(a, b, axes, name: str):
    t, (a, b) = _operands((a, b))
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise t.session.error(
                f"np.tensordot: axes={axes} for arrays of {a.ndim} and {b.ndim} "
                "dimensions"
            )
        pairs = (list(range(a.ndim - int(axes), a.ndim)), list(range(int(axes))))
    else:
        pairs = [list(x) if isinstance(x, (list, tuple)) else [x] for x in axes]
    if len(pairs) != 2 or len(pairs[0]) != len(pairs[1]):
        raise t.session.error(
            f"np.tensordot: axes={axes!r}", "give a count or two lists"
        )
    over_a = [axis_of(a, k, a.ndim) for k in pairs[0]]
    over_b = [axis_of(b, k, b.ndim) for k in pairs[1]]
    la, lb = list(LETTERS[: a.ndim]), list(LETTERS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(over_a, over_b):
        lb[j] = la[i]
    output = [c for i, c in enumerate(la) if i not in over_a]
    output += [c for j, c in enumerate(lb) if j not in over_b]
    made = contraction(t, [a, b], ["".join(la), "".join(lb)], "".join(output), name)
    return kept_mask([a, b], made)


@dispatch.numpy(np.inner, section="Reductions and products")
def inner(a, b):
    t, (a, b) = _operands((a, b))
    if not a.ndim or not b.ndim:
        return a * b
    return _tensordot(a, b, ([-1], [-1]), "np.inner")


@dispatch.numpy(
    np.outer, note="flattens its operands", section="Reductions and products"
)
def outer(a, b):
    t, (a, b) = _operands((a, b))
    a, b = (dispatch.METHODS["reshape"](x, (-1,)) for x in (a, b))
    s = t.session
    made = s.structural(Outer(s.materialise(a), s.materialise(b)), [a, b])
    return kept_mask([a, b], made)


@dispatch.method("__matmul__")
@dispatch.numpy(
    np.matmul,
    note="as @; stacks of matrices broadcast their leading dimensions",
    section="Reductions and products",
)
def matmul(a, b):
    t = any_tracer(a, b)
    a, b = as_tracer(a, t), as_tracer(b, t)
    if not a.shape_ or not b.shape_:
        raise t.session.error("matmul (@) of a scalar", "use * to multiply by a scalar")
    if a.ndim > 2 or b.ndim > 2:
        return kept_mask([a, b], _batched(t, a, b))
    s = t.session
    made = s.structural(MatMul(s.materialise(a), s.materialise(b)), [a, b])
    return kept_mask([a, b], made)  # of masks: or of ands, a mask


def _batched(t, a, b):
    """``a @ b`` with an operand of more than 2 dimensions: NumPy's stacks of matrices,
    their leading dimensions broadcast."""
    la, lb = ("j" if a.ndim == 1 else "ij"), ("j" if b.ndim == 1 else "jk")
    batch = max(a.ndim, b.ndim) - 2
    letters = "".join(c for c in LETTERS if c not in "ijk")[:batch]
    pa = letters[batch - max(a.ndim - 2, 0) :] if a.ndim > 2 else ""
    pb = letters[batch - max(b.ndim - 2, 0) :] if b.ndim > 2 else ""
    output = letters + la.replace("j", "") + lb.replace("j", "")
    return contraction(t, [a, b], [pa + la, pb + lb], output, "matmul")
