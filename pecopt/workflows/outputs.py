"""Atomic output folders: everything is written to a temporary sibling, then renamed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pecopt.errors import DataError


def check_out_dir(out: Path) -> None:
    """Fail early (exit 2) when ``out`` cannot become an output folder."""
    if out.exists() and not out.is_dir():
        raise DataError(out, "--out", "exists and is a file, not a folder")
    parent = out.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise DataError(out, "--out", "its parent is a file")


@contextlib.contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out`` in one rename.

    On any error the temporary folder is removed and ``out`` is left as it was.
    """
    check_out_dir(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = parent / f".{out.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
