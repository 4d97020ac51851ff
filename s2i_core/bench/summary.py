"""Collect every job's metrics.json under a multirun folder into one table: Markdown, CSV and a bar plot."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from s2i_core.errors import ConfigError

COLUMNS = ("job", "status", "overrides", "videos", "scored", "failed", "srcc", "plcc", "plcc_raw", "krcc",
           "rmse")
VALUES = COLUMNS[3:]


def job_sort_key(job_dir: Path):
    """Numbered multirun jobs (0, 1, ..., 10) in number order, then named folders by path."""
    name = job_dir.name
    return (0, int(name), "") if name.isdigit() else (1, 0, str(job_dir))


def job_overrides(job_dir: Path) -> list[str]:
    """The command-line overrides of a Hydra job (from `.hydra/overrides.yaml`)."""
    path = job_dir / ".hydra" / "overrides.yaml"
    if path.is_file():
        import yaml

        return [str(o) for o in (yaml.safe_load(path.read_text()) or [])]
    return []


def job_dirs(root: Path) -> list[Path]:
    """Every job folder: one with a metrics.json, or one Hydra started (`.hydra/`) that wrote none."""
    found = {p.parent for p in root.rglob("metrics.json")}
    found |= {p.parent.parent for p in root.rglob(".hydra/overrides.yaml")}
    return sorted((d for d in found if not any(part.startswith(".") for part in d.relative_to(root).parts)),
                  key=job_sort_key)


def collect(root: str | Path) -> list[dict]:
    """One row per job; a job that wrote no metrics (it crashed, or is still running) is a row saying so."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"input {str(root)!r} is not a folder (point it at a multirun output folder)")
    rows = []
    for job_dir in job_dirs(root):
        path, data, status = job_dir / "metrics.json", {}, "ok"
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: not JSON ({exc})") from None
        else:
            status = "no metrics.json"
        name = data.get("job") or job_dir.relative_to(root).as_posix() or "."
        rows.append({"job": name, "status": status, "overrides": " ".join(job_overrides(job_dir)),
                     **{k: data.get(k, math.nan) for k in VALUES}})
    if not rows:
        raise ConfigError(f"no job folders (metrics.json or .hydra/) under {str(root)!r}")
    # Overrides every job shares (paths, presets) say nothing about how the jobs differ: keep the rest.
    common = set.intersection(*(set(r["overrides"].split()) for r in rows))
    for r in rows:
        r["overrides"] = " ".join(o for o in r["overrides"].split() if o not in common)
    return rows


METRICS = ("srcc", "plcc", "plcc_raw", "krcc", "rmse")
MEAN_COLUMNS = ("job", "overrides", "seeds", *(f"{m}{part}" for m in METRICS for part in ("", "_sd")))


def over_seeds(rows: list[dict]) -> list[dict]:
    """Jobs that differ only in `seed=` folded into one row: mean and sample sd of each metric over the seeds
    that wrote metrics. Empty when no two jobs differ only in their seed (nothing to fold)."""
    import statistics

    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        rest = " ".join(o for o in r["overrides"].split() if not o.startswith("seed="))
        groups.setdefault((r["job"], rest), []).append(r)
    if all(len(members) < 2 for members in groups.values()):
        return []
    out = []
    for (job, rest), members in groups.items():
        done = [m for m in members if m["status"] == "ok"]
        row = {"job": job, "overrides": rest, "seeds": len(done)}
        for metric in METRICS:
            values = [float(m[metric]) for m in done if not math.isnan(float(m[metric]))]
            row[metric] = statistics.fmean(values) if values else math.nan
            row[f"{metric}_sd"] = statistics.stdev(values) if len(values) > 1 else math.nan
        out.append(row)
    return out


def _fmt(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def markdown(rows: list[dict], columns: tuple[str, ...] = COLUMNS) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r[c]).replace("|", "\\|") for c in columns) + " |" for r in rows]
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
    files = [out / "summary.md", out / "summary.csv", out / "summary.png"]
    folded = over_seeds(rows)
    if folded:  # the same jobs under several seeds: mean ± sd says which differences outlast the seed
        heading = f"# {title} (mean and sd over seeds)\n\n" if title else ""
        (out / "summary_seeds.md").write_text(heading + markdown(folded, MEAN_COLUMNS))
        with open(out / "summary_seeds.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MEAN_COLUMNS)
            writer.writeheader()
            writer.writerows(folded)
        files += [out / "summary_seeds.md", out / "summary_seeds.csv"]
    return files


def print_table(rows: list[dict], title: str = "", columns: tuple[str, ...] = COLUMNS) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None)
    for col in columns:
        table.add_column(col, justify="left" if col in ("job", "status", "overrides") else "right")
    for r in rows:  # escaped: rich would read `scorers=[exposure]` as markup and drop the brackets
        table.add_row(*(escape(_fmt(r[c])) for c in columns))
    Console(width=max(Console().width, 140)).print(table)
