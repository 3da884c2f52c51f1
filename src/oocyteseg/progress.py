"""The project's one rich progress bar: description, bar, done/total, extra fields, elapsed, ETA."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

# What long-running library functions call to report progress: `progress(task_name, done, total)`.
ProgressFn = Callable[[str, int, int], None]


def progress_bar(*fields: str, enabled: bool = True) -> Progress:
    """A rich Progress with a text column per task field in `fields` (e.g. "info"); hidden when not `enabled`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    *(TextColumn(f"{{task.fields[{name}]}}") for name in fields),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), disable=not enabled,
                    transient=False)
