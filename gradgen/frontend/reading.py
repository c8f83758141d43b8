"""Reading a Python file as Python reads it.

``check_model_path(path)`` refuses a path that is no file (before anything is loaded);
``function_source(fn)`` finds the text a function object was defined in;
``read_source(path)`` takes a path and returns the file's text: decoded as a UTF-8 BOM or
a PEP 263 coding line says (UTF-8 otherwise), line ends made ``\\n``. A binary file, an
unknown encoding or bytes that do not decode are a one-line ``GradgenError`` with a hint.
"""

from __future__ import annotations

import inspect
import io
import linecache
import os
import tokenize
import types

from gradgen.errors import GradgenError

ENCODING_HINT = (
    "save the file as UTF-8, or declare its encoding on its first or second line, "
    "as in # -*- coding: latin-1 -*-"
)


def check_model_path(path: str, what: str = "model file") -> None:
    """A one-line error for a model (or other input) path that does not exist or is a
    folder."""
    if not os.path.exists(path):
        raise GradgenError("no such file", path, hint=f"check the path of the {what}")
    if os.path.isdir(path):
        raise GradgenError(f"is a folder, not a {what}", path)


def read_source(path: str) -> str:
    """The text of a Python file as Python reads it: a UTF-8 BOM or a PEP 263 coding
    line gives the encoding (UTF-8 otherwise), line ends become ``\\n``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise GradgenError(f"cannot read the file: {exc.strerror}", path) from None
    if b"\0" in raw:
        raise GradgenError(
            "is a binary file, not Python source", path, hint="give a model's .py file"
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise GradgenError(
            f"cannot read the file: {exc.msg}", path, exc.lineno, ENCODING_HINT
        ) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise GradgenError(
            f"byte 0x{raw[exc.start]:02x} is not valid {encoding} text",
            path,
            line,
            ENCODING_HINT,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def function_source(fn, caller: str = "gradgen.compile") -> tuple[str, str, str]:
    """(the path to show, the path code objects carry, the text) of the file or notebook
    cell a function was defined in: what ``linecache`` holds for it (IPython registers
    each cell there), else what ``inspect`` finds."""
    if not isinstance(fn, types.FunctionType):
        raise GradgenError(f"{caller} needs a Python function, got {type(fn).__name__}")
    real_path = fn.__code__.co_filename
    try:
        text = "".join(linecache.getlines(real_path)) or inspect.getsource(fn)
    except (OSError, TypeError):
        raise GradgenError(
            f"cannot read the source of {fn.__name__}",
            real_path,
            hint="gradgen reads a function's source: define it in a .py file or a "
            "notebook cell, not in python -c or at the interactive prompt",
        ) from None
    try:
        shown = os.path.relpath(real_path)
    except ValueError:
        shown = real_path
    if shown.startswith(".."):
        shown = real_path
    return shown, real_path, text
