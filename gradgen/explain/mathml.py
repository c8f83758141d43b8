"""Formulas as MathML, which browsers lay out natively: the project's LaTeX, converted.

Takes one LaTeX formula (a side of an equation from ``latex.derive`` or a row of
``explain``) and returns a ``<math>`` element as text, through the ``latex2mathml``
library. Upright words (``\\mathrm{loss}``), which it writes one letter at a time, become
one identifier each, so that a screen reader says the word.
"""

from __future__ import annotations

import re

_UPRIGHT_LETTER = r'<mi mathvariant="normal">([^<]{1,9})</mi>'
_UPRIGHT_WORD = re.compile(f"(?:{_UPRIGHT_LETTER}){{2,}}")


def _word(match: re.Match) -> str:
    letters = re.findall(_UPRIGHT_LETTER, match.group(0))
    return f"<mi>{''.join(letters)}</mi>"  # several letters: upright by default


def to_mathml(latex: str, block: bool = False) -> str:
    """A ``<math>`` element for the LaTeX formula ``latex``."""
    from latex2mathml.converter import convert  # deferred: only reports need it

    text = convert(latex, display="block" if block else "inline")
    return _UPRIGHT_WORD.sub(_word, text)
