"""What a scorer returns, and how a set of scorers is run on one clip."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DimensionScore:
    score: float  # in [0, 1], higher is better
    raw: float  # the measurement before mapping, in `unit`
    unit: str


class Scorer(Protocol):
    dimension: str

    def __call__(self, clip) -> DimensionScore: ...


def clamp01(value: float) -> float:
    if math.isnan(value):
        raise ValueError("score is NaN")
    return min(1.0, max(0.0, float(value)))
