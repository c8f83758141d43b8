"""A fix to SymPy that gradgen's way of using it needs (written by hand: SymPy has none).

gradgen builds expressions under ``distribute(False)``, so that 2*(yhat - y) stays as
the model wrote it rather than 2*yhat - 2*y. In that mode SymPy's ``Abs`` of a sum whose
sign it can pull out, ``Abs(-x - 0.91)``, recurses without end (sympy 1.14): ``signsimp``
writes it as -(-(-x - 0.91)), expecting -(-x - 0.91) to distribute to x + 0.91, which it
no longer does. SymPy forms such an Abs inside its own assumption queries (is
arccos(t) real? log(t)'s real part is log(Abs(t))), so a model with a log or an arccos
of a select could not be compiled, and whether it could depended on the hash seed.

``Abs.eval`` is therefore run with distribution on. Where distribution is on already
(SymPy's default, any code outside gradgen's compile) nothing changes.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.parameters import global_parameters

_abs_eval = sp.Abs.eval.__func__


def _abs_eval_distributed(cls, arg):
    # only a sum starts it (a product's factors come back here); Abs is asked often
    if global_parameters.distribute or not isinstance(arg, sp.Add):
        return _abs_eval(cls, arg)
    global_parameters.distribute = True
    try:
        return _abs_eval(cls, arg)
    finally:
        global_parameters.distribute = False


if not getattr(sp.Abs.eval, "gradgen_fixed", False):
    _abs_eval_distributed.gradgen_fixed = True
    sp.Abs.eval = classmethod(_abs_eval_distributed)
