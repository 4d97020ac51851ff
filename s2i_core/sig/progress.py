"""Progress with rate (videos/s) and ETA: a rich bar on a terminal, a plain line every `every_s` seconds in a log
(a cluster job's stdout is no terminal, and a 100K-video run must still say how far it is); no-op when disabled."""

from __future__ import annotations

import time
from contextlib import contextmanager


@contextmanager
def progress_bar(show: bool, label: str, total: int, completed: int = 0, every_s: float = 30.0):
    if not show:
        yield lambda: None
        return
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        advance, state = _log_lines(console, label, total, completed, every_s)
        yield advance
        console.print(f"{label}: {state['done']}/{total} done", highlight=False)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.2f} videos/s" if speed else "-- videos/s", style="progress.data.speed")

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda: bar.advance(task)


def _log_lines(console, label: str, total: int, completed: int, every_s: float):
    start = last = time.monotonic()
    state = {"done": completed, "new": 0, "last": last}

    def advance() -> None:
        state["done"] += 1
        state["new"] += 1
        now = time.monotonic()
        if now - state["last"] >= every_s:
            state["last"] = now
            rate = state["new"] / max(1e-9, now - start)
            eta = (total - state["done"]) / rate if rate else float("inf")
            console.print(f"{label}: {state['done']}/{total} ({rate:.2f} videos/s, ETA {_hms(eta)})",
                          highlight=False)

    return advance, state


def _hms(seconds: float) -> str:
    if seconds == float("inf"):
        return "--"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
