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


class AnnotationError(TypeError):
    """A malformed ``Array[...]``; ``hint`` says what to write instead. A TypeError, as
    Python raises for a bad subscript, so plain NumPy use of the model fails the same way.
    """

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message} ({hint})")
        self.message, self.hint = message, hint


SIZE_HINT = "write a positive size such as Array[3], or a name such as Array['n']"


def _parse_dims(item) -> tuple:
    items = item if isinstance(item, tuple) else (item,)
    dims: list = []
    for entry in items:
        if isinstance(entry, str):
            words = entry.split()
            if not words:  # Array[""] is not Array[()]: say which was meant
                raise AnnotationError(
                    "Array[...] has an empty dimension name",
                    SIZE_HINT + "; Array[()] is a 0-d array",
                )
            for word in words:
                if not word.isidentifier() or keyword.iskeyword(word):
                    raise AnnotationError(
                        f"Array[...]: dimension {word!r} is neither a name nor a size",
                        "a dimension name is a Python identifier such as 'n' or "
                        "'batch'; sizes are integers",
                    )
                dims.append(word)
        elif isinstance(entry, int) and not isinstance(entry, bool):
            if entry < 1:
                raise AnnotationError(
                    f"Array[{entry}]: a dimension size must be positive",
                    SIZE_HINT + ("; Array[()] is a 0-d array" if entry == 0 else ""),
                )
            dims.append(entry)
        else:
            raise AnnotationError(
                f"Array[{entry!r}]: a dimension is a name (str) or a size (int), "
                f"not {type(entry).__name__}",
                SIZE_HINT,
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
