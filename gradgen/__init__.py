"""gradgen: a source-to-source symbolic gradient compiler for NumPy models.

``Array`` annotates model parameters; ``compile(fn)`` compiles a model function in memory.
The command line (``gradgen compile model.py``) writes the generated module to a file.
"""

from .array import Array
from .errors import GradgenError

__version__ = "0.1.0"

__all__ = ["Array", "GradgenError", "compile", "__version__"]


def compile(fn, wrt=None):  # noqa: A001 - the name the model contract gives
    """Compile a model function in memory.

    Returns an object with ``.source`` (the generated module's text) and ``.module`` (the
    imported module with ``f``, ``f_grad``, ``f_value_and_grad`` or ``f_vjp``). ``wrt`` is a
    parameter name, a comma-separated string or a list of names (default: all parameters).
    """
    from .pipeline import (
        compile as _compile,
    )  # deferred: `from gradgen import Array` stays light

    return _compile(fn, wrt)
