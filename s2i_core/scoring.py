"""What a scorer returns, how raw measurements map to [0, 1], and how a set of scorers shares one decode."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

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


class Scorer(Protocol):
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


def score_clip(scorers: Iterable[Scorer], clip) -> dict[str, DimensionScore]:
    """Run every scorer on one decoded clip; a scorer that breaks raises ScorerError naming it and the file."""
    out = {}
    for scorer in scorers:
        try:
            result = scorer(clip)
        except S2IError:
            raise
        except Exception as exc:
            raise ScorerError(f"scorer for {scorer.dimension!r} failed on {clip.path}: "
                              f"{type(exc).__name__}: {exc}") from exc
        out[scorer.dimension] = result
    return out


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
