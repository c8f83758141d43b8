"""Gradient checks for your own test suite.

    from gradgen.testing import check_grads

    def test_loss_gradients():
        check_grads(loss)                                  # small default sizes
        check_grads(loss, dims={"n": 7}, modes=["jvp", "hvp"], seed=1)

``check_grads`` compiles the model function in memory, draws random inputs (or takes
``args``), and compares the generated gradient (the VJP for an array result), and the
functions of ``modes``, with central differences along random directions, as ``gradgen
check`` does on the command line.
"""

from __future__ import annotations

from .checking import Report, check_target, choose_dims, compile_in_memory, parse_dims
from .modes import parse_modes
from .numeric import RTOL
from .options import parse_wrt
from .source import make_target, model_of_function, with_branches

__all__ = ["check_grads", "Report"]


def check_grads(
    fn, *, dims=None, args=None, wrt=None, modes=None, seed=0, rtol=RTOL
) -> Report:
    """Check the code gradgen generates for ``fn``; raise ``AssertionError`` with the table
    of relative errors when a check fails, else return the ``Report``.

    ``dims``: sizes of the dimension names, a dict or ``"n=7,d=3"`` (default: small distinct
    sizes); ``args``: the arguments to check at instead of random ones; ``wrt``: the
    parameters to differentiate (default all); ``modes``: also check ``"jvp"``, ``"hvp"``,
    ``"hessian"``, ``"jacobian"`` or ``"all"``; ``rtol``: the largest relative error that
    passes.
    """
    model = model_of_function(fn)
    target = make_target(with_branches(fn, model), model)
    wrt = parse_wrt(wrt, "wrt")
    sizes = choose_dims([target], parse_dims(dims) if isinstance(dims, str) else dims)
    module = compile_in_memory([target], wrt, modes, f"check_grads({fn.__name__})")
    report = check_target(
        target, module, sizes, seed, parse_modes(modes), wrt, args, rtol
    )
    if not report.ok:
        raise AssertionError("gradgen.testing.check_grads failed:\n" + report.text())
    return report
