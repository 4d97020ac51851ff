"""What a scorer returns, how raw measurements map to [0, 1], and how a set of scorers shares one decode."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from s2i_core.errors import S2IError


@dataclass(frozen=True)
class DimensionScore:
    score: float  # in [0, 1], higher is better
    raw: float  # the measurement before mapping, in `unit`
    unit: str
    # how far the content lets the measurement be trusted, in [0, 1]: 1 = a sound reading; lower where the
    # content gives the scorer little to measure (no near-neutral surfaces for colour balance, no texture for
    # noise, no motion for motion blur). A scorer never lowers a score on content alone: with confidence c the
    # score is c * reading + (1 - c) * the scorer's `prior` (no evidence of damage).
    confidence: float = 1.0


@runtime_checkable
class Scorer(Protocol):
    """Scores one dimension of a decoded clip. Optional: `sampling` (a `s2i_core.video.Sampling`: the frames it
    needs; see `sampling_for`)."""

    dimension: str

    def __call__(self, clip) -> DimensionScore: ...


class ScorerError(S2IError):
    """A scorer could not measure a clip (a learned model's weights are missing, a measurement broke)."""


def clamp01(value: float) -> float:
    if math.isnan(value):
        raise ValueError("score is NaN")
    return min(1.0, max(0.0, float(value)))


def ramp(raw: float, bad: float, good: float) -> float:
    """Smooth monotone map of `raw` onto (0, 1): `bad` scores 0.1, `good` scores 0.9, the middle is near linear.

    A logistic rather than a clipped line, so scores never saturate into ties: two videos that differ in
    the measurement keep their order however bad or good both are. Either end may be the larger:
    `ramp(noise_sigma, bad=8, good=1)` falls as noise rises.
    """
    if math.isnan(raw):
        return 0.0
    t = (raw - bad) / (good - bad)
    return clamp01(1.0 / (1.0 + math.exp(-min(700.0, max(-700.0, 2 * math.log(9) * (t - 0.5))))))


def sampling_for(scorers: Iterable[object]):
    """The one `Sampling` that serves every scorer: each may declare what it needs as `.sampling`.

    Decode once per video with `decode_clip(path, sampling_for(scorers))`.
    """
    from s2i_core.video import Sampling

    result = Sampling()
    for scorer in scorers:
        need = getattr(scorer, "sampling", None)
        if need is not None:
            result = result.merge(need)
    return result


def score_clip(scorers: Iterable[Scorer], clip, name: str | None = None) -> dict[str, DimensionScore]:
    """Run every scorer on one decoded clip. A scorer that breaks, or returns a score that is NaN or outside
    [0, 1], raises ScorerError naming the scorer's dimension and the video (`name`, else the clip's path)."""
    name = str(clip.path) if name is None else name
    out = {}
    for scorer in scorers:
        try:
            result = scorer(clip)
        except Exception as exc:
            raise ScorerError(f"{name}: scorer {scorer.dimension!r} failed: {type(exc).__name__}: {exc}") from exc
        score = finite(result.score)
        if score is None or not 0.0 <= score <= 1.0:
            raise ScorerError(f"{name}: scorer {scorer.dimension!r} returned score {result.score!r}, "
                              "not in [0, 1]")
        out[scorer.dimension] = result
    return out


def score_video(path: str | Path, scorers: Sequence[Scorer], name: str | None = None) -> dict:
    """Decode one video once (the frames every scorer needs) and score it: the one scoring path of generate,
    assess, validate, calibrate and the benchmarks.

    Returns a row: `{"video", "ok": True, "meta", "scores": {dimension: {score, raw, unit, confidence}}}` or
    `{"video", "ok": False, "error": kind, "message"}`. Messages name the video as `name` (default: the path),
    so a dataset's errors do not depend on where it sits. Only a decoder that cannot load at all raises.
    """
    from s2i_core.errors import DecoderUnavailable, VideoError
    from s2i_core.video import decode_clip

    path = str(path)
    name = path if name is None else name
    try:
        clip = decode_clip(path, sampling_for(scorers))
    except DecoderUnavailable:
        raise  # the environment's fault, not this video's: it stops the run
    except VideoError as exc:
        return {"video": name, "ok": False, "error": exc.kind, "message": str(exc).replace(path, name)}
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this video's error, not the run's
        return {"video": name, "ok": False, "error": "decode_failed",
                "message": f"{name}: {type(exc).__name__}: {exc}"}
    try:
        results = score_clip(scorers, clip, name)
    except ScorerError as exc:
        return {"video": name, "ok": False, "error": "scorer_failed", "message": str(exc)}
    scores = {dim: {"score": finite(r.score), "raw": finite(r.raw), "unit": r.unit,
                    "confidence": finite(getattr(r, "confidence", 1.0))} for dim, r in results.items()}
    return {"video": name, "ok": True, "meta": clip.meta.as_record(), "scores": scores}


def finite(value) -> float | None:
    """`value` as a float, or None when it is no number or not finite (NaN, inf)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def check_one_scorer_per_dimension(scorer_nodes: dict[str, dict], registry) -> None:
    """Two selected scorers for one dimension would silently overwrite each other's score: refuse, naming both."""
    from s2i_core.errors import ConfigError

    claims: dict[str, list[str]] = {}
    for node in scorer_nodes.values():
        dimension = registry.get("scorer", node["impl"]).dimension or node.get("dimension")
        claims.setdefault(str(dimension), []).append(node["impl"])
    for dimension, names in claims.items():
        if len(names) > 1:
            entries = registry.entries("scorer")
            who = " and ".join(f"{n!r} (from {entries[n].provider})" for n in names)
            raise ConfigError(f"scorers {who} both score the dimension {dimension!r}; keep one: drop the other "
                              f"with ~scorers.{names[0]} or list the scorers you want")
