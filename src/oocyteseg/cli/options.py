"""Option values shared by several commands, checked into one-line errors."""

from __future__ import annotations

from oocyteseg.data.preprocess import TTA_MODES, check_tta
from oocyteseg.errors import OocytesegError


def tta_option(text: str) -> str:
    """`--tta` value: one of `data.preprocess.TTA_MODES`, else a one-line error listing them."""
    try:
        return check_tta(text.strip().lower())
    except ValueError:
        raise OocytesegError(f"unknown --tta {text!r}", fix=f"use one of {', '.join(TTA_MODES)}") from None


def crop_option(text: str) -> tuple[int, int] | None:
    """`--crop` value: `HxW` (e.g. 320x384) or `none` (whole frames), else a one-line error."""
    text = text.strip().lower()
    if text in ("none", "0", ""):
        return None
    parts = text.split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise OocytesegError(f"--crop must be HEIGHTxWIDTH (e.g. 320x384) or none, got {text!r}")
    return int(parts[0]), int(parts[1])
