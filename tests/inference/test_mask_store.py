"""Chunked mask storage: round trip, chunk boundaries, bounded buffer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oocyteseg.errors import OocytesegError
from oocyteseg.inference.mask_store import MaskChunkWriter, chunk_files, iter_masks, read_masks


def _mask(i: int, shape=(6, 7)) -> np.ndarray:
    return ((np.arange(shape[0] * shape[1]).reshape(shape) + i) % 4).astype(np.uint8)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 23), chunk=st.integers(1, 8))
def test_round_trip_any_chunking(tmp_path_factory, n, chunk):
    folder = tmp_path_factory.mktemp("m")
    w = MaskChunkWriter(folder, chunk)
    for i in range(n):
        w.write(10 + i, i / 8, _mask(i))
    w.close()
    assert len(chunk_files(folder)) == -(-n // chunk)
    back = list(iter_masks(folder))
    assert [b[0] for b in back] == [10 + i for i in range(n)]
    assert np.allclose([b[1] for b in back], [i / 8 for i in range(n)])
    assert all(np.array_equal(m, _mask(i)) for i, (_, _, m) in enumerate(back))


def test_chunks_are_written_as_they_fill_and_buffer_is_one_chunk(tmp_path):
    w = MaskChunkWriter(tmp_path, chunk_frames=3)
    for i in range(7):
        w.write(i, float(i), _mask(i))
        assert w._buf.shape[0] == 3  # never more than one chunk held in memory
        assert len(list(tmp_path.glob("chunk_*.npz"))) == (i + 1) // 3  # flushed as soon as full
    w.close()
    assert len(chunk_files(tmp_path)) == 3
    with np.load(tmp_path / "chunk_00002.npz") as z:
        assert z["masks"].shape == (1, 6, 7) and z["masks"].dtype == np.uint8


def test_read_selected_frames_and_errors(tmp_path):
    w = MaskChunkWriter(tmp_path / "m", 2)
    for i in range(5):
        w.write(i, float(i), _mask(i))
    w.close()
    got = read_masks(tmp_path / "m", [1, 4, 99])
    assert sorted(got) == [1, 4] and np.array_equal(got[4], _mask(4))
    with pytest.raises(OocytesegError, match="no mask chunks"):
        chunk_files(tmp_path / "empty")
    (tmp_path / "m" / "chunk_00000.npz").write_bytes(b"broken")
    with pytest.raises(OocytesegError, match="unreadable mask chunk"):
        list(iter_masks(tmp_path / "m"))
