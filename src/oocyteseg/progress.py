"""The project's one rich progress bar: description, bar, done/total, extra fields, elapsed, ETA."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def progress_bar(*fields: str, enabled: bool = True) -> Progress:
    """A rich Progress with a text column per task field in `fields` (e.g. "info"); hidden when not `enabled`."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    *(TextColumn(f"{{task.fields[{name}]}}") for name in fields),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), disable=not enabled,
                    transient=False)
