"""A small pipeline of threads joined by bounded queues: source -> stage 1 -> ... -> the caller.

Decoding (PyAV), inference (ONNX Runtime / torch) and most of the measuring and writing (OpenCV,
zlib, the video encoder) release the GIL, so running the stages in their own threads keeps both
cores busy: while frame t is segmented, frame t+1 is decoded and frame t-1 measured and written.
The queues hold at most `maxsize` items each, so memory stays bounded whatever the input length.
An exception in any stage stops every thread and is re-raised in the caller, with its traceback.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

_END = object()
_POLL_S = 0.05


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Put unless the pipeline is stopping; returns False when it is."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event) -> Any:
    while not stop.is_set():
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
    return _END


def _feed(source: Iterable[Any], out: queue.Queue, stop: threading.Event) -> None:
    iterator = iter(source)
    try:
        for item in iterator:
            if not _put(out, item, stop):
                return
        _put(out, _END, stop)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, which re-raises it
        _put(out, _Failed(exc), stop)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator over a video container closes the file even when stopped early


def _work(fn: Callable[[Any], Any], inp: queue.Queue, out: queue.Queue, stop: threading.Event) -> None:
    while True:
        item = _get(inp, stop)
        if item is _END or isinstance(item, _Failed):
            _put(out, item, stop)
            return
        try:
            result = fn(item)
        except BaseException as exc:  # noqa: BLE001
            _put(out, _Failed(exc), stop)
            return
        if not _put(out, result, stop):
            return


def pipelined(source: Iterable[Any], stages: Sequence[Callable[[Any], Any]], maxsize: int = 4,
              name: str = "pipeline") -> Iterator[Any]:
    """Yield `stages[-1](...stages[0](item))` for every item of `source`, in order, stages in threads.

    Args:
        source: iterated in its own thread (e.g. a video decoder).
        stages: functions applied in turn, each in its own thread.
        maxsize: capacity of each queue between two threads.
    """
    stop = threading.Event()
    queues = [queue.Queue(maxsize) for _ in range(len(stages) + 1)]
    threads = [threading.Thread(target=_feed, args=(source, queues[0], stop), name=f"{name}-source", daemon=True)]
    threads += [threading.Thread(target=_work, args=(fn, queues[i], queues[i + 1], stop),
                                 name=f"{name}-stage{i + 1}", daemon=True) for i, fn in enumerate(stages)]
    for t in threads:
        t.start()
    try:
        while True:
            item = _get(queues[-1], stop)
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
