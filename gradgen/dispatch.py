"""What the tracer dispatches to: the NumPy functions, ufuncs and array methods gradgen
traces, each bound to its implementation on tracers by the operation modules
(``gradgen.ops``) as they are imported, with the line ``gradgen ops`` shows for it.

Takes nothing from gradgen, so the tracer reads these tables without importing the
operations and their calculus; ``gradgen.ops`` fills them (importing it is what makes an
operation traceable).
"""

from __future__ import annotations

FUNCTIONS: dict = {}  # a NumPy function -> its implementation on tracers
NOTES: dict = {}  # a NumPy function (or ufunc) -> its note in `gradgen ops`
SECTIONS: dict = {}  # a NumPy function -> its section in `gradgen ops`
ELEMENTWISE: dict = (
    {}
)  # a ufunc -> the SymPy expression of its value, from its operands
COMPARISONS: dict = {}  # a ufunc -> the SymPy relation
LOGIC: dict = {}  # a ufunc on conditions (np.logical_and) -> the SymPy connective
METHODS: dict = (
    {}
)  # an array method or protocol ("sum", "__getitem__") -> implementation
CREATION: dict = {}  # a NumPy name (np.zeros) -> factory(session) of its traced version
# a CREATION name -> its (section, call, note) in `gradgen ops`, where the default
# ("Creating arrays", "np.<name>", "shapes of integers and dimension names") does not fit
LISTED: dict = {}
STABLE: dict = {}  # a gradgen.functions name -> its implementation on tracers
OPERANDS: dict = {}  # a constant's type (np.ndarray) -> impl(tracer, value): a tracer
REWRITES: dict = {}  # the name of a NumPy call not traced ("np.cbrt") -> what to write


def numpy(*functions, note: str = "", section: str = "Arrays"):
    """Decorator: ``impl`` implements these NumPy functions on tracers."""

    def register(impl):
        for f in functions:
            FUNCTIONS[f] = impl
            NOTES[f] = note
            SECTIONS[f] = section
        return impl

    return register


def method(*names: str):
    """Decorator: ``impl(tracer, ...)`` implements these array methods (``x.sum()``) or
    protocols (``x[k]``, ``x @ y``)."""

    def register(impl):
        for name in names:
            METHODS[name] = impl
        return impl

    return register


def creation(name: str, listed: tuple | None = None):
    """Decorator: ``factory(session)`` gives the traced ``np.<name>``, a function NumPy
    cannot dispatch to a tracer (it takes no array); the trace swaps it in. ``listed``:
    its (section, call, note) in `gradgen ops`, where the default does not fit."""

    def register(factory):
        CREATION[name] = factory
        if listed is not None:
            LISTED[name] = listed
        return factory

    return register


def operand(kind):
    """Decorator: ``impl(tracer, value)`` makes a constant of type ``kind`` (a NumPy
    array) a traced value, when it meets one in an operation."""

    def register(impl):
        OPERANDS[kind] = impl
        return impl

    return register
