"""What an uploaded file is, decided by its first bytes (never by its name), and safe display names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ASF (WMV) header object GUID 75B22630-668E-11CF-A6D9-00AA0062CE6C as stored on disk.
_ASF_GUID = bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")
# Classic QuickTime files may start with one of these atoms instead of `ftyp`.
_QT_ATOMS = (b"moov", b"mdat", b"wide")
HEAD_BYTES = 16  # enough for every signature below


@dataclass(frozen=True)
class MediaType:
    """A recognised upload: kind ('video' or 'image'), the suffix it is stored under, its MIME type."""

    kind: str
    suffix: str
    mime: str


MP4 = MediaType("video", ".mp4", "video/mp4")
MOV = MediaType("video", ".mov", "video/quicktime")
WMV = MediaType("video", ".wmv", "video/x-ms-wmv")
AVI = MediaType("video", ".avi", "video/x-msvideo")
PNG = MediaType("image", ".png", "image/png")
JPEG = MediaType("image", ".jpg", "image/jpeg")
TIFF = MediaType("image", ".tif", "image/tiff")

ACCEPTED = "MP4, MOV, WMV, AVI videos and PNG, JPEG, TIFF images"


def sniff_media(head: bytes) -> MediaType | None:
    """The media type of a file from its first HEAD_BYTES bytes, or None if not an accepted type."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return MOV if head[8:12] == b"qt  " else MP4
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return MOV
    if head.startswith(_ASF_GUID):
        return WMV
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return AVI
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


def is_unsafe_name(name: str) -> bool:
    """True for names that try to reach another folder: separators, '..', drive letters, NUL."""
    return (not name or "/" in name or "\\" in name or "\x00" in name or name in (".", "..")
            or name.startswith("..") or bool(re.match(r"^[A-Za-z]:", name)))


def display_name(name: str, max_len: int = 120) -> str:
    """A file name fit to show on the page and in the database (never used as a path)."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # drop control characters
    name = re.sub(r"\s+", " ", name).strip()
    return name[:max_len] or "unnamed"
