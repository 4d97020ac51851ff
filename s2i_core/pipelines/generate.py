"""Score every video under `input` and write the S2I instruction dataset into `output`."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.dimensions import BY_NAME, GROUPS
from s2i_core.errors import ConfigError, VideoError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import load_registry
from s2i_core.video import decode_clip

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".3gp", ".y4m"}


def find_videos(root: Path) -> list[Path]:
    if not root.is_dir():
        raise ConfigError(f"input {str(root)!r} is not a folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def run(cfg: DictConfig) -> int:
    registry = load_registry()
    scorers = [registry.build("scorer", node) for node in cfg.scorers.values()]
    if not scorers:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    mapper = registry.build("level_mapper", cfg.level_mapper)
    template = registry.build("cot_template", cfg.template)
    root, out = Path(cfg.input), Path(job_output_dir(cfg))
    out.mkdir(parents=True, exist_ok=True)
    records, errors = [], []
    for path in find_videos(root):
        rel = path.relative_to(root).as_posix()
        try:
            clip = decode_clip(path)
        except VideoError as exc:
            errors.append({"video": rel, "error": exc.kind, "message": str(exc)})
            continue
        dims = {}
        for scorer in scorers:
            s = scorer(clip)
            dims[scorer.dimension] = {"score": s.score, "level": mapper.level(scorer.dimension, s.score),
                                      "raw": s.raw, "group": BY_NAME[scorer.dimension].group}
        groups = {}
        for g in GROUPS:
            members = [d["score"] for d in dims.values() if d["group"] == g]
            if members:
                score = sum(members) / len(members)
                groups[g] = {"score": score, "level": mapper.level(g, score)}
        overall_score = sum(v["score"] for v in groups.values()) / len(groups)
        overall = {"score": overall_score, "level": mapper.level("overall", overall_score)}
        text = template.justify({k: v["level"] for k, v in dims.items()}, groups, overall,
                                random.Random(f"{cfg.seed}:{rel}"))
        records.append({"video": rel, "meta": clip.meta.as_record(), "dimensions": dims, "groups": groups,
                        "overall": overall, "justification": text, "qa": []})
    for name, rows in (("records.jsonl", records), ("errors.jsonl", errors)):
        with open(out / name, "w") as fh:
            fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    manifest = {"config": OmegaConf.to_container(cfg, resolve=True),
                "counts": {"videos": len(records) + len(errors), "records": len(records), "errors": len(errors)}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    print(f"{len(records)} records, {len(errors)} errors -> {os.fspath(out)}")
    return 1 if errors else 0
