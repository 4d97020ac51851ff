"""Classical measurements on decoded frames (numpy/OpenCV), no learned weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from s2i_core.scoring import DimensionScore, clamp01
from s2i_core.specs import ScorerSpec


@dataclass
class ExposureConfig:
    clip_level: int = 4  # a pixel within this many codes of 0 or 255 counts as clipped
    worst_fraction: float = 0.35  # this clipped fraction (or more) scores 0


class Exposure:
    """Fraction of clipped luma (crushed shadows + blown highlights), plus the mean-luma distance from mid-grey.

    raw = clipped fraction + 0.5 * |mean luma / 255 - 0.45| (unit: fraction); score = 1 - raw / worst_fraction.
    """

    dimension = "exposure"

    def __init__(self, cfg: ExposureConfig):
        self.cfg = cfg

    def __call__(self, clip) -> DimensionScore:
        luma = clip.frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        clipped = np.mean((luma <= self.cfg.clip_level) | (luma >= 255 - self.cfg.clip_level))
        raw = float(clipped + 0.5 * abs(luma.mean() / 255.0 - 0.45))
        return DimensionScore(clamp01(1.0 - raw / self.cfg.worst_fraction), raw, "fraction")


@dataclass
class ColorfulnessConfig:
    vivid: float = 90.0  # Hasler-Süsstrunk M at which the score saturates at 1


class Colorfulness:
    """Hasler & Süsstrunk (2003) colourfulness M = sigma_rgyb + 0.3 mu_rgyb; score = M / vivid, clipped."""

    dimension = "colorfulness"

    def __init__(self, cfg: ColorfulnessConfig):
        self.cfg = cfg

    def __call__(self, clip) -> DimensionScore:
        f = clip.frames.astype(np.float32)
        rg = f[..., 0] - f[..., 1]
        yb = 0.5 * (f[..., 0] + f[..., 1]) - f[..., 2]
        m = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
        return DimensionScore(clamp01(m / self.cfg.vivid), m, "hasler_suesstrunk_M")


SPECS = (
    ScorerSpec("exposure", Exposure, ExposureConfig, "clipped-pixel fraction and mid-grey distance",
               dimension="exposure"),
    ScorerSpec("colorfulness", Colorfulness, ColorfulnessConfig, "Hasler-Süsstrunk colourfulness",
               dimension="colorfulness"),
)
