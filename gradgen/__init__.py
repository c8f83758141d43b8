"""gradgen: a source-to-source symbolic gradient compiler for NumPy models.

``Array`` annotates model parameters; ``compile(fn)`` compiles a model function in memory;
``grad(f)``, ``value_and_grad(f)``, ``vjp``, ``jvp``, ``hvp``, ``hessian`` and
``jacobian`` (``transforms.py``) wrap it as JAX's transforms do, compiled on the first call
through the compile cache. The command line (``gradgen compile model.py``) writes the
generated module to a file.
"""

from gradgen.array import Array
from gradgen.errors import GradgenError

__version__ = "0.1.0"

TRANSFORMS = ("grad", "value_and_grad", "vjp", "jvp", "hvp", "hessian", "jacobian")

__all__ = ["Array", "GradgenError", "compile", "__version__", *TRANSFORMS]


def __getattr__(name: str):
    """The transforms, imported on first use: ``from gradgen import Array`` stays light."""
    if name in TRANSFORMS:
        from gradgen import transforms

        return getattr(transforms, name)
    raise AttributeError(f"module 'gradgen' has no attribute {name!r}")


def compile(
    fn, wrt=None, modes=None, checks=True, target="numpy"
):  # noqa: A001 - the contract's name
    """Compile a model function in memory.

    Returns an object with ``.source`` (the generated module's text) and ``.module`` (the
    imported module with ``f``, ``f_grad``, ``f_value_and_grad`` or ``f_vjp``). ``wrt`` is a
    parameter name, a comma-separated string or a list of names (default: all parameters).

    ``modes`` (a list, or a comma-separated string) adds functions named and returning
    as JAX's: ``"jvp"``: ``f_jvp(*args, tangents)`` -> ``(value, value_dot)``;
    ``"hvp"``: ``f_hvp(*args, v)`` -> H v, shaped like the gradient; ``"hessian"``:
    ``f_hessian(*args)``, blocks H_A_B of shape A.shape + B.shape (scalar results);
    ``"jacobian"``: ``f_jacobian(*args)``, J_A of shape f.shape + A.shape (array
    results); ``"all"``: every mode that applies. ``tangents`` and ``v`` hold one array
    per differentiated parameter.

    Each generated function checks its arguments first (shapes against the annotations,
    integers made floats); ``checks=False`` leaves the checks out.

    ``target="array-api"`` writes a module whose functions take their array namespace
    from their arguments (``array_api_compat``) and call only the Array API standard's
    functions: they run on NumPy, CuPy, PyTorch, JAX or Dask arrays, in every mode.
    """
    from gradgen.process import stack_budget

    with stack_budget():  # from here: the first call imports the pipeline
        from gradgen.pipeline import (
            compile as _compile,
        )  # deferred: `from gradgen import Array` stays light

        return _compile(fn, wrt, modes, checks, target)
