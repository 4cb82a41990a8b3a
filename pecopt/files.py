"""Reading a user's text file, with every operating-system and encoding failure turned into
one plain sentence (:class:`FileProblem`) that the caller wraps into its own error
(:class:`~pecopt.errors.ScenarioError` for scenario files,
:class:`~pecopt.errors.DataError` for data files).

Text files are UTF-8; a leading byte-order mark (as some spreadsheet programs write) is
accepted and dropped. Other encodings (Latin-1, Windows-1252, UTF-16) are refused with the
line and column of the first byte that is not UTF-8, rather than guessed: a wrong guess
would silently turn ``ä`` into ``Ã¤`` in a column or asset name.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["FileProblem", "decode_utf8", "read_bytes", "read_utf8"]

_BOM = b"\xef\xbb\xbf"


class FileProblem(Exception):
    """A file cannot be read as text; ``line`` and ``column`` (1-based) when known."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        super().__init__(problem)


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``.

    Raises
    ------
    FileProblem
        Not found (also a symlink to nothing), a folder, a symlink loop, no permission, or
        any other operating-system error, in words.
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileProblem(_os_problem(path, exc)) from None


def _os_problem(path: Path, exc: OSError) -> str:
    code = exc.errno
    if code == errno.ENOENT:
        if path.is_symlink():
            return "is a symbolic link to a file that does not exist"
        return "file not found"
    if code == errno.EISDIR or path.is_dir():
        return "is a folder, not a file"
    if code == errno.ELOOP:
        return "symbolic link loop (the link points, directly or not, at itself)"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied (the file cannot be read)"
    if code == errno.ENOTDIR:
        return "file not found (a part of the path is a file, not a folder)"
    return f"cannot be read: {exc.strerror or exc}"


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 (a leading byte-order mark is dropped).

    Raises
    ------
    FileProblem
        At the first byte that is not UTF-8, with its line and column (1-based, the column
        counted in characters).
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        guess = "UTF-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "Latin-1 or Windows-1252"
        raise FileProblem(
            f"not UTF-8: byte 0x{data[start]:02x} at line {line}, column {column} "
            f"(byte offset {start}; perhaps {guess}); save the file as UTF-8",
            line,
            column,
        ) from None


def read_utf8(path: Path) -> str:
    """Read ``path`` as UTF-8 text (see :func:`read_bytes` and :func:`decode_utf8`)."""
    return decode_utf8(read_bytes(path))
