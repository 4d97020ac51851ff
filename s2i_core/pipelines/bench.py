"""Benchmarks: scoring correlation with MOS, justification judging, building S2I-Bench (task=...)."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import Registry
from s2i_core.sig import manifest as dataset_manifest
from s2i_core.sig.io import atomic_write_text, read_jsonl
from s2i_core.versions import resolved_versions

TASKS = ("scoring", "justification", "build")
RANGES = {"limit": (0, None), "batch": (1, None), "bootstrap": (0, None), "repeats": (1, None),
          "count": (1, None), "max_new_tokens": (1, None)}


def run(cfg: DictConfig, registry: Registry) -> int:
    if cfg.task not in TASKS:
        raise ConfigError(f"unknown task {cfg.task!r}; choose one of {', '.join(TASKS)}")
    out = Path(job_output_dir(cfg))
    return {"scoring": scoring, "justification": justification, "build": build}[cfg.task](cfg, out, registry)


def scoring(cfg: DictConfig, out: Path, registry: Registry) -> int:
    from s2i_core.bench import scoring as bench
    from s2i_core.bench.sources import build_predictor

    dataset = registry.build("dataset", cfg.dataset)
    items = dataset.items()
    if cfg.limit:
        items = items[: cfg.limit]
    predict = build_predictor(cfg, registry)
    scored, failed = bench.predict_all(items, predict, batch=cfg.batch, label=f"scoring {cfg.dataset.impl}")
    summary = bench.report(scored, failed, out, name=cfg.dataset.impl, source=cfg.source,
                           bootstrap=cfg.bootstrap, seed=cfg.seed)
    bench.print_summary(summary)
    print(f"-> {out}")
    return 1 if failed else 0


def justification(cfg: DictConfig, out: Path, registry: Registry) -> int:
    from s2i_core.bench import justification as bench

    if not cfg.bench_file:
        raise ConfigError("task=justification needs bench_file=<S2I-Bench .jsonl> (task=build writes one)")
    bench_file = Path(cfg.bench_file)
    dataset_manifest.verify_if_generated(bench_file.parent, [bench_file.name], "bench_file")
    items = read_jsonl(bench_file, "bench file")
    if cfg.answers:
        answers = bench.load_answers(cfg.answers)
    elif cfg.model:
        answers = bench.answer_with_model(items, cfg.model, cfg.videos, out / "answers.jsonl", registry,
                                          max_new_tokens=cfg.max_new_tokens)
    else:
        raise ConfigError("task=justification needs answers=<.jsonl of {id, answer}> or model=<tuned model dir> "
                          "with videos=<folder the bench's video paths are relative to>")
    judge = registry.build("judge", cfg.judge)
    summary = bench.run(items, answers, judge, repeats=cfg.repeats, seed=cfg.seed, out=out)
    bench.print_summary(summary)
    print(f"-> {out}")
    return 1 if summary["failed"] else 0


def build(cfg: DictConfig, out: Path, registry: Registry) -> int:
    from s2i_core.bench import s2ibench

    if not cfg.records:
        raise ConfigError("task=build needs records=<records.jsonl or s2i generate output folder>")
    path = Path(cfg.records)
    path = path / "records.jsonl" if path.is_dir() else path
    dataset_manifest.verify_if_generated(path.parent, [path.name], "records")
    items = s2ibench.build(read_jsonl(path, "records file"), count=cfg.count, seed=cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "s2i_bench.jsonl", "".join(json.dumps(i, sort_keys=True) + "\n" for i in items))
    counts: dict[str, int] = {}
    for item in items:
        counts[item["dimension"]] = counts.get(item["dimension"], 0) + 1
    dataset_manifest.write(out, {"records": str(path), "count": len(items), "seed": cfg.seed,
                                 "per_target": counts, "versions": resolved_versions()}, ["s2i_bench.jsonl"])
    print(f"{len(items)} questions over {len(counts)} targets -> {out / 's2i_bench.jsonl'}")
    return 0
