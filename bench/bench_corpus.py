"""Content check of the teacher on a folder of real clips described by a `corpus.csv`.

    .venv/bin/python bench/bench_corpus.py --corpus ../shared/corpus [--json out.json] [--workers 2]

Scores every clip with the 14 default scorers and the default aggregation, maps scores to levels with the
equal-width mapper, and prints one row per clip (dimensions at poor/bad, overall). From the `condition` column:
clips whose condition starts with "clean" give the false-alarm share (ratings at poor or bad); clips marked
"genuinely degraded" must have their defect at poor/bad and an overall of fair or worse. Which dimensions
count as "the defect" of a degraded clip is read from the condition text (blur, shake, dark, compressed,
resolution, raindrops); a user's corpus may add a `defects` column (`;`-separated dimension names) instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# words of a degraded clip's condition -> dimensions any of which should carry the defect
DEFECT_WORDS = {
    "motion blur": ("motion_blur", "sharpness"), "shake": ("stability",), "shaky": ("stability",),
    "dark": ("exposure",), "exposure jumps": ("flicker", "exposure"), "compressed": ("compression",),
    "blocking": ("compression",), "low-bitrate": ("compression", "sharpness", "resolution"),
    "low resolution": ("resolution", "sharpness"), "204x360": ("resolution", "sharpness"),
    "raindrops": ("sharpness",), "blur parts": ("sharpness",),
}
BAD_LEVELS = ("bad", "poor")
# the corpus README names three more degraded clips than its condition column marks as such
README_DEGRADED = "07:compression/sharpness/resolution,29:resolution/sharpness,30:sharpness"


def defects_of(row: dict) -> tuple[str, ...]:
    if row.get("defects"):
        return tuple(d.strip() for d in row["defects"].split(";") if d.strip())
    text = (row["condition"] + " " + row["content"]).lower()
    return tuple(sorted({d for word, dims in DEFECT_WORDS.items() if word in text for d in dims}))


def score_one(path: str) -> dict:
    import cv2

    cv2.setNumThreads(1)
    from s2i_core.registry import load_registry
    from s2i_core.scoring import sampling_for, score_clip
    from s2i_core.sig.aggregation import Aggregation
    from s2i_core.video import decode_clip

    registry = load_registry()
    scorers = [registry.build("scorer", n) for n, e in registry.entries("scorer").items() if e.spec.default]
    mapper = registry.build("level_mapper", "equal_width")
    start = time.process_time()
    result = score_clip(scorers, decode_clip(path, sampling_for(scorers)))
    agg = Aggregation()
    dims = {d: r.score for d, r in result.items()}
    groups = agg.group_scores(dims)
    overall = agg.overall_score(groups)
    return {"dimensions": {d: {"score": round(r.score, 4), "raw": round(r.raw, 5), "level": mapper.level(d, r.score),
                               "confidence": round(getattr(r, "confidence", 1.0), 3)} for d, r in result.items()},
            "groups": {g: {"score": round(s, 4), "level": mapper.level(g, s)} for g, s in groups.items()},
            "overall": {"score": round(overall, 4), "level": mapper.level("overall", overall)},
            "cpu_s": round(time.process_time() - start, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--json", default="")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated clip number prefixes (dev)")
    parser.add_argument("--degraded", default=README_DEGRADED,
                        help="more degraded clips and their defects: NN:dim/dim,NN:dim (number prefix of the file)")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    folder = Path(args.corpus)
    rows = list(csv.DictReader(open(folder / "corpus.csv")))
    if args.only:
        rows = [r for r in rows if r["file"].split("_")[0] in args.only.split(",")]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(score_one, [str(folder / r["file"]) for r in rows]))
    table = Table(title="teacher on the corpus: dimensions at poor/bad, overall", show_lines=False)
    for col in ("clip", "kind", "poor/bad dimensions", "tech", "aes", "overall", "check"):
        table.add_column(col)
    clean_ratings = clean_bad = 0
    degraded_ok = degraded_n = 0
    per_dim: dict[str, int] = {}
    extra = dict(item.split(":") for item in args.degraded.split(",") if item)
    for row, res in zip(rows, results):
        cond = row["condition"].lower()
        number = row["file"].split("_")[0]
        if number in extra:
            row = {**row, "defects": extra[number].replace("/", ";")}
        kind = ("clean" if cond.startswith("clean") else
                "degraded" if "genuinely degraded" in cond or number in extra else "hard")
        bad = [f"{d}={v['level'][0]}{v['score']:.2f}" for d, v in res["dimensions"].items() if v["level"] in BAD_LEVELS]
        check = ""
        if kind == "clean":
            clean_ratings += len(res["dimensions"])
            clean_bad += len(bad)
            for d, v in res["dimensions"].items():
                if v["level"] in BAD_LEVELS:
                    per_dim[d] = per_dim.get(d, 0) + 1
            check = "ok" if not bad else f"{len(bad)} false alarm(s)"
        elif kind == "degraded":
            wanted = defects_of(row)
            hit = [d for d in wanted if res["dimensions"].get(d, {}).get("level") in BAD_LEVELS]
            overall_ok = res["overall"]["level"] in ("bad", "poor", "fair")
            degraded_n += 1
            degraded_ok += bool(hit) and overall_ok
            check = ("ok" if hit and overall_ok else "MISSED") + f" (wants {'/'.join(wanted)})"
        table.add_row(row["file"][:28], kind, " ".join(bad), f"{res['groups']['technical']['score']:.2f}",
                      f"{res['groups']['aesthetic']['score']:.2f}",
                      f"{res['overall']['score']:.2f} {res['overall']['level']}", check)
    console = Console(width=200)
    console.print(table)
    share = clean_bad / clean_ratings if clean_ratings else float("nan")
    console.print(f"clean clips: {clean_bad}/{clean_ratings} ratings at poor/bad = {share:.1%} "
                  f"(by dimension: {dict(sorted(per_dim.items()))}); degraded clips flagged: {degraded_ok}/{degraded_n}; "
                  f"CPU s per clip: median {sorted(r['cpu_s'] for r in results)[len(results) // 2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": dict(zip([r["file"] for r in rows], results)),
                                               "false_alarm_share": share, "degraded_flagged": degraded_ok,
                                               "degraded": degraded_n}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
