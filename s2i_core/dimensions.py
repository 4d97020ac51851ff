"""The 14 quality dimensions and the five text levels: the public data contract (docs/design.md#contracts)."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS: tuple[str, ...] = ("bad", "poor", "fair", "good", "excellent")
GROUPS: tuple[str, ...] = ("technical", "aesthetic")


@dataclass(frozen=True)
class Dimension:
    name: str
    group: str
    stage: str
    definition: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("sharpness", "technical", "capture", "fine detail is crisp and in focus"),
    Dimension("noise", "technical", "capture", "the picture is free of grain and random speckle"),
    Dimension("motion_blur", "technical", "capture", "moving objects and edges stay crisp during motion"),
    Dimension("exposure", "technical", "capture",
              "brightness is well exposed, no crushed shadows or blown highlights"),
    Dimension("stability", "technical", "capture", "the camera is steady, free of shake and jitter"),
    Dimension("contrast", "technical", "editing", "the tonal range separates light and dark well"),
    Dimension("color_cast", "technical", "editing", "the colour balance is neutral and natural"),
    Dimension("compression", "technical", "compression",
              "free of blocking, ringing and smearing from compression"),
    Dimension("resolution", "technical", "compression / transmission",
              "the frame carries genuine fine detail, not upscaled softness"),
    Dimension("flicker", "technical", "transmission", "brightness changes smoothly between adjacent frames"),
    Dimension("fluency", "technical", "transmission",
              "motion flows smoothly, no stutter, dropped or frozen frames"),
    Dimension("colorfulness", "aesthetic", "-", "colours are vivid and rich"),
    Dimension("lighting", "aesthetic", "-", "the lighting is pleasant and balanced"),
    Dimension("composition", "aesthetic", "-", "the subject is well framed and the frame balanced"),
)

BY_NAME: dict[str, Dimension] = {d.name: d for d in DIMENSIONS}


def dimension(name: str) -> Dimension:
    from s2i_core.errors import UnknownNameError

    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownNameError("dimension", name, list(BY_NAME)) from None


def level_index(level: str) -> int:
    """1-based rank of a level word (bad=1 ... excellent=5)."""
    return LEVELS.index(level) + 1
