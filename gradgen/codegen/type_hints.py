"""Type hints of the generated functions, for type checkers (``mypy --strict``).

Takes a differentiated program (its parameters' shapes and its module's names) and
returns the text of a hint: the module's name for ``np.ndarray[Any, np.dtype[np.floating[Any]]]``
(``FloatArray``) for an array, ``float`` for a float parameter, ``IntArray`` and ``int`` for
integer data, ``Any`` for a scalar
result (NumPy gives floats of several kinds), tuples of them in the order the functions
return them. NumPy's own hints type most array expressions as ``Any``; the module tells
mypy not to report returning them (``no-any-return``).
"""

from __future__ import annotations

from gradgen import ir
from gradgen.codegen.naming import ModuleNames


def _names(program: ir.Program) -> ModuleNames:
    return program.module_names or ModuleNames()


def of(shape, program: ir.Program) -> str:
    """The hint of a parameter of this shape: an array, or a float for ``()``."""
    return _names(program).array_type if shape else "float"


def result(shape, program: ir.Program) -> str:
    """The hint of a result of this shape: an array, or for ``()`` ``Any``: a Python
    float, a NumPy float or a 0-d array, as NumPy computes it (``np.where`` of floats is a
    0-d array, ``np.mean`` a NumPy float)."""
    return _names(program).array_type if shape else _names(program).any_type


def tuple_of(hints: list[str]) -> str:
    """One hint for one value, else a tuple: as the generated functions return them;
    ``tuple[FloatArray, ...]`` for more than four of one kind (one line, not one a row)."""
    if len(hints) == 1:
        return hints[0]
    if len(hints) > 4 and len(set(hints)) == 1:
        return f"tuple[{hints[0]}, ...]"
    return f"tuple[{', '.join(hints)}]"


def param(p: ir.Param, program: ir.Program) -> str:
    """A parameter's hint: integer data is an integer array or ``int``."""
    if p.integer:
        return _names(program).int_array_type if p.shape else "int"
    return of(p.shape, program)


def params(program: ir.Program) -> list[str]:
    return [param(p, program) for p in program.params]


def value(program: ir.Program) -> str:
    """The value of the target: an array for an array output."""
    if program.array_output:
        return _names(program).array_type
    return result(program.graph.shapes[program.output], program)


def wrt(program: ir.Program, results: bool = True) -> str:
    """One value per differentiated parameter, shaped like it: gradients (``results``),
    or the tangents a function takes."""
    hint = result if results else of
    return tuple_of(
        [hint(p.shape, program) for p in program.params if p.name in program.wrt]
    )


def arrays(count: int, program: ir.Program) -> str:
    """``count`` arrays (blocks of a Hessian or Jacobian), one or a tuple."""
    return tuple_of([_names(program).array_type] * count)
