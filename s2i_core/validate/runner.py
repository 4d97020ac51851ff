"""Render every ladder of every input clip, score each rung with every scorer, collect one score array."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s2i_core.errors import ConfigError
from s2i_core.scoring import sampling_for, score_clip
from s2i_core.validate.ladders import HQ_CRF, LADDERS, encode, prepare, render
from s2i_core.video import decode_clip


@dataclass
class Results:
    clips: list[str]
    ladders: list[str]  # the dimension each ladder distorts
    strengths: dict[str, tuple[float, ...]]  # per ladder, without the pristine 0
    dimensions: list[str]  # what was scored
    scores: np.ndarray  # [clip, ladder, rung (0 = pristine), dimension]
    raw: np.ndarray  # same shape, raw measurements

    def own(self, clip: int, ladder: str) -> np.ndarray:
        """Scores of the ladder's own dimension along its rungs."""
        return self.scores[clip, self.ladders.index(ladder), :, self.dimensions.index(ladder)]


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
    sampling = sampling_for(scorers)
    scores = np.zeros((len(videos), len(ladders), rungs, len(dims)))
    raw = np.zeros_like(scores)
    work.mkdir(parents=True, exist_ok=True)

    def measure(path: Path) -> tuple[list[float], list[float]]:
        result = score_clip(scorers, decode_clip(path, sampling))
        return [result[d].score for d in dims], [result[d].raw for d in dims]

    jobs = []
    for c, video in enumerate(videos):
        stem = f"{c:02d}_{Path(video).stem}"
        src = prepare(Path(video), work / f"{stem}_source.mp4", seconds, max_side)
        jobs.append((c, None, 0, src, work / f"{stem}_pristine.mp4"))
        for k, name in enumerate(ladders):
            for r, s in enumerate(strengths[name], start=1):
                jobs.append((c, k, r, src, work / f"{stem}_{name}_{r}.mp4", s))

    def do(job):
        _, k, _, src, out, *s = job
        if k is None:
            encode(src.path, out, "null", HQ_CRF)
        else:
            render(src, LADDERS[ladders[k]], s[0], out)
        return job, measure(out)

    task = progress.add_task("ladders", total=len(jobs)) if progress else None
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for (c, k, r, *_), (sc, rw) in pool.map(do, jobs):
            targets = range(len(ladders)) if k is None else [k]
            for kk in targets:
                scores[c, kk, r], raw[c, kk, r] = sc, rw
            if progress:
                progress.advance(task)
    return Results([Path(v).name for v in videos], ladders, {n: tuple(strengths[n]) for n in ladders}, dims,
                   scores, raw)
