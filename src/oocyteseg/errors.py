"""The project's own error: one line that names the file, what is wrong and what to do."""

from __future__ import annotations

from os import PathLike


class OocytesegError(Exception):
    """A user-facing error printed by the CLI as a single line (never a traceback).

    Args:
        message: what is wrong.
        path: the file or folder concerned, if any.
        fix: what the user should do about it.
    """

    def __init__(self, message: str, path: str | PathLike | None = None, fix: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.path:
            parts.append(f"{self.path}:")
        parts.append(self.message.rstrip("."))
        text = " ".join(parts)
        if self.fix:
            text += f". Fix: {self.fix.rstrip('.')}."
        else:
            text += "."
        return " ".join(text.split())


class OutputExistsError(OocytesegError):
    """An output already exists and --overwrite was not given."""

    def __init__(self, path: str | PathLike):
        super().__init__("output already exists", path, "pass --overwrite to replace it, or choose another --out")
