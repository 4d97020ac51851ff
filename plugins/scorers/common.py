"""Shared pieces of the weight-free scorers: the raw -> [0, 1] map and measurement helpers on luma."""

from __future__ import annotations

import numpy as np

from s2i_core.scoring import DimensionScore, clamp01, ramp


class MappedScorer:
    """A scorer whose score is `ramp` of one raw measurement between `cfg.bad` (0.1) and `cfg.good` (0.9).

    Subclasses set `dimension` and `unit` and implement `measure(clip) -> float`, or `-> (float, confidence)`
    when the content can make the reading unreliable; then the score is pulled towards `prior` (the score
    of "no evidence of damage") by 1 - confidence. With `log_scale = True` the ramp runs over log(raw), for
    measurements whose effect is multiplicative (noise sigma). A scorer with a second, weaker cue overrides
    `kept(clip)`: the share of the ramped reading that cue leaves (1 by default), applied before the pull.
    """

    log_scale = False
    # A reading the content does not support says "no visible damage": the `excellent` cut of equal-width
    # levels and the aggregation's `transparent` score, so an unreliable reading never costs the overall.
    prior = 0.8

    dimension = ""
    unit = ""

    def __init__(self, cfg):
        self.cfg = cfg

    def measure(self, clip) -> float:
        raise NotImplementedError

    def kept(self, clip) -> float:
        return 1.0

    def __call__(self, clip) -> DimensionScore:
        measured = self.measure(clip)
        raw, confidence = (measured if isinstance(measured, tuple) else (measured, 1.0))
        raw, confidence = float(raw), clamp01(confidence)
        if self.log_scale:
            floor = 1e-6
            score = ramp(np.log(max(raw, floor)), np.log(max(self.cfg.bad, floor)), np.log(max(self.cfg.good, floor)))
        else:
            score = ramp(raw, self.cfg.bad, self.cfg.good)
        score *= self.kept(clip)
        score = confidence * score + (1.0 - confidence) * max(score, self.prior)
        return DimensionScore(score, raw, self.unit, round(confidence, 4))


def patches(gray: np.ndarray, size: int = 384, grid: int = 2) -> list[np.ndarray]:
    """Up to grid x grid native-resolution patches per frame, spread over the frame.

    Native-scale measurements (finest detail, block grids, noise) cannot be taken on a resized frame; patches
    keep their cost bounded on 1080p and larger frames. Corners start on multiples of 16 so block grids of
    the codec stay in phase across patches.
    """
    out = []
    for frame in gray:
        h, w = frame.shape
        ph, pw = min(size, h), min(size, w)
        ys = np.linspace(0, h - ph, grid if h > ph else 1).astype(int) // 16 * 16
        xs = np.linspace(0, w - pw, grid if w > pw else 1).astype(int) // 16 * 16
        out += [frame[y:y + ph, x:x + pw] for y in np.unique(ys) for x in np.unique(xs)]
    return out


def band_energies(patch: np.ndarray, block: int = 32) -> np.ndarray:
    """[blocks, 3] energy per `block` x `block` tile in the three finest octaves: E1 ~ [1/4, 1/2] cycles/px,
    E2 ~ [1/8, 1/4], E3 ~ [1/16, 1/8].

    Differences of Gaussians (sigma 0, 1, 2, 4). Natural images have about equal energy per octave
    (1/f^2 power spectrum), so ratios between octaves depend on how detail was lost, not on the content.
    """
    import cv2

    g1 = cv2.GaussianBlur(patch, (0, 0), 1.0)
    g2 = cv2.GaussianBlur(g1, (0, 0), 1.732)  # sqrt(2^2 - 1^2): blurring g1 gives an overall sigma of 2
    g4 = cv2.GaussianBlur(g2, (0, 0), 3.464)  # sqrt(4^2 - 2^2)
    h, w = max(block, patch.shape[0] // block * block), max(block, patch.shape[1] // block * block)
    bands = [(patch - g1) ** 2, (g1 - g2) ** 2, (g2 - g4) ** 2]
    if patch.shape[0] < block or patch.shape[1] < block:
        return np.array([[float(np.mean(x)) for x in bands]])
    return np.stack([x[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3)).ravel()
                     for x in bands], axis=1)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def picture_box(clip, dark: float = 24.0, most: float = 0.35) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) of the picture inside black letterbox or pillarbox bars, as fractions of
    the frame's height and width; (0, 1, 0, 1) when there are none.

    A bar is a run of whole rows (columns) from an edge that stay black (luma <= `dark` in 98 % of their
    pixels) in every sampled frame, at most `most` of the frame per side. Bars frame the picture; they are
    not shadows (exposure, contrast), a vignette (lighting) or weight at the edge (composition).
    """
    def compute() -> tuple[float, float, float, float]:
        brightest = np.max(clip.gray, axis=0)  # a bar is black in every frame; the picture moves
        h, w = brightest.shape
        dark_rows = np.mean(brightest <= dark, axis=1) >= 0.98
        dark_cols = np.mean(brightest <= dark, axis=0) >= 0.98

        def run(flags: np.ndarray) -> int:
            n = int(np.argmin(flags)) if not flags.all() else len(flags)
            return n if n <= most * len(flags) else 0

        top, bottom = run(dark_rows), run(dark_rows[::-1])
        left, right = run(dark_cols), run(dark_cols[::-1])
        return (top / h, 1.0 - bottom / h, left / w, 1.0 - right / w)

    return clip.shared(f"picture_box:{dark}:{most}", compute)


def in_picture(frames: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """`frames` [N, H, W] cropped to the `picture_box` fractions."""
    h, w = frames.shape[1:3]
    top, bottom, left, right = box
    return frames[:, round(top * h):max(round(top * h) + 1, round(bottom * h)),
                  round(left * w):max(round(left * w) + 1, round(right * w))]


def luma_cdfs(clip) -> np.ndarray:
    """[N, 256] cumulative share of pixels at or below each luma level, one row per spatial frame at native
    resolution (a 256-bin histogram: cheap even on 1080p) inside the picture box (bars are not shadows),
    computed once per clip for every tone scorer."""
    def compute() -> np.ndarray:
        rows = []
        for gray in in_picture(clip.gray, picture_box(clip)):
            hist = np.bincount(np.clip(gray, 0, 255).astype(np.uint8).ravel(), minlength=256)
            rows.append(np.cumsum(hist) / max(1, hist.sum()))
        return np.array(rows).reshape(-1, 256)

    return clip.shared("luma_cdfs", compute)


def tonal_ends(cdf: np.ndarray, tail: float) -> tuple[float, float]:
    """(darkest, brightest) luma of a frame's `cdf`, ignoring `tail` of the pixels at each end."""
    return float(np.searchsorted(cdf, tail)), float(np.searchsorted(cdf, 1.0 - tail))
