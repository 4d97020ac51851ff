"""The learnability ceiling: can a tiny video LMM, tuned on the TRUE strengths of distortion ladders (one plainly
visible distortion, or several pooled), rank held-out clips of unseen content by them?

Everything is the project's own path: distortion ladders (`reproduce.make_ladders`, train and test segments of
different clips), the labelled-set instruction data of the `no_pool` ablation (`ablation.write_labeled`,
equal-width levels of mos = -severity), the trainer (`lmm.trainer.train`) and level-token scoring
(`sources.lmm_predictor`). The untrained model is the same config and seed before tuning, so the comparison
isolates what tuning taught.

    from s2i_core.bench.learnability import evaluate, make_clips
    make_clips(out / "clips", ladders={"exposure": [0.1, 0.25, 0.45]},
               train=[("bikes.mp4", 0.0), ...], test=[("bigbuckbunny.mp4", 0.0)])
    result = evaluate(out / "seed0", out / "clips", steps=300, seed=0)
    result["untrained"]["srcc"], result["trained"]["srcc"]

`bench/bench_learnability.py` runs it from the command line (several ladders, seeds, corpus splits).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

# A quick tiny setting: stage II only (LoRA + projector + language, as conf/reproduce.yaml trains it), no
# justification text, a few hundred steps of the one overall item per clip.
TRAIN_OVERRIDES = ["lmm=qwen2_vl", "variant=tiny", "loader.workers=0", "stage1.enabled=false",
                   "stage2.train=[projector,language]", "stage2.warmup_ratio=0.05", "max_length=256",
                   "save_every=100000"]


def make_clips(out: Path, *, ladders: dict[str, list[float]], train: list[tuple[str, float]],
               test: list[tuple[str, float]], clips: str | None = None, segment_s: float = 2.0,
               max_side: int = 160, crops: list[list[float]] = ()) -> dict[str, list[dict]]:
    """Ladders ({distortion: strengths}) of `train` and `test` segments ((clip file name, start second)) under
    out/{train,test}/, each with a labels.csv (path, mos = -severity, ...); returns make_ladders' rows."""
    from omegaconf import OmegaConf

    from s2i_core.bench.reproduce import make_ladders

    segments = [{"clip": c, "start": float(s), "split": "train"} for c, s in train]
    segments += [{"clip": c, "start": float(s), "split": "test"} for c, s in test]
    cfg = OmegaConf.create({"clips": clips or "", "segments": segments, "segment_s": segment_s,
                            "max_side": max_side, "crops": [list(c) for c in crops],
                            "ladders": {name: [float(s) for s in values] for name, values in ladders.items()}})
    return make_ladders(cfg, out)


def labeled_data(clip_dir: Path, folder: Path, registry) -> Path:
    """The `no_pool` ablation's training data from a labelled ladder folder (what `run_job` writes)."""
    from s2i_core.bench.ablation import write_labeled

    items = registry.build("dataset", {"impl": "csv", "root": str(clip_dir)}).items()
    return write_labeled(items, folder, registry.build("level_mapper", "equal_width"))


def held_out_srcc(predictor, items, labels: Path | None = None) -> dict:
    """SRCC / PLCC of the predictor's scores against the items' mos (= -severity) pooled over every held-out
    clip, the mean SRCC within each source's ladder (`within`, from make_ladders' `labels` file), the raw
    scores and their spread."""
    import csv

    from s2i_core.bench import metrics, scoring
    from s2i_core.bench.reproduce import within_ladder_srcc

    scored, failed = scoring.predict_all(items, predictor, batch=8, label="scoring")
    if failed:
        raise RuntimeError(f"{len(failed)} held-out clips failed to score: {failed[:2]}")
    pred, mos = [p for _, p in scored], [i.mos for i, _ in scored]
    values = metrics.compute(pred, mos)
    srcc = values["srcc"]
    scores = {i.key: p for i, p in scored}
    within = math.nan
    if labels is not None:
        with open(labels, newline="") as fh:
            rows = [dict(r, severity=float(r["severity"])) for r in csv.DictReader(fh)]
        within = within_ladder_srcc(rows, scores)
    return {"srcc": 0.0 if math.isnan(srcc) else srcc, "plcc": values["plcc"], "within": within,
            "scores": scores, "spread": max(pred) - min(pred)}


def evaluate(out: Path, clip_root: Path, *, steps: int = 200, lr: float = 2e-3, batch_size: int = 8,
             seed: int = 0, overrides: list[str] = (), registry=None) -> dict:
    """Labelled data from clip_root/train -> the untrained model's held-out SRCC -> tuned -> its held-out
    SRCC on clip_root/test (both against mos = -severity); with the stage's loss before and after."""
    import torch

    from s2i_core.bench.sources import lmm_predictor
    from s2i_core.hydra_bridge import compose_config
    from s2i_core.lmm.trainer import train as train_lmm
    from s2i_core.registry import load_registry

    registry = registry or load_registry()
    out, clip_root = Path(out), Path(clip_root)
    began = time.perf_counter()
    data = labeled_data(clip_root / "train", out / "data", registry)
    cfg = compose_config("train", [f"data={data}", f"seed={seed}", f"lmm.seed={seed}", f"batch_size={batch_size}",
                                   f"stage2.max_steps={steps}", f"stage2.lr={lr}", *TRAIN_OVERRIDES,
                                   *overrides], registry)
    test_items = registry.build("dataset", {"impl": "csv", "root": str(clip_root / "test")}).items()
    torch.manual_seed(seed)
    labels = clip_root / "test" / "labels.csv"
    untrained = held_out_srcc(lmm_predictor(cfg.lmm, registry), test_items, labels)
    trained_run = train_lmm(cfg, str(out / "train"), registry)
    trained = held_out_srcc(lmm_predictor(trained_run["model_dir"], registry), test_items, labels)
    stage = trained_run["stages"][2]
    return {"steps": steps, "lr": lr, "batch_size": batch_size, "seed": seed, "overrides": list(overrides),
            "train_items": stage["items"], "test_clips": len(test_items),
            "loss_before": stage["loss_before"], "loss_after": stage["loss_after"],
            "untrained": untrained, "trained": trained, "train_s": round(time.perf_counter() - began, 1)}

