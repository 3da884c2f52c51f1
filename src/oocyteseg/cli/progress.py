"""A rich progress display shared by the CLI commands."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from oocyteseg.progress import progress_bar


@contextlib.contextmanager
def progress_callback() -> Iterator[Callable[[str, int, int], None]]:
    """Yield `update(task_name, done, total)`; one bar per task name, shown while the block runs."""
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def update(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield update
