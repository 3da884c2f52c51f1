"""Predicted masks of a video, stored losslessly in chunks: masks/chunk_00000.npz, chunk_00001.npz, ...

Each chunk is a standard NumPy .npz (zip, deflate level 1: fast, ~2 KB per 480x640 frame) with
arrays `masks` (n, H, W) uint8 class ids, `frame_index` (n,) int64 and `time_s` (n,) float64.
The writer holds at most one chunk in memory, so memory does not grow with the video's length;
each chunk is written atomically, so an interrupted run never leaves a truncated chunk.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path

CHUNK_GLOB = "chunk_*.npz"


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], level: int = 1) -> Path:
    """Write arrays as a deflate-compressed .npz (readable by np.load) atomically, at `level`."""
    with atomic_path(path, overwrite=True) as tmp, zipfile.ZipFile(
            tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, arr in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    return Path(path)


class MaskChunkWriter:
    """Append masks one frame at a time; every `chunk_frames` frames become one chunk file.

    Args:
        folder: where the chunk files go (created).
        chunk_frames: frames per chunk (64 frames of 480x640 = 19.7 MB of buffer).
    """

    def __init__(self, folder: str | os.PathLike, chunk_frames: int = 64):
        if chunk_frames < 1:
            raise ValueError("chunk_frames must be >= 1")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.chunk_frames = chunk_frames
        self._buf: np.ndarray | None = None
        self._index = np.zeros(chunk_frames, np.int64)
        self._time = np.zeros(chunk_frames, np.float64)
        self._n = 0
        self.chunks_written = 0
        self.frames_written = 0

    def write(self, frame_index: int, time_s: float, mask: np.ndarray) -> None:
        """Buffer one mask (H, W) uint8; flush the chunk when it is full."""
        if self._buf is None:
            self._buf = np.empty((self.chunk_frames, *mask.shape), np.uint8)
        elif mask.shape != self._buf.shape[1:]:
            raise ValueError(f"mask shape {mask.shape} differs from the video's {self._buf.shape[1:]}")
        self._buf[self._n] = mask
        self._index[self._n], self._time[self._n] = frame_index, time_s
        self._n += 1
        if self._n == self.chunk_frames:
            self.flush()

    def flush(self) -> None:
        """Write the buffered masks (if any) as the next chunk file."""
        if self._n == 0 or self._buf is None:
            return
        n = self._n
        write_npz(self.folder / f"chunk_{self.chunks_written:05d}.npz",
                  {"masks": self._buf[:n], "frame_index": self._index[:n], "time_s": self._time[:n]})
        self.chunks_written += 1
        self.frames_written += n
        self._n = 0

    def close(self) -> None:
        """Flush the last, partial chunk."""
        self.flush()


def chunk_files(folder: str | os.PathLike) -> list[Path]:
    """The chunk files of a mask folder in order."""
    folder = Path(folder)
    files = sorted(folder.glob(CHUNK_GLOB))
    if not files:
        raise OocytesegError("no mask chunks found", folder, "run `oocyteseg analyze` on the video first")
    return files


def iter_mask_chunks(folder: str | os.PathLike) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(frame_index (n,), time_s (n,), masks (n, H, W)) per chunk, in frame order; one chunk in memory."""
    for path in chunk_files(folder):
        try:
            with np.load(path) as z:
                yield z["frame_index"], z["time_s"], z["masks"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise OocytesegError(f"unreadable mask chunk ({type(exc).__name__})", path,
                                 "re-run `oocyteseg analyze --overwrite` on this video") from exc


def iter_masks(folder: str | os.PathLike) -> Iterator[tuple[int, float, np.ndarray]]:
    """(frame_index, time_s, mask) for every stored frame, in order."""
    for index, times, masks in iter_mask_chunks(folder):
        for i, t, m in zip(index, times, masks):
            yield int(i), float(t), m


def read_masks(folder: str | os.PathLike, frame_indices: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored masks of the given frame indices (those present), reading chunk by chunk."""
    wanted = set(int(i) for i in frame_indices)
    found: dict[int, np.ndarray] = {}
    for index, _, masks in iter_mask_chunks(folder):
        for j in np.flatnonzero(np.isin(index, list(wanted))):
            found[int(index[j])] = masks[j].copy()
        if len(found) == len(wanted):
            break
    return found
