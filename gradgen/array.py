"""The ``Array`` annotation of the model contract.

Takes a subscript such as ``Array["n", "d"]``, ``Array["n d"]``, ``Array[4, "d"]`` or
``Array["n", int]`` (integer data: labels, indices; the type last) and returns an
``ArrayType`` carrying the dimensions as a tuple of names (str) and sizes (int), and whether
its entries are integers. At run time the annotation costs nothing: a model file is plain
NumPy.
"""

from __future__ import annotations

import keyword


class ArrayType:
    """An array annotation: ``dims`` is a tuple of dimension names (str) and sizes (int);
    ``integer``: its entries are integers (data, never differentiated)."""

    __slots__ = ("dims", "integer")

    def __init__(self, dims: tuple, integer: bool = False):
        self.dims = dims
        self.integer = integer

    def __repr__(self) -> str:
        parts = [repr(d) for d in self.dims] + ["int"] * self.integer
        return "Array[" + ", ".join(parts) + "]"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, ArrayType)
            and other.dims == self.dims
            and other.integer == self.integer
        )

    def __hash__(self) -> int:
        return hash((self.dims, self.integer))


class AnnotationError(TypeError):
    """A malformed ``Array[...]``; ``hint`` says what to write instead. A TypeError, as
    Python raises for a bad subscript, so plain NumPy use of the model fails the same way.
    """

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message} ({hint})")
        self.message, self.hint = message, hint


SIZE_HINT = "write a positive size such as Array[3], or a name such as Array['n']"


def _split_type(item) -> tuple[tuple, bool]:
    """The dimensions of a subscript and whether it ends in ``int`` (``float`` last is
    the default, said out loud)."""
    items = item if isinstance(item, tuple) else (item,)
    if items and items[-1] in (int, float):
        return items[:-1], items[-1] is int
    for entry in items[:-1]:
        if entry in (int, float):
            raise AnnotationError(
                f"Array[...]: the type {entry.__name__} comes before a dimension",
                "write the type last, as in Array['n', int]",
            )
    return items, False


def _parse_dims(items: tuple) -> tuple:
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
                f"not {getattr(entry, '__name__', type(entry).__name__)}",
                SIZE_HINT + "; integer data is Array['n', int], the type last",
            )
    return tuple(dims)


class Array:
    """Annotation for an array parameter or result: ``Array["n", "d"]`` or ``Array["n d"]``.

    Dimensions are names (the same name means the same size everywhere in a function) or
    positive integers. ``Array[()]`` is a 0-d array. ``Array["n", int]`` holds integers
    (labels, indices): data, never differentiated.
    """

    def __class_getitem__(cls, item) -> ArrayType:
        items, integer = _split_type(item)
        return ArrayType(_parse_dims(items), integer)

    def __init__(self, *args, **kwargs):
        raise TypeError("Array is an annotation: write Array['n', 'd'], not Array(...)")
