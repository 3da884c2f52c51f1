"""Streaming decode, sampling by presentation time, codecs/containers, and damaged videos."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import frame_number, write_video  # noqa: E402

from oocyteseg.errors import OocytesegError
from oocyteseg.io.video import VideoWriter, iter_frames, probe_video, sample_frames

# (suffix, container format, codec): the families labs export (WMV1/2, MPEG-4 part 2, H.264 in ASF).
FORMATS = [(".wmv", "asf", "wmv1"), (".wmv", "asf", "wmv2"), (".wmv", "asf", "msmpeg4"), (".wmv", "asf", "mpeg4"),
           (".wmv", "asf", "libx264"), (".avi", "avi", "mpeg4"), (".mp4", "mp4", "libx264"), (".mov", "mov", "libx264")]


@pytest.mark.parametrize("suffix,fmt,codec", FORMATS, ids=[f"{c}-in-{f}" for _, f, c in FORMATS])
def test_every_frame_decodes_in_order_with_its_time(tmp_path, suffix, fmt, codec):
    path = write_video(tmp_path / f"v{suffix}", 30, fps=10, codec=codec, fmt=fmt)
    frames = list(iter_frames(path))
    assert [f.index for f in frames] == list(range(30))
    assert [frame_number(f.image) for f in frames] == [i % 32 for i in range(30)]
    assert all(abs(f.time_s - f.index / 10) < 2e-3 for f in frames)  # H.264 in ASF: shuffled stamps re-sorted


def test_sampling_picks_the_frame_at_each_second(tmp_path):
    path = write_video(tmp_path / "v.wmv", 50, fps=24, codec="wmv2", fmt="asf")
    frames = list(sample_frames(path, 1.0))
    assert [f.index for f in frames] == [0, 24, 48]
    assert [frame_number(f.image) for f in frames] == [0, 24, 48 % 32]
    assert [round(f.time_s, 3) for f in frames] == [0.0, 1.0, 2.0]
    # ASF keeps milliseconds: 1/3 s is stored as 0.333 and still picks frame 8
    assert [f.index for f in sample_frames(path, 3.0)][:4] == [0, 8, 16, 24]


def test_sampling_all_and_faster_than_the_video(tmp_path):
    path = write_video(tmp_path / "v.mp4", 12, fps=10, codec="libx264", fmt="mp4")
    assert len(list(sample_frames(path, None))) == 12
    assert [f.index for f in sample_frames(path, 40.0)] == list(range(12))  # each frame once
    with pytest.raises(OocytesegError, match="> 0"):
        list(sample_frames(path, 0.0))


def test_variable_frame_rate_samples_by_time_not_index(tmp_path):
    times = [0.0, 0.1, 0.15, 0.5, 0.9, 0.95, 1.3, 1.6, 2.05, 2.1]
    path = write_video(tmp_path / "vfr.mkv", len(times), codec="libx264", fmt="matroska", times=times)
    frames = list(iter_frames(path))
    assert [round(f.time_s, 3) for f in frames] == times
    picked = list(sample_frames(path, 1.0))
    # instant 1 s: 0.95 is nearer than 1.3; instant 2 s: 2.05 is nearer than 1.6
    assert [f.index for f in picked] == [0, 5, 8]
    assert [frame_number(f.image) for f in picked] == [0, 5, 8]


def test_decoding_streams_without_holding_frames(tmp_path):
    path = write_video(tmp_path / "long.avi", 300, fps=25, codec="mpeg4", fmt="avi", h=240, w=320)
    frame_bytes = 240 * 320 * 3
    tracemalloc.start()
    try:
        n = 0
        for frame in iter_frames(path):
            n += 1
            del frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 300
    assert peak < 8 * frame_bytes, f"peak {peak / 1e6:.1f} MB for 300 frames of {frame_bytes / 1e6:.2f} MB"


def test_probe_reports_size_rate_and_duration(tmp_path):
    path = write_video(tmp_path / "v.mp4", 20, fps=10, codec="libx264", fmt="mp4")
    info = probe_video(path)
    assert (info.width, info.height, info.fps, info.codec) == (64, 48, 10.0, "h264")
    assert abs(info.duration_s - 2.0) < 0.15


def test_video_writer_round_trip_keeps_frame_count(tmp_path):
    from video_helpers import frame_image
    for suffix in (".mp4", ".wmv", ".avi", ".mov"):
        with VideoWriter(tmp_path / f"w{suffix}", fps=12) as w:
            for i in range(14):
                w.write(frame_image(i))
        assert [frame_number(f.image) for f in iter_frames(tmp_path / f"w{suffix}")] == list(range(14))


# --- bad inputs: each a one-line OocytesegError naming the file -------------------------------------

def _message(path, func=iter_frames) -> str:
    with pytest.raises(OocytesegError) as info:
        list(func(path))
    assert str(path) in str(info.value) and "Fix:" in str(info.value)
    return str(info.value)


def test_not_a_video(tmp_path):
    bad = tmp_path / "notes.wmv"
    bad.write_text("this is a text file, not a video\n" * 50)
    assert "not a readable video" in _message(bad)
    assert "not a readable video" in _message(bad, probe_video)


def test_missing_video(tmp_path):
    assert "not found" in _message(tmp_path / "nothere.mp4")


def test_image_is_not_a_video(tmp_path):
    from oocyteseg.io.images import write_image
    from video_helpers import frame_image
    write_image(tmp_path / "still.png", frame_image(3))
    (tmp_path / "still.mp4").write_bytes((tmp_path / "still.png").read_bytes())
    msg = _message(tmp_path / "still.mp4")
    assert "video" in msg


@pytest.mark.parametrize("codec,fmt,suffix", [("wmv2", "asf", ".wmv"), ("libx264", "mp4", ".mp4"),
                                              ("mpeg4", "avi", ".avi")])
def test_truncated_video(tmp_path, codec, fmt, suffix):
    good = write_video(tmp_path / f"good{suffix}", 60, fps=10, codec=codec, fmt=fmt, h=96, w=128)
    data = good.read_bytes()
    bad = tmp_path / f"cut{suffix}"
    bad.write_bytes(data[: len(data) // 2])
    assert any(word in _message(bad) for word in ("truncated", "damaged", "not a readable", "zero"))


def test_corrupt_middle_of_video(tmp_path):
    good = write_video(tmp_path / "good.wmv", 60, fps=10, codec="wmv2", fmt="asf", h=96, w=128)
    data = bytearray(good.read_bytes())
    third = len(data) // 3
    data[third:2 * third] = bytes((i * 97 + 13) % 256 for i in range(third))
    bad = tmp_path / "corrupt.wmv"
    bad.write_bytes(bytes(data))
    assert any(word in _message(bad) for word in ("truncated", "damaged", "corrupt"))


def test_zero_frames(tmp_path):
    import av
    path = tmp_path / "empty.avi"
    container = av.open(str(path), "w", format="avi")
    stream = container.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.close()
    assert "zero" in _message(path) or "not a readable" in _message(path)


def _swscale_yuv420p(image):
    import av

    return av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p").to_ndarray()


def test_rgb_to_yuv420p_matches_ffmpegs_conversion_on_smooth_images():
    """BT.601 limited range as swscale's default: within one level on gradients and flat colours."""
    import numpy as np

    from oocyteseg.io.video import rgb_to_yuv420p

    h, w = 48, 64
    grad = np.zeros((h, w, 3), np.uint8)
    grad[..., 0] = np.arange(w) * 255 // (w - 1)
    grad[..., 1] = (np.arange(h) * 255 // (h - 1))[:, None]
    grad[..., 2] = 200 - grad[..., 0] // 2
    for image in (grad, np.full((h, w, 3), (250, 20, 120), np.uint8), np.zeros((h, w, 3), np.uint8)):
        ours, ref = rgb_to_yuv420p(image), _swscale_yuv420p(image)
        assert ours.shape == ref.shape == (h * 3 // 2, w) and ours.dtype == np.uint8
        assert np.abs(ours.astype(int) - ref).max() <= 1
    black, white = rgb_to_yuv420p(np.zeros((2, 2, 3), np.uint8)), rgb_to_yuv420p(np.full((2, 2, 3), 255, np.uint8))
    assert black.ravel()[:4].max() == 16 and white.ravel()[:4].min() == 235  # limited range
    assert set(black.ravel()[4:]) == {128}


def test_rgb_to_yuv420p_takes_the_chroma_of_the_whole_2x2_block():
    """A block of one red and three grey pixels: its chroma is the block's mean colour's, not one pixel's
    (OpenCV's COLOR_RGB2YUV_I420 takes one pixel, which would fringe one-pixel outlines)."""
    import numpy as np

    from oocyteseg.io.video import rgb_to_yuv420p

    for corner in ((0, 0), (0, 1), (1, 0), (1, 1)):
        block = np.full((2, 2, 3), 128, np.uint8)
        block[corner] = (255, 0, 0)
        mean = np.broadcast_to(np.round(block.reshape(4, 3).mean(0)).astype(np.uint8), (2, 2, 3)).copy()
        chroma = rgb_to_yuv420p(block).ravel()[4:].astype(int)
        assert np.abs(chroma - rgb_to_yuv420p(mean).ravel()[4:]).max() <= 1, corner
    red = np.broadcast_to(np.array([255, 0, 0], np.uint8), (2, 2, 3)).copy()  # the one pixel's chroma: far off
    assert np.abs(rgb_to_yuv420p(red).ravel()[4:].astype(int) - rgb_to_yuv420p(mean).ravel()[4:]).max() > 20
