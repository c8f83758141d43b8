"""Text from a model, made safe to put into generated source.

Takes text that came from the user (source lines, file names, commands, names) and returns
it escaped for the place it goes: inside a ``\"\"\"`` docstring (``docstring``) or after a
``#`` (``comment``). Neither can then end the string or the comment early, so nothing in
a model runs when the generated module is imported or called, and the module always
parses. The templates apply these as Jinja filters (``template.environment``) to every piece
of such text, and only there.
"""

from __future__ import annotations

import re

# Quotes that touch another quote, or end the text: three in a row would end a """ string,
# and one at the very end would run into the closing quotes.
_QUOTES = re.compile(r'"(?=")|(?<=")"|"$')


def _escape_unprintable(text: str, keep: str) -> str:
    """Every character Python or an editor could read as a line break or a control
    character (NUL, CR, form feed, U+2028, ...) written as its escape sequence."""
    return "".join(
        ch if ch.isprintable() or ch in keep else ch.encode("unicode_escape").decode()
        for ch in text
    )


def docstring(text: str) -> str:
    """``text`` for the inside of a ``\"\"\"`` docstring: backslashes doubled, runs of
    quotes escaped, control characters as escapes; newlines kept (they are layout)."""
    text = text.replace("\\", "\\\\")
    text = _QUOTES.sub(r"\"", text)
    return _escape_unprintable(text, keep="\n")


def comment(text: str) -> str:
    """``text`` on one comment line: no character in it can start a new line."""
    return _escape_unprintable(text, keep="")
