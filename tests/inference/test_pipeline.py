"""The threaded pipeline: order, errors from any stage, bounded queues, early stop."""

from __future__ import annotations

import threading
import time

import pytest

from oocyteseg.inference.pipeline import Parallel, pipelined


def test_results_in_order_through_all_stages():
    out = list(pipelined(range(50), [lambda x: x * 2, lambda x: x + 1], maxsize=2))
    assert out == [2 * x + 1 for x in range(50)]


def test_stages_run_in_other_threads_concurrently():
    """Overlap shown by events, not by wall-clock time: the second stage holds item 0 until the first stage
    has started item 1, which only a pipeline whose stages run side by side can do."""
    names = set()
    first_took_next = threading.Event()

    def first(x):
        names.add(threading.current_thread().name)
        if x == 1:
            first_took_next.set()
        return x

    def second(x):
        names.add(threading.current_thread().name)
        if x == 0 and not first_took_next.wait(10):
            raise AssertionError("stage 1 did not start item 1 while stage 2 held item 0: no overlap")
        return x

    assert list(pipelined(range(20), [first, second], maxsize=2)) == list(range(20))
    assert threading.current_thread().name not in names and len(names) == 2


@pytest.mark.parametrize("where", ["source", "stage"])
def test_errors_are_reraised_in_the_caller(where):
    def source():
        yield 1
        if where == "source":
            raise ValueError("bad video")
        yield 2

    def stage(x):
        if where == "stage" and x == 2:
            raise ValueError("bad frame")
        return x

    with pytest.raises(ValueError, match="bad"):
        list(pipelined(source(), [stage]))


def test_source_never_runs_far_ahead_and_is_closed_on_early_stop():
    produced = []
    closed = threading.Event()

    def source():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    stream = pipelined(source(), [lambda x: x, lambda x: x], maxsize=2)
    first = [next(stream) for _ in range(3)]
    time.sleep(0.2)
    # 3 queues of 2 items, one item in each of 2 stages and the source: bounded, not 10,000
    assert first == [0, 1, 2] and len(produced) <= 3 + 3 * 2 + 3 + 1
    stream.close()
    assert closed.wait(2.0)
    before = len(threading.enumerate())
    assert before < 50


@pytest.mark.parametrize("workers,items", [(2, 40), (3, 40), (4, 2), (2, 0)])
def test_parallel_stage_keeps_the_order(workers, items):
    """Items finish out of order (later ones sleep less) but leave in the input's order, every one once."""
    def slow_then_fast(x):
        time.sleep(0.004 * ((items - x) % 5))
        return x * 10

    out = list(pipelined(range(items), [Parallel(slow_then_fast, workers), lambda y: y + 1], maxsize=2))
    assert out == [10 * x + 1 for x in range(items)]


def test_parallel_workers_hold_items_at_the_same_time():
    """Shown by events, not timing: the worker with item 0 waits until another worker has started item 1."""
    started_1 = threading.Event()
    names = set()

    def stage(x):
        names.add(threading.current_thread().name)
        if x == 1:
            started_1.set()
        if x == 0 and not started_1.wait(10):
            raise AssertionError("item 1 was not started while item 0 was in work: workers do not overlap")
        return x

    assert list(pipelined(range(10), [Parallel(stage, 2)], maxsize=2)) == list(range(10))
    assert len(names) == 2


@pytest.mark.parametrize("where", ["source", "stage"])
def test_parallel_stage_errors_are_reraised(where):
    def source():
        yield from range(5)
        if where == "source":
            raise ValueError("bad video")
        yield from range(5, 10)

    def stage(x):
        if where == "stage" and x == 6:
            raise ValueError("bad frame")
        return x

    seen = []
    with pytest.raises(ValueError, match="bad"):
        for x in pipelined(source(), [Parallel(stage, 3), lambda x: x], maxsize=2):
            seen.append(x)
    assert seen == list(range(len(seen))) and len(seen) <= 6  # in order, up to the failure


def test_parallel_stage_stops_early_without_leaking_threads():
    stream = pipelined(range(10_000), [Parallel(lambda x: x, 2)], maxsize=2)
    assert [next(stream) for _ in range(5)] == list(range(5))
    stream.close()
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name.startswith("pipeline-")]


def test_parallel_needs_a_worker():
    with pytest.raises(ValueError, match="worker"):
        Parallel(lambda x: x, 0)
