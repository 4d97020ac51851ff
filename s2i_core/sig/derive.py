"""Phase 2: scores journal -> records, justifications, QA, and every output file, deterministically.

Everything here is a pure function of (journal rows, config, seed): rows are taken in sorted video order, every
random choice uses an rng seeded by (seed, video, step), and every file is written atomically. So a resumed run
writes the same bytes as an uninterrupted one, and the same config and seed give byte-identical files.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from omegaconf import OmegaConf

from s2i_core.dimensions import BY_NAME, GROUPS
from s2i_core.errors import S2IError
from s2i_core.sig.captions import with_caption
from s2i_core.sig.io import atomic_write_jsonl
from s2i_core.sig.aggregation import Aggregation
from s2i_core.sig.records import validate_record
from s2i_core.sig.rewrite import record_levels, rewrite_all

ROUND = 6  # stored scores; levels are derived from the stored (rounded) values so they always agree
RAW_DIGITS = 6  # significant digits of a stored raw measurement: the last bits of a float differ between CPUs


def _raw(value):
    return None if value is None else float(f"{value:.{RAW_DIGITS}g}")


def _node(cfg, key):
    value = cfg.get(key)
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def build_records(rows: list[dict], cfg, registry, work_dir: Path,
                  captions: dict[str, str] | None = None) -> tuple[list[dict], dict, object]:
    """Records for the ok rows (sorted by video), plus rewrite counts and the fitted level mapper."""
    seed = cfg.seed
    agg = Aggregation.from_config(cfg.aggregation)
    mapper = registry.build("level_mapper", cfg.level_mapper)
    scored = []
    for row in rows:
        dims = {d: round(v["score"], ROUND) for d, v in sorted(row["scores"].items())}
        groups = {g: round(s, ROUND) for g, s in agg.group_scores(dims).items()}
        scored.append((row, dims, groups, round(agg.overall_score(groups), ROUND)))
    columns: dict[str, list[float]] = {}
    for _, dims, groups, overall in scored:
        for key, value in [*dims.items(), *groups.items(), ("overall", overall)]:
            columns.setdefault(key, []).append(value)
    mapper.fit(columns)

    records = []
    for row, dims, groups, overall in scored:
        records.append({
            "video": row["video"], "meta": row["meta"],
            "dimensions": {d: {"score": s, "level": mapper.level(d, s), "raw": _raw(row["scores"][d]["raw"]),
                               "unit": row["scores"][d]["unit"], "group": BY_NAME[d].group,
                               "confidence": row["scores"][d].get("confidence", 1.0)}
                           for d, s in dims.items()},
            "groups": {g: {"score": groups[g], "level": mapper.level(g, groups[g])} for g in GROUPS if g in groups},
            "overall": {"score": overall, "level": mapper.level("overall", overall)},
        })

    template = registry.build("cot_template", cfg.template)
    drafts = [(r["video"], template.justify(r, random.Random(f"{seed}:{r['video']}:template")),
               f"{seed}:{r['video']}:rewrite", record_levels(r)) for r in records]
    rewriter_node = _node(cfg, "rewriter") or {"impl": "identity"}
    rewriter = registry.build("rewriter", rewriter_node)
    texts, rewrite_stats = rewrite_all(rewriter, drafts, work_dir / "rewrites.jsonl", rewriter_node)

    expanders = sorted((name, registry.build("expander", node)) for name, node in cfg.expanders.items())
    in_text = captions is not None and cfg.captions.in_justification
    for r in records:
        r["justification"] = texts[r["video"]]
        if captions and r["video"] in captions:
            r["caption"] = captions[r["video"]]
            if in_text:  # after the rewrite check: the caption is the model's text, not a rating
                r["justification"] = with_caption(r["justification"], r["caption"])
        r["qa"] = [qa for name, ex in expanders
                   for qa in ex.expand(r, random.Random(f"{seed}:{r['video']}:{name}"))]
        problems = validate_record(r)
        if problems:
            raise S2IError(f"internal error: record for {r['video']} breaks the contract: {'; '.join(problems)}")
    return records, rewrite_stats, mapper


def write_outputs(out: Path, records: list[dict], errors: list[dict], cfg, registry) -> list[str]:
    files = ["records.jsonl", "errors.jsonl"]
    atomic_write_jsonl(out / "records.jsonl", records)
    atomic_write_jsonl(out / "errors.jsonl", errors)
    context = {"seed": cfg.seed, "input": str(Path(cfg.input).resolve())}
    for name, node in sorted(cfg.writers.items()):
        files += registry.build("writer", node).write(records, out, context)
    return files


def count_qa(records: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(qa["type"] for r in records for qa in r["qa"]).items()))
