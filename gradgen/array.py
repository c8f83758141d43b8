"""The ``Array`` annotation of the model contract.

Takes a subscript such as ``Array["n", "d"]``, ``Array["n d"]`` or ``Array[4, "d"]`` and returns
an ``ArrayType`` carrying the dimensions as a tuple of names (str) and sizes (int). At run time
the annotation costs nothing: a model file is plain NumPy.
"""

from __future__ import annotations

import keyword


class ArrayType:
    """An array annotation: ``dims`` is a tuple of dimension names (str) and sizes (int)."""

    __slots__ = ("dims",)

    def __init__(self, dims: tuple):
        self.dims = dims

    def __repr__(self) -> str:
        return "Array[" + ", ".join(repr(d) for d in self.dims) + "]"

    def __eq__(self, other) -> bool:
        return isinstance(other, ArrayType) and other.dims == self.dims

    def __hash__(self) -> int:
        return hash(self.dims)


def _parse_dims(item) -> tuple:
    items = item if isinstance(item, tuple) else (item,)
    dims: list = []
    for entry in items:
        if isinstance(entry, str):
            words = entry.split()
            if not words and entry.strip() == "" and len(items) > 1:
                raise TypeError("Array[...]: empty dimension name")
            for word in words:
                if not word.isidentifier() or keyword.iskeyword(word):
                    raise TypeError(
                        f"Array[...]: dimension {word!r} is neither a name nor a size"
                    )
                dims.append(word)
        elif isinstance(entry, int) and not isinstance(entry, bool):
            if entry < 1:
                raise TypeError(f"Array[...]: dimension size {entry} must be positive")
            dims.append(entry)
        else:
            raise TypeError(
                f"Array[...]: dimension {entry!r} is neither a name (str) nor a size (int)"
            )
    return tuple(dims)


class Array:
    """Annotation for an array parameter or result: ``Array["n", "d"]`` or ``Array["n d"]``.

    Dimensions are names (the same name means the same size everywhere in a function) or
    positive integers. ``Array[()]`` is a 0-d array.
    """

    def __class_getitem__(cls, item) -> ArrayType:
        return ArrayType(_parse_dims(item))

    def __init__(self, *args, **kwargs):
        raise TypeError("Array is an annotation: write Array['n', 'd'], not Array(...)")
