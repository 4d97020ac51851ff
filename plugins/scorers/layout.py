"""Composition: where the visual weight of the frame sits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer, in_picture, picture_box

from s2i_core.options import between
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


@dataclass
class CompositionConfig:
    bad: float = 0.9  # imbalance of a subject pushed against the frame edge
    good: float = 0.3
    # width of the frame margin (fraction of each side) where weight counts as cut off
    border: float = between(0.0, 0.5, default=0.08)


class Composition(MappedScorer):
    """Visual balance (Liu et al. 2010): how far the centre of visual weight sits from the frame centre.

    Visual weight is smoothed, squared edge density. raw = 2 * distance of its centroid from the centre (in
    fractions of width and height) + 2 x the weight in the outer `border` margin beyond that margin's share
    of the area (a subject cut by the edge; detail spread evenly, as in a landscape or a page of text, puts
    no more weight at the edge than its area), averaged over frames (unit: fraction). Score ramps from `bad`
    to `good`.
    """

    dimension, unit = "composition", "imbalance"

    def measure(self, clip) -> float:
        values = []
        for gray in in_picture(clip.small_gray, picture_box(clip)):  # what the bars frame
            sal = visual_weight(gray)
            h, w = sal.shape
            ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
            cx, cy = float(sal.sum(axis=0) @ xs), float(sal.sum(axis=1) @ ys)
            by, bx = max(1, round(self.cfg.border * h)), max(1, round(self.cfg.border * w))
            edge = 1.0 - float(sal[by:h - by, bx:w - bx].sum())
            edge_area = 1.0 - (h - 2 * by) * (w - 2 * bx) / (h * w)
            values.append(2 * np.hypot(cx - 0.5, cy - 0.5) + 2 * max(0.0, edge - edge_area))
        return float(np.mean(values))


SPECS = (
    ScorerSpec("composition", Composition, CompositionConfig, "visual-weight balance and edge cut-off",
               dimension="composition"),
)
