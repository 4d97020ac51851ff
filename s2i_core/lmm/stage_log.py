"""What a training stage leaves beside its checkpoints: the `metrics.jsonl` log (one fsync'd row per optimizer
step, trimmed back to the checkpoint a resumed run starts from), the loss plot and the progress bar."""

from __future__ import annotations

import json
import os

from s2i_core.errors import ConfigError
from s2i_core.sig.io import atomic_write_text


def append(path: str, row: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def keep_until(path: str, step: int) -> None:
    """Rows logged after the last checkpoint of a killed run are replayed on resume: drop them."""
    rows = [r for r in read(path) if r["step"] <= step]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def read(path: str) -> list[dict]:
    """The rows of a metrics log; a torn last line (the process was killed mid-write) is left out."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise ConfigError(f"{path}:{number}: not a JSON line; the log is damaged") from None
    return rows


def plot_losses(output_dir: str, stages: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.5), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        rows = read(os.path.join(output_dir, f"stage{stage}", "metrics.jsonl"))
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows])
        ax.set(title=f"stage {'I' * stage}", xlabel="step", ylabel="loss")
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "loss.png"), dpi=100)
    plt.close(fig)


def progress(label: str, total: int, start: int, show: bool):
    """A context manager yielding `advance(loss)`, called once per optimizer step."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextmanager
    def bar():
        if not show:
            yield lambda loss: None
            return
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeRemainingColumn(),
            transient=False,
        ) as prog:
            task = prog.add_task(label, total=total, completed=start, loss="-")
            yield lambda loss: prog.update(task, advance=1, loss=f"{loss:.4f}")

    return bar()
