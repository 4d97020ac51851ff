"""Composition: where the visual weight of the frame sits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from s2i_core.specs import ScorerSpec
from s2i_plugins.scorers.common import MappedScorer


def spectral_residual_saliency(gray: np.ndarray, width: int = 64) -> np.ndarray:
    """Hou & Zhang (2007) spectral-residual saliency on a `width`-pixel-wide copy, normalised to sum 1."""
    import cv2

    h, w = gray.shape
    small = cv2.resize(gray, (width, max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amp - cv2.blur(log_amp.astype(np.float32), (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.5)
    return sal / max(float(sal.sum()), 1e-12)


@dataclass
class CompositionConfig:
    bad: float = 0.45  # imbalance of a subject pushed against the frame edge
    good: float = 0.08
    border: float = 0.08  # width of the frame margin (fraction of each side) where weight counts as cut off


class Composition(MappedScorer):
    """Visual balance (Liu et al. 2010): how far the saliency centre of mass sits from the frame centre.

    Saliency is the weight-free spectral residual of Hou & Zhang (2007). raw = 2 * distance of the saliency
    centroid from the centre (in fractions of width and height) + the saliency mass in the outer `border`
    margin (a subject cut by the edge), averaged over frames (unit: fraction). Score ramps from `bad` to
    `good`.
    """

    dimension, unit = "composition", "imbalance"

    def measure(self, clip) -> float:
        values = []
        for gray in clip.small_gray:
            sal = spectral_residual_saliency(gray)
            h, w = sal.shape
            ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
            cx, cy = float(sal.sum(axis=0) @ xs), float(sal.sum(axis=1) @ ys)
            by, bx = max(1, round(self.cfg.border * h)), max(1, round(self.cfg.border * w))
            edge = 1.0 - float(sal[by:h - by, bx:w - bx].sum())
            values.append(2 * np.hypot(cx - 0.5, cy - 0.5) + edge)
        return float(np.mean(values))


SPECS = (
    ScorerSpec("composition", Composition, CompositionConfig, "saliency balance and edge cut-off",
               dimension="composition"),
)
