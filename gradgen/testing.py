"""Gradient checks for your own test suite.

    from gradgen.testing import check_grads

    def test_loss_gradients():
        check_grads(loss)                                  # small default sizes
        check_grads(loss, dims={"n": 7}, modes=["jvp", "hvp"], seed=1)
        check_grads(entropy, domains={"p": "0..1"})      # inputs in the model's domain

``check_grads`` compiles the model function in memory, draws random inputs (or takes
``args``), and compares the generated gradient (the VJP for an array result), and the
functions of ``modes``, with central differences along random directions, as ``gradgen
check`` does on the command line.
"""

from __future__ import annotations

from gradgen.checking.check import (
    Report,
    check_target,
    compile_in_memory,
    settle_inputs,
)
from gradgen.checking.finite_differences import RTOL
from gradgen.frontend.model_file import make_target, model_of_function, with_branches
from gradgen.options import parse_dims, parse_modes, parse_wrt

__all__ = ["check_grads", "Report"]


def check_grads(
    fn,
    *,
    dims=None,
    args=None,
    wrt=None,
    modes=None,
    seed=0,
    rtol=RTOL,
    domains=None,
    inputs=None,
) -> Report:
    """Check the code gradgen generates for ``fn``; raise ``AssertionError`` with the table
    of relative errors when a check fails, else return the ``Report``.

    ``dims``: sizes of the dimension names, a dict or ``"n=7,d=3"`` (default: small distinct
    sizes); ``domains``: where to draw parameters from, e.g. ``{"x": "positive", "p":
    "0..1"}`` (also ``"negative"``, ``"nonzero"``, a ``(low, high)`` pair), as ``gradgen
    check --domain``; ``inputs``: values of some parameters by name (the sizes follow from
    them), as ``--inputs``; ``args``: all the arguments to check at instead of random
    ones; ``wrt``: the parameters to differentiate (default all); ``modes``: also check
    ``"jvp"``, ``"hvp"``, ``"hessian"``, ``"jacobian"`` or ``"all"``; ``rtol``: the
    largest relative error that passes.
    """
    model = model_of_function(fn)
    target = make_target(with_branches(fn, model), model)
    wrt = parse_wrt(wrt, "wrt")
    dims = parse_dims(dims) if isinstance(dims, str) else dims
    sizes, domains, inputs = settle_inputs([target], dims, domains, inputs)
    module = compile_in_memory([target], wrt, modes, f"check_grads({fn.__name__})")
    report = check_target(
        target,
        module,
        sizes,
        seed,
        parse_modes(modes),
        wrt,
        args,
        rtol,
        domains,
        inputs,
    )
    if not report.ok:
        raise AssertionError("gradgen.testing.check_grads failed:\n" + report.text())
    return report
