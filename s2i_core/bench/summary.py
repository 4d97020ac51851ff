"""Collect every job's metrics.json under a multirun folder into one table: Markdown, CSV and a bar plot."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from s2i_core.errors import ConfigError

COLUMNS = ("job", "overrides", "videos", "scored", "failed", "srcc", "plcc", "plcc_raw", "krcc", "rmse")


def _job_sort_key(path: Path):
    name = path.parent.name
    return (0, int(name), "") if name.isdigit() else (1, 0, str(path))


def job_overrides(job_dir: Path) -> list[str]:
    """The command-line overrides of a Hydra job (from `.hydra/overrides.yaml`), else those in its metrics."""
    path = job_dir / ".hydra" / "overrides.yaml"
    if path.is_file():
        import yaml

        return [str(o) for o in (yaml.safe_load(path.read_text()) or [])]
    return []


def collect(root: str | Path) -> list[dict]:
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"input {str(root)!r} is not a folder (point it at a multirun output folder)")
    rows = []
    for path in sorted(root.rglob("metrics.json"), key=_job_sort_key):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not JSON ({exc})") from None
        overrides = job_overrides(path.parent) or data.get("overrides", [])
        name = data.get("job") or path.parent.relative_to(root).as_posix() or "."
        rows.append({"job": name, "overrides": " ".join(overrides),
                     **{k: data.get(k, math.nan) for k in COLUMNS[2:]}})
    if not rows:
        raise ConfigError(f"no metrics.json under {str(root)!r}: did the jobs finish?")
    # Overrides every job shares (paths, presets) say nothing about how the jobs differ: keep the rest.
    common = set.intersection(*(set(r["overrides"].split()) for r in rows))
    for r in rows:
        r["overrides"] = " ".join(o for o in r["overrides"].split() if o not in common)
    return rows


def _fmt(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_fmt(r[c]).replace("|", "\\|") for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write(rows: list[dict], out: Path, *, title: str = "") -> list[Path]:
    from s2i_core.bench import plots

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text((f"# {title}\n\n" if title else "") + markdown(rows))
    with open(out / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    plots.bars([r["job"] for r in rows], {m: [float(r[m]) for r in rows] for m in ("srcc", "plcc")},
               out / "summary.png", title=title)
    return [out / "summary.md", out / "summary.csv", out / "summary.png"]


def print_table(rows: list[dict], title: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None)
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("job", "overrides") else "right")
    for r in rows:
        table.add_row(*(_fmt(r[c]) for c in COLUMNS))
    Console(width=max(Console().width, 140)).print(table)
