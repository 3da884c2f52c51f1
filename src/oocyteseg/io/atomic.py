"""Atomic writes: every output goes to a temporary file in the same folder, then is renamed.

A run interrupted half way therefore never leaves a truncated file behind under the final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oocyteseg.errors import OutputExistsError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_writable(path: str | os.PathLike, overwrite: bool) -> Path:
    """Return `path` as a Path; raise OutputExistsError if it exists and overwrite is False."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds."""
    path = check_writable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; give outputs normal permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write bytes atomically."""
    with atomic_path(path, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(path, text.encode("utf-8"), overwrite)


def write_json(path: str | os.PathLike, obj: Any, overwrite: bool = True) -> Path:
    """Write JSON (indented, UTF-8) atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n", overwrite)


def write_table(df: Any, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write a pandas DataFrame as CSV or Parquet (chosen by suffix) atomically."""
    path = Path(path)
    with atomic_path(path, overwrite) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            raise ValueError(f"{path}: unknown table format {path.suffix!r}; use .csv or .parquet")
    return path
