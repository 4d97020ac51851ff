"""Checks on whole clips rather than ladders: false alarms on clean footage, agreement with human MOS.

* **Content check** (`clean=DIR`): every clip in the folder is taken to be free of technical damage (a warm
  grade, a night scene, a static shot or screen content is content, not a defect). Each is scored and its
  scores mapped to levels with the `equal_width` mapper; every dimension rated `poor` or `bad` is a false
  alarm, reported with the clip, the dimension and its score.
* **Labels** (`labels=CSV`, columns `video,mos`): SRCC and PLCC (VQEG logistic fit, as VQA papers report it)
  of every dimension, group and overall score with the people's mean opinion scores.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s2i_core.errors import ConfigError
from s2i_core.scoring import score_video
from s2i_core.validate.agreement import summary_keys

ALARM_LEVELS = ("bad", "poor")


@dataclass
class Scored:
    video: str  # as the user named it (relative to the folder or the CSV)
    path: Path
    values: dict[str, float]  # dimensions, groups and overall
    error: str = ""  # why the clip could not be scored ("" when it was)


def score_videos(items: list[tuple[str, Path]], scorers, aggregation, *, workers: int = 2,
                 progress=None, what: str = "clips") -> list[Scored]:
    """Score every (name, path) with the scorers and pool them; a clip that fails is kept with its error."""
    def one(item: tuple[str, Path]) -> Scored:
        name, path = item
        row = score_video(path, scorers)
        if not row["ok"]:
            return Scored(name, path, {}, row["message"])
        dims = {d: node["score"] for d, node in row["scores"].items()}
        groups = aggregation.group_scores(dims)
        return Scored(name, path, {**dims, **groups, "overall": aggregation.overall_score(groups)})

    task = progress.add_task(what, total=len(items)) if progress else None
    out = []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for scored in pool.map(one, items):
            out.append(scored)
            if progress:
                progress.advance(task)
    return out


def false_alarms(scored: list[Scored], dimensions: list[str], aggregation, mapper) -> dict:
    """Share of `poor`/`bad` ratings on clean clips, per dimension, per group/overall and in total."""
    ok = [s for s in scored if not s.error]
    keys = summary_keys(dimensions, aggregation)
    mapper.fit({k: [s.values[k] for s in ok] for k in keys})
    alarms, per_key = [], {}
    for key in keys:
        levels = [mapper.level(key, s.values[key]) for s in ok]
        flagged = [(s, lv) for s, lv in zip(ok, levels) if lv in ALARM_LEVELS]
        per_key[key] = {"rated": len(ok), "alarms": len(flagged), "share": len(flagged) / len(ok) if ok else 0.0}
        if key in dimensions:
            alarms += [{"video": s.video, "dimension": key, "score": round(s.values[key], 4), "level": lv}
                       for s, lv in flagged]
    rated = len(ok) * len(dimensions)
    total = sum(per_key[d]["alarms"] for d in dimensions)
    return {"clips": len(ok), "failed": [{"video": s.video, "error": s.error} for s in scored if s.error],
            "ratings": rated, "alarms": total, "share": total / rated if rated else 0.0,
            "clips_with_alarm": len({a["video"] for a in alarms}),
            "keys": per_key, "list": sorted(alarms, key=lambda a: (a["score"], a["video"]))}


def read_labels(csv_path: str, input_dir: str = "") -> list[tuple[str, Path, float]]:
    """(video, path, mos) rows of a `video,mos` CSV; videos relative to the CSV's folder, else to `input`."""
    path = Path(csv_path)
    if not path.is_file():
        raise ConfigError(f"labels={csv_path!r} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"video", "mos"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"labels={csv_path!r}: needs the columns video,mos (missing: {sorted(missing)}; "
                              f"found: {reader.fieldnames})")
        rows = list(reader)
    roots = [path.parent] + ([Path(input_dir)] if input_dir and Path(input_dir).is_dir() else [])
    out, lost = [], []
    for line, row in enumerate(rows, start=2):
        try:
            mos = float(row["mos"])
        except (TypeError, ValueError):
            raise ConfigError(f"labels={csv_path!r} line {line}: mos {row['mos']!r} is not a number") from None
        name = row["video"].strip()
        found = next((r / name for r in roots if (r / name).is_file()), None)
        if Path(name).is_absolute() and Path(name).is_file():
            found = Path(name)
        if found is None:
            lost.append(name)
        else:
            out.append((name, found, mos))
    if lost:
        raise ConfigError(f"labels={csv_path!r}: {len(lost)} video(s) not found next to the CSV"
                          f"{' or in input' if input_dir else ''}: {', '.join(lost[:5])}"
                          f"{' ...' if len(lost) > 5 else ''}")
    if len(out) < 3:
        raise ConfigError(f"labels={csv_path!r}: {len(out)} labelled video(s); correlations need at least 3")
    return out


def label_agreement(scored: list[Scored], mos: dict[str, float], keys: list[str],
                    extra: dict[str, dict[str, float]] | None = None) -> dict:
    """SRCC/PLCC of every key (and of each extra signed reference, e.g. -BRISQUE) with MOS."""
    from s2i_core.bench.metrics import compute

    ok = [s for s in scored if not s.error]
    y = np.array([mos[s.video] for s in ok])
    table = {}
    for key in keys:
        m = compute([s.values[key] for s in ok], y)
        table[key] = {"srcc": m["srcc"], "plcc": m["plcc"]}
    for name, values in (extra or {}).items():
        m = compute([values[s.video] for s in ok], y)
        table[name] = {"srcc": m["srcc"], "plcc": m["plcc"]}
    return {"videos": len(ok), "failed": [{"video": s.video, "error": s.error} for s in scored if s.error],
            "metrics": table}
