"""Scorers of tone and colour on reduced-size frames: exposure, contrast, colour cast, colourfulness, lighting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer, in_picture, luma_cdfs, picture_box, tonal_ends

from s2i_core.options import between
from s2i_core.scoring import clamp01
from s2i_core.specs import ScorerSpec


@dataclass
class ExposureConfig:
    bad: float = 1.2  # exposure error (stops) of a badly under- or over-exposed frame
    good: float = 0.15
    # luma the brightest content of a well exposed frame reaches (8-bit)
    white: float = between(0, 255, default=245.0)
    black: float = between(0, 255, default=20.0)  # luma the darkest content of a well exposed frame gets down to
    clip_level: int = between(0, 127, default=6)  # a pixel within this many codes of 0 or 255 counts as clipped
    # share of clipped pixels at which the lost detail counts in full
    clip_share: float = between(0.0, 1.0, default=0.04)
    # the darkest and brightest content: this share of pixels at each end is ignored
    tail: float = between(0.0, 0.5, default=0.001)


class Exposure(MappedScorer):
    """Exposure error in stops, from the ends of the tonal range rather than the mean luma.

    A photographer exposes so that the brightest content reaches near white without clipping ("expose to
    the right"). Under-exposure leaves that headroom unused *and* crushes the shadows; over-exposure lifts
    the blacks *and* blows the highlights. Per frame, at native resolution, with p_lo / p_hi the luma
    levels beyond which only `tail` of the pixels lie:
    under = log2(white / p_hi)+ x min(1, (crushed share - 1 %)+ / clip_share),
    over = (log2(p_lo / black) - 1/4)+ x min(1, (blown share - 1 %)+ / clip_share).
    A night scene with street lights, a spot-lit stage or a dark film reaches white in its lights and is not
    under-exposed however dark its mean; a white web page has black text and is not over-exposed; haze
    lifts the blacks without blowing the highlights and dull light leaves headroom without crushing the
    shadows (contrast matters, not exposure); a few clipped pixels (speculars) are normal. raw = mean over
    frames of under + over (unit: stops). A frame with no tonal range at all (a fade) gives no reading.
    Score ramps from `bad` to `good`.
    """



    dimension, unit = "exposure", "exposure_error_stops"

    def measure(self, clip):
        errors, reliable = [], []
        for cdf in luma_cdfs(clip):  # native resolution: thin dark text or small lights survive
            p_lo, p_hi = tonal_ends(cdf, self.cfg.tail)
            crushed = float(cdf[self.cfg.clip_level])
            blown = float(1.0 - cdf[254 - self.cfg.clip_level])
            # a few black or white pixels (speculars, a dark doorway) are normal: clipping counts beyond 1 %
            under = (max(0.0, np.log2(self.cfg.white / max(p_hi, 1.0)))
                     * min(1.0, max(0.0, crushed - 0.01) / self.cfg.clip_share))
            # a quarter stop of lifted blacks is not seen (and grading often lifts them that much)
            over = (max(0.0, np.log2(max(p_lo, 1.0) / self.cfg.black) - 0.25)
                    * min(1.0, max(0.0, blown - 0.01) / self.cfg.clip_share))
            errors.append(under + over)
            reliable.append(min(1.0, (p_hi - p_lo) / 24.0))  # a near-uniform frame has no exposure to judge
        return float(np.mean(errors)), float(np.mean(reliable))


@dataclass
class ContrastConfig:
    bad: float = 0.25  # tonal span of a washed-out frame (fraction of full scale)
    good: float = 0.6  # span of a well separated tonal range
    # the darkest and brightest content: this share of pixels at each end is ignored
    tail: float = between(0.0, 0.5, default=0.002)


class Contrast(MappedScorer):
    """Tonal span: how much of the luma range the picture uses, from its darkest to its brightest content.

    raw = (p_high - p_low) / 255 of luma, the levels below / above which all but `tail` of the pixels lie
    (native resolution, so small lights and thin text count), averaged over frames (unit: fraction).
    Lowering contrast shrinks the span by the same factor. Unlike RMS contrast it does not depend on how
    the content spreads between the ends: a hazy valley with dark grass in front, a night scene with lights
    or a white page with black text all span the range; a washed-out, lifted-black grade does not.
    Score ramps from `bad` to `good`.
    """

    dimension, unit = "contrast", "tonal_span"

    def measure(self, clip) -> float:
        spans = []
        for cdf in luma_cdfs(clip):
            darkest, brightest = tonal_ends(cdf, self.cfg.tail)
            spans.append((brightest - darkest) / 255.0)
        return float(np.mean(spans))


@dataclass
class ColorCastConfig:
    bad: float = 14.0  # tint (CIELab chroma) of the grey surfaces under a strong cast
    good: float = 3.0  # a tint this faint is not seen
    # share of mid-tone pixels, the least chromatic, taken as the grey surfaces
    greyest: float = between(0.0, 1.0, default=0.03)
    # chroma below which a surface can be a grey one under a plausible tint
    near_neutral: float = between(0.0, None, default=25.0)
    # share of the picture (inside bars) in the mid-tones, where a tint can be seen, for a full-confidence
    # reading: a night scene that is mostly black shows its light on a few surfaces only
    lit: float = between(0.0, 1.0, default=0.5)
    # share of those mid-tones below `near_neutral`: no confidence at `support_from` or less, full at
    # `support`. A scene whose lit surfaces are all strongly coloured (golden light on skin, an aquarium)
    # has a few per cent that could be grey; a strong cast on ordinary content still leaves about an eighth
    # of its mid-tones this close to neutral. A narrow step, so a reading is either trusted or set aside,
    # never half-trusted (a half-trusted strong cast would climb back towards "no evidence")
    support_from: float = between(0.0, 1.0, default=0.08)
    support: float = between(0.0, 1.0, default=0.12)


class ColorCast(MappedScorer):
    """Achromatic-surface colour balance: how far the scene's grey surfaces sit from neutral.

    A colour cast (a white-balance error, a tinted grade) tints everything, including the surfaces that
    should be grey or white; a scene lit warm, a blue aquarium or a green backdrop has strongly coloured
    *content*. In CIELab on mid-tone pixels (L* 15-97), two tints are read: that of the `greyest` least
    chromatic share (the achromatic-pixel idea of grey-pixel colour constancy: the scene's grey surfaces),
    and that of the less chromatic half, which a cast shifts as a whole while the greyest pixels alone can
    be surfaces of the opposite colour that the cast has just neutralised. raw = geometric mean of the two
    tints' chroma (unit: Lab), averaged over frames; desaturation leaves it near 0. The confidence is the
    product of two factors: the mid-tones' share of the picture inside any bars over `lit`, to the power
    1.5 (a night scene that is mostly black, where no tint can be seen, is not judged by its few lit
    surfaces), and the share of the mid-tones with chroma below `near_neutral`, none at `support_from` and
    full at `support` (a portrait in golden light or an aquarium has almost no surface that could be grey,
    so a cast cannot be told from coloured content). A cast changes neither the lit share nor, up to strong
    casts, much of the near-neutral support, so the reading stays confident as the cast grows. An
    unreliable reading is not lowered on content alone. Score ramps over log(raw) from `bad` to `good`.
    """

    dimension, unit, log_scale = "color_cast", "grey_surface_tint_lab", True

    def measure(self, clip):
        import cv2

        values, support = [], []
        for frame in in_picture(clip.small, picture_box(clip)):  # bars are neither grey surfaces nor picture
            # surfaces, not pixels: grain would otherwise scatter the greyest pixels' tint towards zero
            smooth = cv2.GaussianBlur(frame.astype(np.float32) / 255.0, (0, 0), 1.0)
            lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2Lab)
            mid = (lab[..., 0] > 15) & (lab[..., 0] < 97)
            a, b = lab[..., 1][mid], lab[..., 2][mid]
            if a.size < 64:
                support.append(0.0)
                continue
            chroma = np.hypot(a, b)
            tints = []
            for share in (self.cfg.greyest, 0.5):
                grey = chroma <= np.quantile(chroma, share)
                tints.append(float(np.hypot(a[grey].mean(), b[grey].mean())))
            values.append(float(np.sqrt(tints[0] * tints[1])))
            # the lit share counts faster than linearly: a reading from a few per cent of the picture is a guess,
            # not a fraction of a measurement; the near-neutral share is a narrow step (see the config)
            lit = min(1.0, a.size / mid.size / self.cfg.lit)
            neutral = clamp01((float(np.mean(chroma < self.cfg.near_neutral)) - self.cfg.support_from)
                              / max(self.cfg.support - self.cfg.support_from, 1e-6))
            support.append(lit ** 1.5 * neutral)
        if not values:
            return 0.0, 0.0
        return float(np.mean(values)), float(np.mean(support))


@dataclass
class ColorfulnessConfig:
    bad: float = 1.2  # Hasler-Süsstrunk M of a nearly grey frame
    good: float = 36.0  # "slightly" (15) to "moderately" (33) colourful: ordinary footage is not "poor"
    # long side of the averaged view (pixels): regions keep their colour, noise averages out
    side: int = between(8, None, default=96)


class Colorfulness(MappedScorer):
    """Hasler & Süsstrunk (2003) colourfulness M = sigma_rgyb + 0.3 mu_rgyb, of region colour, not pixel noise.

    rg = R - G, yb = (R + G) / 2 - B; raw = M = hypot(std rg, std yb) + 0.3 hypot(mean rg, mean yb) on 8-bit
    RGB (unit: M). Measured on the temporal mean of each run of consecutive frames, area-resized to at most
    `side` pixels: colour noise is independent from frame to frame and pixel to pixel, so both averages
    remove it (a heavily noisy clip would otherwise read as "vivid"), while the colour of regions, which is
    what people call colourful, survives. Frames spread over the video stand in when there are no runs.
    Score ramps over log(M) from `bad` to `good`: the step from grey to slightly colourful (15) matters more
    than from quite (59) to highly (82) colourful, and ordinary, unsaturated footage is not called dull.
    """

    dimension, unit, log_scale = "colorfulness", "hasler_suesstrunk_M", True

    def measure(self, clip) -> float:
        from s2i_core.video import resize_batch

        views = (np.stack([run.astype(np.float32).mean(axis=0) for run in clip.runs]) if clip.runs
                 else clip.small.astype(np.float32))
        values = []
        for view in resize_batch(views, self.cfg.side):
            rg, yb = opponent(view)
            values.append(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
        return float(np.mean(values))


def opponent(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hasler-Süsstrunk opponent channels rg = R - G and yb = (R + G) / 2 - B of an [..., 3] array."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return r - g, 0.5 * (r + g) - b


@dataclass
class LightingConfig:
    bad: float = 0.5  # corner falloff of a heavy vignette (corners at half the centre's brightness)
    good: float = 0.1
    grid: int = between(1, None, default=8)  # block grid over which centre and corners are measured
    # luma added to both sides of the ratio, so black corners of a dark scene mean little
    floor: float = between(0.0, None, default=8.0)


class Lighting(MappedScorer):
    """Balance of the illumination: symmetric falloff from the centre to all four corners (vignetting).

    Each frame is averaged on a grid x grid layout; the centre is the mean of the middle quarter of blocks
    and each corner the mean of its 2 x 2 corner blocks. Vignetting (a lens, a heavy-handed grade, a
    spot-lit subject in the dark) darkens every corner; content that is darker on one side (sky above
    ground, a dark wall at one edge) leaves at least one corner as bright as the centre, so the falloff
    counts only what *all* corners lose: raw = 1 - (brightest corner + floor) / (centre + floor), at least 0,
    median over frames (unit: fraction). Score ramps from `bad` to `good`.
    """

    dimension, unit = "lighting", "corner_falloff"

    def measure(self, clip) -> float:
        g = self.cfg.grid
        values = []
        for y in in_picture(clip.small_gray, picture_box(clip)):  # bars are not a vignette
            h, w = y.shape[0] // g * g, y.shape[1] // g * g
            blocks = y[:h, :w].reshape(g, h // g, g, w // g).mean(axis=(1, 3))
            q = g // 4
            centre = blocks[q:g - q, q:g - q].mean()
            corners = [blocks[:2, :2].mean(), blocks[:2, -2:].mean(), blocks[-2:, :2].mean(), blocks[-2:, -2:].mean()]
            values.append(max(0.0, 1.0 - (max(corners) + self.cfg.floor) / (centre + self.cfg.floor)))
        return float(np.median(values))


SPECS = (
    ScorerSpec("exposure", Exposure, ExposureConfig, "unused highlight/shadow headroom with clipping (stops)",
               dimension="exposure"),
    ScorerSpec("contrast", Contrast, ContrastConfig, "tonal span of luma (darkest to brightest 0.2 %)", dimension="contrast"),
    ScorerSpec("color_cast", ColorCast, ColorCastConfig, "chroma of the greyest surfaces (Lab)",
               dimension="color_cast"),
    ScorerSpec("colorfulness", Colorfulness, ColorfulnessConfig, "Hasler-Süsstrunk colourfulness",
               dimension="colorfulness"),
    ScorerSpec("lighting", Lighting, LightingConfig, "symmetric centre-to-corner falloff (vignetting)",
               dimension="lighting"),
)
