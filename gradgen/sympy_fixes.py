"""A fix to SymPy that gradgen's way of using it needs (written by hand: SymPy has none).

gradgen builds expressions under ``distribute(False)``, so that 2*(yhat - y) stays as
the model wrote it and δ ⊙ (1 - h²) stays as the textbook writes it. In that mode SymPy
no longer distributes a negation either: -(-x - 1) stays -1*(-x - 1). Its functions count
on it: an odd or even function (sin, tanh, cos, erf, Abs, ...) of a sum it can pull a
sign out of, tanh(-x - 1), is rewritten as -tanh(-(-x - 1)), and the argument, still
negative-looking, is turned over again, without end (sympy 1.14; signsimp in Abs too).
SymPy applies its functions inside its own assumption queries (is arccos(t) real?
log(t)'s real part is log(Abs(t))) and whenever an expression is rebuilt, so a model
could fail to compile depending on what SymPy had cached, and on the hash seed.

The negation of a sum SymPy can pull a sign out of is therefore distributed, in every
mode: -(-x - 1) is x + 1, which has no sign to pull out, so the turning over ends there.
Other negations, -(x - 1), and products by other numbers, 2*(yhat - y), keep the mode.
(Switching distribution on around such calls instead would clear SymPy's whole cache at
each switch: SymPy clears it whenever a global parameter changes.)
"""

from __future__ import annotations

import threading

import sympy as sp
from sympy.core.parameters import global_parameters

_add_neg = sp.Add.__neg__
_asking = threading.local()  # could_extract_minus_sign negates the sum itself


def _add_neg_turned(self):
    if global_parameters.distribute or getattr(_asking, "now", False):
        return _add_neg(self)
    _asking.now = True
    try:
        turned = self.could_extract_minus_sign()
    finally:
        _asking.now = False
    return sp.Add(*[-term for term in self.args]) if turned else _add_neg(self)


if not getattr(sp.Add.__neg__, "gradgen_fixed", False):
    _add_neg_turned.gradgen_fixed = True
    sp.Add.__neg__ = _add_neg_turned
