"""The SQLite job store: add, get, list, update, queue order, restart recovery."""

from __future__ import annotations

import threading

import pytest

from oocyteseg.web.storage import Job, JobStore, new_job_id


def _job(name: str, created: float) -> Job:
    return Job(id=new_job_id(), name=name, kind="video", input_path=f"/x/{name}", created=created)


def test_add_get_list_update(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    a, b = store.add(_job("a.mp4", 1.0)), store.add(_job("b.mp4", 2.0))
    assert store.get(a.id) == a and store.get("0" * 32) is None
    assert [j.name for j in store.list()] == ["b.mp4", "a.mp4"]
    store.update(a.id, state="done", progress=1.0, summary={"frames": 3, "nested": [1, None]},
                 artefacts=["features.csv"])
    got = store.get(a.id)
    assert got.state == "done" and got.summary == {"frames": 3, "nested": [1, None]} and got.artefacts == ["features.csv"]
    assert "input_path" not in got.public()
    assert JobStore(tmp_path / "jobs.sqlite").get(b.id) == b  # persisted in the file


def test_queue_order_and_restart(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    first, second = store.add(_job("1", 1.0)), store.add(_job("2", 2.0))
    assert store.next_queued().id == first.id
    store.update(first.id, state="running", started=5.0, progress=0.4)
    assert store.next_queued().id == second.id
    assert store.count("running") == 1 and store.count("queued") == 1
    assert store.requeue_interrupted() == 1
    again = store.get(first.id)
    assert again.state == "queued" and again.progress == 0 and again.started is None


def test_rejects_unknown_fields_and_states(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.add(_job("a", 1.0))
    with pytest.raises(KeyError, match="valid"):
        store.update(job.id, input_path="/etc/passwd")
    with pytest.raises(ValueError, match="unknown job state"):
        store.update(job.id, state="paused")


def test_concurrent_writers(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    jobs = [store.add(_job(str(i), float(i))) for i in range(4)]

    def bump(job: Job) -> None:
        for k in range(25):
            store.update(job.id, progress=k / 24)

    threads = [threading.Thread(target=bump, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(store.get(j.id).progress == 1.0 for j in jobs)
