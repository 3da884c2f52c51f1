"""A small pipeline of threads joined by bounded queues: source -> stage 1 -> ... -> the caller.

Decoding (PyAV), inference (ONNX Runtime / torch) and most of the measuring and writing (OpenCV,
zlib, the video encoder) release the GIL, so running the stages in their own threads keeps both
cores busy: while frame t is segmented, frame t+1 is decoded and frame t-1 measured and written.
The queues hold at most `maxsize` items each, so memory stays bounded whatever the input length.
An exception in any stage stops every thread and is re-raised in the caller, with its traceback.

A stage given as `Parallel(fn, workers)` runs in `workers` threads at once, each on its own item; its
results still leave in the input's order (a worker whose item finished early waits for its turn). On a
2-core CPU two single-threaded ONNX Runtime runs side by side analyse 14 % more frames per second than one
run with two intra-op threads (docs/performance.md), presumably because each operator of a two-thread run
waits for whichever thread lost its core to another stage.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Parallel:
    """A pipeline stage run by `workers` threads at once (results keep the input's order)."""

    fn: Callable[[Any], Any]
    workers: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"a parallel stage needs >= 1 worker, got {self.workers}")


class _Turnstile:
    """Hands out sequence numbers as items are taken and lets results out in that order."""

    def __init__(self, workers: int):
        self.lock = threading.Lock()  # taking an item and numbering it is one step
        self.turn = threading.Condition()
        self.taken = 0
        self.next_out = 0
        self.running = workers

    def wait_turn(self, seq: int, stop: threading.Event) -> bool:
        with self.turn:
            while self.next_out != seq:
                if stop.is_set():
                    return False
                self.turn.wait(_POLL_S)
        return True

    def done(self) -> None:
        with self.turn:
            self.next_out += 1
            self.turn.notify_all()


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


def _work_parallel(fn: Callable[[Any], Any], inp: queue.Queue, out: queue.Queue, stop: threading.Event,
                   gate: _Turnstile) -> None:
    """One of the workers of a `Parallel` stage; the last one to see the end passes it on."""
    while True:
        with gate.lock:
            item = _get(inp, stop)
            end = item is _END or isinstance(item, _Failed)
            if end:
                gate.running -= 1
                last = gate.running == 0
            else:
                seq = gate.taken
                gate.taken += 1
        if end:
            # the others have put all their results when the last one gets here
            _put(out if last else inp, item, stop)  # else: back for the next worker
            return
        try:
            result: Any = fn(item)
        except BaseException as exc:  # noqa: BLE001
            stop_after = True
            result = _Failed(exc)
        else:
            stop_after = False
        if not gate.wait_turn(seq, stop):
            return
        ok = _put(out, result, stop)
        gate.done()
        if stop_after or not ok:
            return


def pipelined(source: Iterable[Any], stages: Sequence[Callable[[Any], Any] | Parallel], maxsize: int = 4,
              name: str = "pipeline") -> Iterator[Any]:
    """Yield `stages[-1](...stages[0](item))` for every item of `source`, in order, stages in threads.

    Args:
        source: iterated in its own thread (e.g. a video decoder).
        stages: functions applied in turn, each in its own thread, or `Parallel(fn, workers)` for a stage
            run by several threads at once.
        maxsize: capacity of each queue between two threads.
    """
    stop = threading.Event()
    queues = [queue.Queue(maxsize) for _ in range(len(stages) + 1)]
    threads = [threading.Thread(target=_feed, args=(source, queues[0], stop), name=f"{name}-source", daemon=True)]
    for i, stage in enumerate(stages):
        if isinstance(stage, Parallel):
            gate = _Turnstile(stage.workers)
            threads += [threading.Thread(target=_work_parallel, args=(stage.fn, queues[i], queues[i + 1], stop, gate),
                                         name=f"{name}-stage{i + 1}-{k + 1}", daemon=True)
                        for k in range(stage.workers)]
        else:
            threads.append(threading.Thread(target=_work, args=(stage, queues[i], queues[i + 1], stop),
                                            name=f"{name}-stage{i + 1}", daemon=True))
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
