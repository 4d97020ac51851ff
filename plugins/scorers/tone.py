"""Scorers of tone and colour on reduced-size frames: exposure, contrast, colour cast, colourfulness, lighting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer

from s2i_core.specs import ScorerSpec


@dataclass
class ExposureConfig:
    bad: float = 0.6  # exposure error of a badly under- or over-exposed frame
    good: float = 0.1
    target: float = 0.46  # mean luma (fraction of full scale) of a well exposed frame
    clip_level: int = 6  # a pixel within this many codes of 0 or 255 counts as clipped


class Exposure(MappedScorer):
    """Clipped-pixel exposure: crushed shadows + blown highlights + distance of mean luma from mid-grey.

    raw = fraction of luma within `clip_level` of 0 or 255 + |mean luma / 255 - target| (unit: fraction),
    averaged over frames. Score ramps from `bad` to `good`.
    """

    dimension, unit = "exposure", "exposure_error"

    def measure(self, clip) -> float:
        y = clip.small_gray
        clipped = np.mean((y <= self.cfg.clip_level) | (y >= 255 - self.cfg.clip_level), axis=(1, 2))
        return float(np.mean(clipped + np.abs(y.mean(axis=(1, 2)) / 255.0 - self.cfg.target)))


@dataclass
class ContrastConfig:
    bad: float = 0.05  # RMS contrast of a washed-out frame
    good: float = 0.2  # RMS contrast of a well separated tonal range


class Contrast(MappedScorer):
    """RMS contrast (Peli 1990): standard deviation of luma as a fraction of full scale, averaged over frames.

    raw = std(luma) / 255 (unit: fraction); score ramps from `bad` to `good`.
    """

    dimension, unit = "contrast", "rms_contrast"

    def measure(self, clip) -> float:
        return float(np.mean(clip.small_gray.std(axis=(1, 2)) / 255.0))


@dataclass
class ColorCastConfig:
    bad: float = 1.2  # cast factor of a strong tint
    good: float = 0.3
    min_spread: float = 12.0  # chroma spread floor (Lab units), so grey scenes do not divide by ~0


class ColorCast(MappedScorer):
    """Gasparini & Schettini (2004) cast factor in CIELab: how far the chroma distribution sits from neutral.

    D = distance of the mean (a*, b*) from the grey axis; sigma = spread of (a*, b*) around that mean.
    A tinted frame has a distribution displaced from neutral and tight around its displacement, so
    raw = D / hypot(sigma, min_spread) (unit: ratio), averaged over frames. Desaturation scales D and sigma
    alike and leaves it unchanged. Score ramps from `bad` to `good`.
    """

    dimension, unit = "color_cast", "cast_factor"

    def measure(self, clip) -> float:
        import cv2

        values = []
        for frame in clip.small:
            lab = cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
            mid = (lab[..., 0] > 8) & (lab[..., 0] < 95)  # chroma of near-black/white pixels is unreliable
            a, b = lab[..., 1][mid], lab[..., 2][mid]
            if a.size < 16:
                continue
            spread = float(np.sqrt(a.var() + b.var()))
            values.append(float(np.hypot(a.mean(), b.mean())) / float(np.hypot(spread, self.cfg.min_spread)))
        return float(np.mean(values)) if values else 0.0


@dataclass
class ColorfulnessConfig:
    bad: float = 5.0  # Hasler-Süsstrunk M of a nearly grey frame ("not colourful" is M < 15)
    good: float = 50.0  # between "averagely" (45) and "quite" (59) colourful
    side: int = 96  # long side of the averaged view (pixels): regions keep their colour, noise averages out


class Colorfulness(MappedScorer):
    """Hasler & Süsstrunk (2003) colourfulness M = sigma_rgyb + 0.3 mu_rgyb, of region colour, not pixel noise.

    rg = R - G, yb = (R + G) / 2 - B; raw = M = hypot(std rg, std yb) + 0.3 hypot(mean rg, mean yb) on 8-bit
    RGB (unit: M). Measured on the temporal mean of each run of consecutive frames, area-resized to at most
    `side` pixels: colour noise is independent from frame to frame and pixel to pixel, so both averages
    remove it (a heavily noisy clip would otherwise read as "vivid"), while the colour of regions, which is
    what people call colourful, survives. Frames spread over the video stand in when there are no runs.
    Score ramps from `bad` to `good`, so the paper's categories (15 slightly, 33 moderately, 45 averagely,
    59 quite colourful) land on rising levels.
    """

    dimension, unit = "colorfulness", "hasler_suesstrunk_M"

    def measure(self, clip) -> float:
        from s2i_core.video import resize_batch

        views = (np.stack([run.astype(np.float32).mean(axis=0) for run in clip.runs]) if clip.runs
                 else clip.small.astype(np.float32))
        values = []
        for view in resize_batch(views, self.cfg.side):
            rg = view[..., 0] - view[..., 1]
            yb = 0.5 * (view[..., 0] + view[..., 1]) - view[..., 2]
            values.append(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
        return float(np.mean(values))


@dataclass
class LightingConfig:
    bad: float = 0.45  # illumination imbalance of a heavy vignette or a one-sided light
    good: float = 0.05
    grid: int = 8  # block grid over which the low-frequency illumination is fitted
    tilt_weight: float = 0.5  # side-to-side gradients (sky above ground) are more natural than falloff


class Lighting(MappedScorer):
    """Balance of the low-frequency illumination: radial falloff and tilt fitted to block-mean luma.

    Each frame's luma is averaged on a grid x grid layout and fitted by least squares with
    L(x, y) = a + b r^2 + c x + d y over x, y in [-1, 1]. raw = (-b + tilt_weight * hypot(c, d)) / 255
    (unit: fraction of full scale), averaged over frames: falloff towards the edges (vignetting, a spot-lit
    subject in the dark) and one-sided light raise it, bright surroundings lower it, and a uniform
    brightness shift (an exposure matter) leaves it unchanged. Score ramps from `bad` to `good`.
    """

    dimension, unit = "lighting", "illumination_imbalance"

    def measure(self, clip) -> float:
        g = self.cfg.grid
        coords = (np.arange(g) + 0.5) / g * 2 - 1
        yy, xx = np.meshgrid(coords, coords, indexing="ij")
        design = np.stack([np.ones(g * g), ((xx**2 + yy**2) / 2).ravel(), xx.ravel(), yy.ravel()], axis=1)
        values = []
        for y in clip.small_gray:
            h, w = y.shape[0] // g * g, y.shape[1] // g * g
            blocks = y[:h, :w].reshape(g, h // g, g, w // g).mean(axis=(1, 3)).ravel()
            _, b, c, d = np.linalg.lstsq(design, blocks, rcond=None)[0]
            values.append((-b + self.cfg.tilt_weight * np.hypot(c, d)) / 255.0)
        return float(np.mean(values))


SPECS = (
    ScorerSpec("exposure", Exposure, ExposureConfig, "clipped pixels and mean-luma distance from mid-grey",
               dimension="exposure"),
    ScorerSpec("contrast", Contrast, ContrastConfig, "RMS contrast of luma", dimension="contrast"),
    ScorerSpec("color_cast", ColorCast, ColorCastConfig, "Lab cast factor (Gasparini-Schettini)",
               dimension="color_cast"),
    ScorerSpec("colorfulness", Colorfulness, ColorfulnessConfig, "Hasler-Süsstrunk colourfulness",
               dimension="colorfulness"),
    ScorerSpec("lighting", Lighting, LightingConfig, "radial falloff and tilt of block-mean illumination",
               dimension="lighting"),
)
