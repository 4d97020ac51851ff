"""Level mappers: score in [0, 1] -> one of the five level words."""

from __future__ import annotations

from dataclasses import dataclass

from s2i_core.dimensions import LEVELS
from s2i_core.specs import LevelMapperSpec, NoConfig


class EqualWidth:
    """Q-Align style: five equal bins over [0, 1] (0.2 wide each)."""

    def __init__(self, cfg: NoConfig):
        self.cfg = cfg

    def level(self, dimension: str, score: float) -> str:
        return LEVELS[min(4, int(score * 5))]


SPECS = (LevelMapperSpec("equal_width", EqualWidth, NoConfig, "five equal-width bins over [0, 1]"),)
