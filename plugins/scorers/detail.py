"""Scorers of fine detail at native resolution: sharpness, resolution, noise, compression."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer, band_energies, patches

from s2i_core.options import between
from s2i_core.specs import ScorerSpec


def _band_blocks(clip) -> np.ndarray:
    """[blocks, 3] octave energies of every 32 px tile of every native-resolution patch, computed once."""
    return clip.shared("band_energies", lambda: np.concatenate([band_energies(p) for p in patches(clip.gray)]))


@dataclass
class SharpnessConfig:
    bad: float = 0.22  # E2/E3 ratio of a badly defocused frame (Gaussian blur sigma ~3)
    good: float = 0.6  # E2/E3 ratio of crisp, in-focus footage
    # the picture is as sharp as its sharpest detailed tiles: this quantile of the tiles' ratios
    quantile: float = between(0.0, 1.0, default=0.9)


class Sharpness(MappedScorer):
    """Mid-band detail of the sharpest regions: energy in the [1/8, 1/4] cycles/px octave over the next
    coarser octave (E2 / E3), per 32 px tile.

    Natural images carry about equal energy per octave, so the ratio is near 1 when edges are crisp and
    falls as defocus or blur spreads edges over more pixels (a Gaussian blur of sigma 1.5 halves it): a
    band-ratio form of Laplacian-energy sharpness that does not depend on how much texture the scene has.
    A picture is judged by its sharpest parts (as S3, Vu et al. 2012, pools the top of its sharpness map):
    a shallow depth of field or a smooth sky is not defocus. So the ratio is taken per tile, over the
    textured half of the tiles (E3 above its median: a flat tile's ratio is noise), and raw = its
    `quantile` (unit: ratio); score ramps from `bad` to `good`.
    """

    dimension, unit = "sharpness", "band_ratio_e2_e3"

    def measure(self, clip) -> float:
        blocks = _band_blocks(clip)
        textured = blocks[blocks[:, 2] >= np.median(blocks[:, 2])]
        textured = textured[textured[:, 2] > 1e-6]
        if textured.size == 0:
            return 0.0
        return float(np.quantile(textured[:, 1] / textured[:, 2], self.cfg.quantile))


@dataclass
class ResolutionConfig:
    bad: float = 200.0  # effective side (sqrt of the pixel count) of QCIF-CIF, or of 480p upscaled 3x
    good: float = 720.0  # effective side of native 540p and up
    # E1/E2 of native-resolution camera footage: at or above it, no upscaling
    native_ratio: float = between(0.0, None, default=0.55)
    # how fast effective lines fall with the finest-octave deficit
    falloff: float = between(0.0, None, default=1.5)


class Resolution(MappedScorer):
    """Effective resolution: how many pixels of genuine detail the picture carries, as a square's side.

    Two things make a picture low in resolution: few pixels (a 176x144 or 204x360 video is soft on any
    screen it is watched on; ITU-T P.1203 and most VQA models weigh the coded resolution for this reason)
    and pixels that carry no detail of their own (a frame upscaled from less). The second is read from the
    finest octave: upscaling leaves the [1/4, 1/2] cycles/px band nearly empty while the octave below keeps
    its energy, so E1 / E2 collapses, while a mild blur lowers it far less. With r = ((E1/E2) /
    native_ratio)^falloff, raw = sqrt(width x height) x 1.25 r / (0.25 + r) (unit: pixels; 1x the pixels
    at the native ratio, at most 1.25x; the square root of the pixel count, so portrait,
    landscape and wide frames compare); the score ramps over log(raw) from `bad` to `good`, so each halving
    of the resolution costs the same.
    """

    dimension, unit, log_scale = "resolution", "effective_side_px", True

    def measure(self, clip) -> float:
        e1, e2, _ = _band_blocks(clip).sum(axis=0)
        # saturating: at the native ratio the pixels count once; sharper-than-native footage (or grain)
        # adds at most a quarter, so noise cannot buy resolution, while every loss of fine detail counts
        r = ((e1 / max(e2, 1e-6)) / self.cfg.native_ratio) ** self.cfg.falloff
        detail = 1.25 * r / (0.25 + r)
        return float(np.sqrt(clip.meta.width * clip.meta.height) * detail)


@dataclass
class NoiseConfig:
    bad: float = between(0, None, default=20.0)  # noise sigma (8-bit grey levels) of heavy grain
    good: float = between(0, None, default=1.0)  # sigma of clean footage: grain this faint is invisible
    block: int = between(2, None, default=16)  # the estimate is taken per block of this many pixels
    quantile: float = between(0, 1, default=0.1)  # the flattest blocks show noise, not texture


class Noise(MappedScorer):
    """Immerkær (1996) fast noise-sigma estimate, taken on the flattest blocks of each frame, at two scales.

    sigma = sqrt(pi/2) / 6 * mean |I * N| with N the 3x3 mask [[1,-2,1],[-2,4,-2],[1,-2,1]], which cancels
    planes and linear ramps. Texture and edges also pass the mask, so sigma is computed per block and the
    `quantile` of the blocks is kept (Lee & Hoppel style). Blocks with clipped luma are skipped (clipping
    hides noise). An encoder removes the finest grain first and leaves it as blotches a few pixels wide, which
    the 3x3 mask barely sees; the same estimate on the frame averaged 2x2 (times 2, so white noise reads
    the same at both scales) still sees them. raw = the larger of the two (unit: 8-bit grey levels); score
    ramps over log(sigma) from `good` to `bad`: each doubling of the noise costs the same, from grain just
    visible on flat areas (sigma ~3: fair) to heavy grain (sigma 20: bad).
    """

    dimension, unit, log_scale = "noise", "sigma_8bit", True

    def measure(self, clip) -> float:
        import cv2

        frames = [p.astype(np.float32, copy=False) for p in patches(clip.gray)]
        halves = [cv2.resize(p, (p.shape[1] // 2, p.shape[0] // 2), interpolation=cv2.INTER_AREA)
                  for p in frames if min(p.shape) >= 4]
        return max(self.sigma(frames, self.cfg.block), 2.0 * self.sigma(halves, max(2, self.cfg.block // 2)))

    def sigma(self, frames: list[np.ndarray], b: int) -> float:
        import cv2

        mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
        sigmas = []
        for patch in frames:
            h, w = patch.shape[0] // b * b, patch.shape[1] // b * b
            if h == 0 or w == 0:
                continue
            resp = np.abs(cv2.filter2D(patch, -1, mask, borderType=cv2.BORDER_REFLECT))[:h, :w]
            per_block = resp.reshape(h // b, b, w // b, b).mean(axis=(1, 3))
            level = patch[:h, :w].reshape(h // b, b, w // b, b)
            ok = (level.min(axis=(1, 3)) > 8) & (level.max(axis=(1, 3)) < 247)
            sigmas.append(per_block[ok])
        values = np.concatenate(sigmas) if sigmas else np.zeros(0)
        if values.size == 0:
            return 0.0
        return float(np.sqrt(np.pi / 2) / 6 * np.quantile(values, self.cfg.quantile))


# How many H.264 bits one bit of each codec is worth (rough rate savings at equal quality).
CODEC_EFFICIENCY = {"h264": 1.0, "hevc": 1.6, "vp9": 1.5, "av1": 1.9, "vp8": 0.9, "mpeg4": 0.6,
                    "mpeg2video": 0.45, "mpeg1video": 0.4, "mjpeg": 0.2}


@dataclass
class CompressionConfig:
    bad: float = 0.7  # artefact index of heavy compression (visible blocks, starved of bits)
    good: float = 0.1
    # transform block size folded over (8 also catches H.264's 4x4 grid at phases 0 and 4)
    period: int = between(2, None, default=8)
    # grey levels added to the median step: a block edge of 0.1 levels is not visible
    floor: float = between(0.0, None, default=1.0)
    # H.264 bits per pixel a 640x360 clip with little motion needs to be transparent
    need_bpp: float = between(0.0, None, default=0.02)
    # artefact index per halving of the bit budget relative to the need
    bitrate_weight: float = between(0.0, None, default=0.18)


class Compression(MappedScorer):
    """Blockiness on the codec's block grid plus the bit budget relative to what the content needs.

    Blockiness (Wang, Bovik & Evans 2000 style): the mean |horizontal difference| per column is folded
    modulo `period`; blocking raises one phase (the block boundary) above the others; excess = (max phase -
    median phase) / (median phase + floor), averaged over both directions (the phase is searched, so crops
    and odd sizes need no alignment; the floor keeps flat or dark content, whose median step is ~0, from
    reading invisible steps as blocks). H.264's deblocking filter hides blocks until quantisation is heavy
    while smearing starts earlier, so the bit budget counts too, but relative to the content: the bits a
    transparent encode needs grow with motion (P-frames carry the change) and, per pixel, as the frame gets
    smaller, so need = need_bpp x sqrt(TI + 0.5) x (pixels / 640x360)^-0.3 with TI the mean frame
    difference (the content-complexity cue of per-title encoding; the exponent follows streaming ladders),
    and `bitrate_weight` is added per halving of the H.264-equivalent bits per pixel below that need (and
    taken off per doubling above it, up to 4x the need). Easy content at a low bit rate is not starved; a
    stream without a known bit rate is judged by blockiness alone. raw = excess + that term, at least 0
    (unit: artefact index); score ramps from `bad` to `good`.
    """

    dimension, unit = "compression", "artefact_index"

    def measure(self, clip) -> float:
        return max(0.0, self.blockiness(clip) + self.cfg.bitrate_weight * self.starved_halvings(clip))

    def starved_halvings(self, clip) -> float:
        meta = clip.meta
        if not meta.bit_rate or not meta.fps:
            return 0.0
        from s2i_plugins.scorers.temporal import frame_differences

        diffs = [d for d in frame_differences(clip) if d.size]
        motion = float(np.mean(np.concatenate(diffs))) if diffs else 0.0
        # small frames need more bits per pixel (bit-rate ladders of streaming services: ~pixels^-0.3)
        need = self.cfg.need_bpp * np.sqrt(motion + 0.5) * (meta.width * meta.height / 230400) ** -0.3
        bpp = meta.bit_rate / (meta.width * meta.height * meta.fps) * CODEC_EFFICIENCY.get(meta.codec, 1.0)
        # a budget four times the need is transparent: more bits (noise is expensive) earn nothing more
        return max(-2.0, float(np.log2(need / max(bpp, 1e-6))))

    def blockiness(self, clip) -> float:
        p = self.cfg.period
        excess = []
        for axis in (1, 0):
            # columns (rows) folded modulo the period over every patch of every frame; patch corners sit on
            # multiples of 16, so the codec grid has the same phase in all of them. The outer period of each
            # patch is dropped: frame borders and letterbox edges are not blocking.
            profile, count = np.zeros(p), 0
            for patch in patches(clip.gray):
                diff = np.abs(np.diff(patch, axis=axis)).mean(axis=1 - axis)[p:-p]
                n = diff.size // p * p
                if n >= 2 * p:
                    profile += np.median(diff[:n].reshape(-1, p), axis=0)
                    count += 1
            if count:
                profile /= count
                excess.append((profile.max() - np.median(profile)) / (np.median(profile) + self.cfg.floor))
        return float(np.mean(excess)) if excess else 0.0


SPECS = (
    ScorerSpec("sharpness", Sharpness, SharpnessConfig, "mid-band detail ratio (crisp vs blurred edges)",
               dimension="sharpness"),
    ScorerSpec("resolution", Resolution, ResolutionConfig, "effective side: sqrt(pixel count) x finest-octave detail",
               dimension="resolution"),
    ScorerSpec("noise", Noise, NoiseConfig, "Immerkær noise sigma on the flattest blocks", dimension="noise"),
    ScorerSpec("compression", Compression, CompressionConfig, "blockiness + bit budget relative to motion",
               dimension="compression"),
)
