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
