"""The reproduction over content folds: `s2i reproduce -m 'held_out=[a,b],[c,d],...'` runs one job per held-out
set of contents, and `s2i summary input=<that folder>` folds them into one table.

With a handful of contents, one held-out set is a small sample of content: which contents are held out moves
a model's SRCC as much as its seed does. Each job's variants already carry their mean over model seeds; here
each variant gets its SRCC per fold, the mean over folds and the standard deviation over folds, so a
difference between two rows can be read against the spread that the choice of content causes.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

from s2i_core.bench.reproduce import LABELS, VARIANTS


def collect(root: str | Path) -> list[dict]:
    """Every reproduction job under `root` (a folder holding a results.json written by `s2i reproduce`):
    {job, held_out, test_clips, variants: {variant: mean SRCC over its seeds}}, in job order."""
    from s2i_core.bench.summary import job_sort_key, job_overrides

    root = Path(root)
    jobs = []
    for path in sorted(root.rglob("results.json"), key=lambda p: job_sort_key(p.parent)):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict) or "label_agreement" not in data:
            continue  # not a reproduction's results
        held = next((o.split("=", 1)[1] for o in job_overrides(path.parent) if o.startswith("held_out=")), "")
        jobs.append({"job": path.parent.relative_to(root).as_posix() or ".",
                     "held_out": held or ", ".join(data.get("test_sources", [])),
                     "test_clips": data.get("test_clips", 0),
                     "variants": {v: s["srcc"] for v, s in data["variants"].items()}})
    return jobs


def rows(jobs: list[dict]) -> list[dict]:
    """One row per variant: the SRCC of each fold (mean over seeds), the mean and sd over folds."""
    found = {v for job in jobs for v in job["variants"]}
    variants = [v for v in VARIANTS if v in found] + sorted(found - set(VARIANTS))
    out = []
    for variant in variants:
        values = [job["variants"].get(variant, math.nan) for job in jobs]
        done = [v for v in values if not math.isnan(v)]
        out.append({"variant": variant, "model": LABELS.get(variant, variant), "folds": len(done),
                    "srcc": statistics.fmean(done) if done else math.nan,
                    "srcc_sd": statistics.stdev(done) if len(done) > 1 else math.nan,
                    "per_fold": values})
    return out


def markdown(jobs: list[dict], table: list[dict]) -> str:
    def num(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.3f}"

    names = " | ".join(f"fold {i + 1}" for i in range(len(jobs)))
    lines = ["Folds (held-out contents, clips): " + "; ".join(
        f"{i + 1}: {job['held_out']} ({job['test_clips']})" for i, job in enumerate(jobs)), "",
        f"| model | folds | SRCC (mean ± sd over folds) | {names} |", "|---|---|---|" + "---|" * len(jobs)]
    for r in table:
        lines.append(f"| {r['model']} | {r['folds']} | {num(r['srcc'])} ± {num(r['srcc_sd'])} | "
                     + " | ".join(num(v) for v in r["per_fold"]) + " |")
    return "\n".join(lines) + "\n"


def write(jobs: list[dict], table: list[dict], out: Path, *, title: str = "") -> list[Path]:
    """summary_folds.md and summary_folds.csv of `table` (`rows(jobs)`) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary_folds.md").write_text((f"# {title}\n\n" if title else "") + markdown(jobs, table))
    with open(out / "summary_folds.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["variant", "folds", "srcc", "srcc_sd", *(f"fold{i + 1}" for i in range(len(jobs)))])
        writer.writerows([r["variant"], r["folds"], r["srcc"], r["srcc_sd"], *r["per_fold"]] for r in table)
    return [out / "summary_folds.md", out / "summary_folds.csv"]
