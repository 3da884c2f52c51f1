"""Content sniffing and file-name handling of uploads."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from oocyteseg.web.sniff import AVI, JPEG, MOV, MP4, PNG, TIFF, WMV, display_name, is_unsafe_name, sniff_media


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def test_real_files_are_recognised(phantom_video):
    assert sniff_media(phantom_video.read_bytes()[:16]) == MP4
    assert sniff_media(_encoded("PNG")[:16]) == PNG
    assert sniff_media(_encoded("JPEG")[:16]) == JPEG
    assert sniff_media(_encoded("TIFF")[:16]) == TIFF


def test_video_signatures():
    assert sniff_media(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00") == MOV
    assert sniff_media(b"\x00\x00\x00\x08wide\x00\x00\x00\x00") == MOV
    assert sniff_media(bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")) == WMV
    assert sniff_media(b"RIFF\x00\x00\x00\x00AVI LIST") == AVI
    assert sniff_media(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None  # RIFF, but audio
    for junk in (b"", b"\x00" * 16, b"MZ\x90\x00\x03\x00\x00\x00", b"%PDF-1.7\n", b"#!/bin/sh\nrm -rf /", b"PK\x03\x04"):
        assert sniff_media(junk) is None


@given(st.binary(max_size=16))
def test_sniff_never_raises(head):
    result = sniff_media(head)
    assert result is None or result.kind in ("video", "image")


def test_unsafe_names():
    for name in ("../../etc/passwd", "a/b.mp4", "..\\x.mp4", "/abs.mp4", "..", ".", "", "C:x.mp4", "..hidden", "a\x00.mp4"):
        assert is_unsafe_name(name), name
    for name in ("case01.mp4", "ICSI 2024-01-02 (1).wmv", "é.avi", "a..b.mp4"):
        assert not is_unsafe_name(name), name


@given(st.text(max_size=300))
def test_display_name_is_printable_and_short(name):
    shown = display_name(name)
    assert shown and len(shown) <= 120
    assert all(ch.isprintable() for ch in shown)
