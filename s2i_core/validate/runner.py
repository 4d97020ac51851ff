"""Render every ladder of every input clip, score each rung with every scorer, collect one score array."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from s2i_core.errors import ConfigError
from s2i_core.scoring import ScorerError, score_video
from s2i_core.validate.ladders import HQ_CRF, LADDERS, encode, prepare, render


@dataclass
class Results:
    clips: list[str]
    ladders: list[str]  # the dimension each ladder distorts
    strengths: dict[str, tuple[float, ...]]  # per ladder, without the pristine 0
    dimensions: list[str]  # what was scored
    scores: np.ndarray  # [clip, ladder, rung (0 = pristine), dimension]
    raw: np.ndarray  # same shape, raw measurements
    # reference name -> [clip, ladder, rung] values (NaN where not measured); see measure_references
    references: dict[str, np.ndarray] = field(default_factory=dict)
    confidence: np.ndarray | None = None  # same shape as scores: how far each reading could be trusted

    def own(self, clip: int, ladder: str) -> np.ndarray:
        """Scores of the ladder's own dimension along its rungs."""
        return self.scores[clip, self.ladders.index(ladder), :, self.dimensions.index(ladder)]

    def own_all(self, ladder: str) -> np.ndarray:
        """[clip, rung] scores of the ladder's own dimension."""
        return self.scores[:, self.ladders.index(ladder), :, self.dimensions.index(ladder)]


def rung_file(work: Path, clip: int, video: Path | str, ladder: str | None, rung: int) -> Path:
    """Where a rung is rendered; rung 0 (ladder None) is the pristine clip every ladder shares."""
    stem = f"{clip:02d}_{Path(video).stem}"
    return work / (f"{stem}_pristine.mp4" if ladder is None or rung == 0 else f"{stem}_{ladder}_{rung}.mp4")


def run_validation(videos: Sequence[Path], work: Path, strengths: dict[str, Sequence[float]], scorers,
                   *, seconds: float = 4.0, max_side: int = 640, workers: int = 2, progress=None) -> Results:
    unknown = sorted(set(strengths) - set(LADDERS))
    if unknown:
        raise ConfigError(f"no ladder for {unknown}; ladders exist for: {', '.join(LADDERS)}")
    if not videos:
        raise ConfigError("no input clips to build ladders from")
    ladders = [name for name in LADDERS if name in strengths]
    rungs = 1 + max(len(strengths[name]) for name in ladders)
    if any(len(strengths[name]) != rungs - 1 for name in ladders):
        raise ConfigError("every ladder needs the same number of strengths")
    dims = [s.dimension for s in scorers]
    scores = np.zeros((len(videos), len(ladders), rungs, len(dims)))
    raw, confidence = np.zeros_like(scores), np.ones_like(scores)
    work.mkdir(parents=True, exist_ok=True)

    def measure(path: Path) -> tuple[list[float], list[float], list[float]]:
        row = score_video(path, scorers)
        if not row["ok"]:  # a rung the ladder itself rendered: the scorer set is at fault, not the input
            raise ScorerError(row["message"])
        result = row["scores"]
        return ([result[d]["score"] for d in dims], [_nan(result[d]["raw"]) for d in dims],
                [_nan(result[d]["confidence"]) for d in dims])

    jobs = []
    for c, video in enumerate(videos):
        src = prepare(Path(video), work / f"{c:02d}_{Path(video).stem}_source.mp4", seconds, max_side)
        jobs.append((c, None, 0, src, rung_file(work, c, video, None, 0)))
        for k, name in enumerate(ladders):
            for r, s in enumerate(strengths[name], start=1):
                jobs.append((c, k, r, src, rung_file(work, c, video, name, r), s))

    def do(job):
        _, k, _, src, out, *s = job
        if k is None:
            encode(src.path, out, "null", HQ_CRF)
        else:
            render(src, LADDERS[ladders[k]], s[0], out)
        return job, measure(out)

    task = progress.add_task("ladders", total=len(jobs)) if progress else None
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for (c, k, r, *_), (sc, rw, cf) in pool.map(do, jobs):
            targets = range(len(ladders)) if k is None else [k]
            for kk in targets:
                scores[c, kk, r], raw[c, kk, r], confidence[c, kk, r] = sc, rw, cf
            if progress:
                progress.advance(task)
    return Results([Path(v).name for v in videos], ladders, {n: tuple(strengths[n]) for n in ladders}, dims,
                   scores, raw, confidence=confidence)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def measure_references(results: Results, work: Path, on: dict[str, Sequence[str]], *, vmaf_frames: int = 6,
                       brisque_frames: int = 4, workers: int = 2, progress=None) -> None:
    """Fill `results.references[name]` ([clip, ladder, rung]) for each reference on its ladders (`on`).

    Needs the rungs `run_validation` rendered into `work`. VMAF compares each rung with the pristine rung
    (which scores 100 against itself: not computed) on `vmaf_frames` frames spread over the rung (0: every
    frame); BRISQUE reads `brisque_frames` frames of every rung, the shared pristine rung once per clip.
    """
    import torch

    from s2i_core.validate.references import brisque_video, require, vmaf_video
    from s2i_core.video import meta_of, open_decoder

    for name in on:
        require(name)
    shape = (len(results.clips), len(results.ladders), results.scores.shape[2])
    jobs = []
    for name, ladders in on.items():
        results.references[name] = np.full(shape, np.nan)
        ks = [results.ladders.index(ladder) for ladder in ladders if ladder in results.ladders]
        for c, clip in enumerate(results.clips):
            if name == "vmaf":
                results.references[name][c, ks, 0] = 100.0
            else:
                jobs.append((name, c, ks, 0))
            jobs += [(name, c, [k], r) for k in ks for r in range(1, shape[2])]

    def measure(job) -> float:
        name, c, ks, r = job
        path = rung_file(work, c, results.clips[c], results.ladders[ks[0]], r)
        if name == "brisque":
            return brisque_video(path, frames=brisque_frames)
        frames = meta_of(open_decoder(path), str(path)).frames
        every = max(1, frames // vmaf_frames) if vmaf_frames > 0 else 1
        return vmaf_video(rung_file(work, c, results.clips[c], None, 0), path, every=every,
                          max_frames=vmaf_frames or None)

    task = progress.add_task("references", total=len(jobs)) if progress else None
    threads = torch.get_num_threads()
    if workers > 1:  # one torch thread per worker: two workers of two threads each on two cores crawl
        torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for (name, c, ks, r), value in zip(jobs, pool.map(measure, jobs)):
                results.references[name][c, ks, r] = value
                if progress:
                    progress.advance(task)
    finally:
        torch.set_num_threads(threads)
