"""One ablation job, top to bottom: SIG data from the unlabelled pool (and/or a labelled set) -> progressive
tuning -> scoring held-out videos against MOS. The sub-steps run the real `generate` and `train` recipes on
configs composed from their own primary configs plus this job's overrides, so an ablation can never drift
from what `s2i generate` and `s2i train` do.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from omegaconf import OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import compose_config
from s2i_core.sig import manifest as dataset_manifest
from s2i_core.sig.io import read_jsonl
from s2i_core.versions import resolved_versions

_PLAIN = re.compile(r"[\w./:+\-@%$*?|]+")


def as_overrides(node) -> list[str]:
    """Nested config node -> Hydra override strings: {stage1: {enabled: false}} -> ['stage1.enabled=false']."""
    if node is None:
        return []
    container = OmegaConf.to_container(node, resolve=True) if not isinstance(node, dict) else node
    out: list[str] = []

    def literal(value) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (list, tuple)):
            return "[" + ",".join(literal(v) for v in value) + "]"
        text = str(value)
        return text if _PLAIN.fullmatch(text) else "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and value:
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        else:
            out.append(f"{prefix}={literal(value)}")

    walk("", container)
    return out


def write_labeled(items, folder: Path, mapper) -> Path:
    """Overall-rating instruction items from labelled videos (MOS min-max scaled to [0, 1], then the level
    mapper `mapper`), in the `s2i generate` layout so `s2i train` reads them like SIG data."""
    from s2i_core.prompts import SCORE_QUESTION, score_answer

    present = [i for i in items if i.path.is_file()]
    if not present:
        raise ConfigError(f"labelled set: none of its {len(items)} videos exists")
    low, high = min(i.mos for i in present), max(i.mos for i in present)
    rows = []
    for item in present:
        level = mapper.level("overall", (item.mos - low) / (high - low) if high > low else 0.5)
        video = str(item.path.resolve())
        rows.append({"id": f"{item.key}#labeled", "video": video, "videos": [video], "conversations": [
            {"from": "human", "value": f"<video>\n{SCORE_QUESTION}"},
            {"from": "gpt", "value": score_answer(level)}]})
    _write_data(folder, {1: rows, 2: rows})
    return folder


def merge_data(parts: list[Path], folder: Path) -> Path:
    """One training folder from several `s2i generate`-layout folders (video paths made absolute)."""
    stages: dict[int, list[dict]] = {1: [], 2: []}
    for part in parts:
        names = [f"instructions/stage{s}.jsonl" for s in stages
                 if (part / "instructions" / f"stage{s}.jsonl").is_file()]
        root = dataset_manifest.verify(part, names, "data").get("input", str(part))
        for stage, rows in stages.items():
            path = part / "instructions" / f"stage{stage}.jsonl"
            for row in read_jsonl(path, "instruction file") if path.is_file() else []:
                row["video"] = os.path.join(root, row["video"])
                row["videos"] = [row["video"]]
                rows.append(row)
    _write_data(folder, stages)
    return folder


def _write_data(folder: Path, stages: dict[int, list[dict]]) -> None:
    (folder / "instructions").mkdir(parents=True, exist_ok=True)
    for stage, rows in stages.items():
        (folder / "instructions" / f"stage{stage}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    counts = {f"stage{s}": len(r) for s, r in stages.items()}
    dataset_manifest.write(folder, {"input": "/", "counts": counts, "versions": resolved_versions()},
                           [f"instructions/stage{s}.jsonl" for s in stages])


def train_config(cfg, data: Path, registry):
    """The job's `train` config. Its seed is also the init seed of a model built from config (a tiny one), so
    the grid's seeds vary the initialisation as well as the data order, as `s2i reproduce` does."""
    return compose_config("train", [f"data={data}", f"seed={cfg.seed}", f"lmm.seed={cfg.seed}",
                                    *as_overrides(cfg.train), *cfg.extra.train], registry)


def run_job(cfg, out: Path, registry, *, job: str = "") -> dict:
    """generate -> train -> score; writes `metrics.json` (scoring metrics + what the job trained on) in `out`."""
    from s2i_core.bench import scoring
    from s2i_core.bench.sources import lmm_predictor
    from s2i_core.lmm.trainer import train
    from s2i_core.pipelines.generate import generate

    out.mkdir(parents=True, exist_ok=True)
    seed = cfg.seed
    parts, info = [], {"job": job, "seed": seed}
    if cfg.use_pool:
        cache = [f"score_cache={Path(cfg.score_cache).resolve()}"] if cfg.score_cache else []
        gen_cfg = compose_config("generate", [f"input={cfg.pool}", f"seed={seed}", *cache,
                                              *as_overrides(cfg.generate), *cfg.extra.generate], registry)
        manifest = generate(gen_cfg, registry, out / "sig", progress=False)
        info["sig_records"] = manifest["counts"]["records"]
        parts.append(out / "sig")
    if cfg.labeled:
        labeled = registry.build("dataset", cfg.labeled).items()
        # Equal-width bins: the labelled set's own distribution must not be flattened into quantiles.
        parts.append(write_labeled(labeled, out / "labeled", registry.build("level_mapper", "equal_width")))
        info["labeled_videos"] = len(labeled)
    if not parts:
        raise ConfigError("use_pool=false and no `labeled` set: this job has no training data")
    data = parts[0] if len(parts) == 1 else merge_data(parts, out / "data")
    trained = train(train_config(cfg, data, registry), str(out / "train"), registry)
    items = registry.build("dataset", cfg.dataset).items()
    scored, failed = scoring.predict_all(items, lmm_predictor(trained["model_dir"], registry), batch=cfg.batch,
                                         label=f"scoring {job or 'job'}")
    summary = scoring.report(scored, failed, out, name=cfg.dataset.impl, source="lmm",
                             bootstrap=cfg.bootstrap, seed=seed)
    summary.update(info, train_stages=sorted(trained["stages"]),
                   generate_overrides=as_overrides(cfg.generate), train_overrides=as_overrides(cfg.train))
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary
