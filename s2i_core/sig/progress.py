"""A rich progress bar with rate (videos/s) and ETA; a no-op when disabled."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def progress_bar(show: bool, label: str, total: int, completed: int = 0):
    if not show:
        yield lambda: None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.2f} videos/s" if speed else "-- videos/s", style="progress.data.speed")

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda: bar.advance(task)
