"""Composition: is the frame level, and where does its visual weight sit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer, in_picture, picture_box

from s2i_core.framing import roll_angle
from s2i_core.options import between
from s2i_core.scoring import clamp01, ramp
from s2i_core.specs import ScorerSpec


def visual_weight(gray: np.ndarray, width: int = 96) -> np.ndarray:
    """Edge-density visual weight on a `width`-pixel-wide copy, normalised to sum 1.

    Gradient magnitude, smoothed: where detail and contrast are, the eye goes (the "visual weight" of
    composition guides; the saliency of Liu et al. 2010 plays the same role).
    """
    import cv2

    h, w = gray.shape
    small = cv2.resize(gray, (width, max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    mag = np.hypot(cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1))
    weight = cv2.GaussianBlur(mag, (0, 0), 3.0) ** 2  # squared: peaks (a subject), not texture everywhere
    return weight / max(float(weight.sum()), 1e-12)


def imbalance(gray: np.ndarray, border: float) -> float:
    """2 x distance of the visual-weight centroid from the centre (fractions of width and height) + 2 x the
    weight in the outer `border` margin beyond that margin's share of the area (a subject cut by the edge)."""
    sal = visual_weight(gray)
    h, w = sal.shape
    ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
    cx, cy = float(sal.sum(axis=0) @ xs), float(sal.sum(axis=1) @ ys)
    by, bx = max(1, round(border * h)), max(1, round(border * w))
    edge = 1.0 - float(sal[by:h - by, bx:w - bx].sum())
    edge_area = 1.0 - (h - 2 * by) * (w - 2 * bx) / (h * w)
    return 2 * float(np.hypot(cx - 0.5, cy - 0.5)) + 2 * max(0.0, edge - edge_area)


@dataclass
class CompositionConfig:
    bad: float = 12.0  # camera roll (degrees) of a clearly tilted horizon
    good: float = 2.0  # within the lean of ordinary handheld footage
    # line evidence near one orientation (share within 3 degrees) for a trusted roll reading: from `lines_from`
    # (orientations spread as in a face or foliage: 0.07-0.10) to full at lines_from + lines_span
    lines_from: float = between(0.0, 1.0, default=0.10)
    lines_span: float = between(0.0, 1.0, default=0.06)
    # balance: the visual-weight imbalance of a subject pushed against the frame edge, and of a balanced frame
    balance_bad: float = 0.9
    balance_good: float = 0.3
    # most the balance can take off the level reading (a fraction of it): balance is a weak aesthetic cue
    balance_share: float = between(0.0, 1.0, default=0.4)
    # width of the frame margin (fraction of each side) where weight counts as cut off
    border: float = between(0.0, 0.5, default=0.08)


class Composition(MappedScorer):
    """Framing: a level horizon first, visual balance second.

    Roll: straight lines (structure-tensor orientations of line-like pixels, folded modulo 90 degrees so
    horizontals and verticals agree) peak at the camera's roll; the peak within 15 degrees of level is the
    tilt (`s2i_core.framing.roll_angle`, inside any black bars). raw = |roll| in degrees, mapped from `bad` to
    `good`. A tilt can only be read where the picture has straight lines: the confidence is the share of the
    line evidence within 3 degrees of the peak (from `lines_from`, full `lines_span` above), times how far
    that near-level peak dominates every other orientation (a road in perspective, a diagonal subject), so a
    face or foliage is not judged on its level.

    Balance (Liu et al. 2010): 2 x the distance of the visual-weight centroid (smoothed, squared edge density)
    from the centre + 2 x the weight in the outer `border` margin beyond that margin's share of the area,
    mapped from `balance_bad` to `balance_good`; it takes at most `balance_share` off the level reading.
    """

    dimension, unit = "composition", "roll_degrees"

    def measure(self, clip):
        """(|roll| in degrees, confidence from the line evidence)."""
        roll = roll_angle(in_picture(clip.small_gray, picture_box(clip)))  # what the bars frame
        lines = clamp01((roll.share - self.cfg.lines_from) / max(self.cfg.lines_span, 1e-6))
        return abs(roll.degrees), lines * clamp01((roll.dominance - 0.5) / 0.4)

    def kept(self, clip) -> float:
        """What the visual-weight balance leaves of the level reading (1 - balance_share at worst)."""
        frames = in_picture(clip.small_gray, picture_box(clip))
        balanced = ramp(float(np.mean([imbalance(g, self.cfg.border) for g in frames])), self.cfg.balance_bad,
                        self.cfg.balance_good)
        return 1.0 - self.cfg.balance_share * (1.0 - balanced)


SPECS = (
    ScorerSpec("composition", Composition, CompositionConfig, "level horizon and visual-weight balance",
               dimension="composition"),
)
