"""Errors that reach the user as one line: ``file:line: error: message (hint)``."""

from __future__ import annotations

import contextlib


class GradgenError(Exception):
    """A problem with the user's input, reported without a traceback.

    ``path`` and ``line`` locate it in the user's files (``line`` may be None), ``hint``
    says what to do instead.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def located(self, path: str | None, line: int | None) -> "GradgenError":
        """Fill in a location if none is set yet; returns self."""
        if self.path is None:
            self.path, self.line = path, line
        return self

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}error: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


@contextlib.contextmanager
def written_as(call: str, inner: str):
    """An error of ``inner`` (np.concatenate, np.stack) raised inside, as the model's
    ``call`` that is made of it (np.vstack, np.sum of a list): the message names the call
    the user wrote."""
    try:
        yield
    except GradgenError as exc:
        if exc.message.startswith(inner + " "):
            exc.message = call + exc.message[len(inner) :]
        raise
