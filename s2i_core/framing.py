"""Camera roll from straight lines: how far the frame's horizontals and verticals lean off level.

Shared by the composition scorer (a tilted horizon is the commonest framing fault of handheld footage) and the
validation ladders (which roll a clip further the way it already leans, so every rung is a stronger tilt).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BIN = 0.5  # histogram bin, degrees
BINS = int(90 / BIN)


@dataclass(frozen=True)
class Roll:
    degrees: float  # signed lean of the dominant near-level line family (positive: counter-clockwise)
    share: float  # share of the line evidence within 3 degrees of that lean (uniform orientations: ~0.067)
    dominance: float  # the near-level peak against the strongest orientation anywhere (1: it is the strongest)


def orientation_histogram(gray: np.ndarray, coherence: float = 0.7) -> np.ndarray:
    """[BINS] line evidence per orientation folded modulo 90 degrees into [-45, 45) (a horizontal and a
    vertical edge land in the same bin, so a roll moves both families together).

    Orientation from the structure tensor (gradients smoothed over 1.5 px); only line-like pixels count:
    coherence (|l1 - l2| / (l1 + l2)) above `coherence`, among the strongest fifth of the gradient energy, so
    texture, noise and corners, whose orientations are spread, add little. Weight: gradient magnitude x
    coherence.
    """
    import cv2

    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = (cv2.GaussianBlur(x, (0, 0), 1.5) for x in (gx * gx, gy * gy, gx * gy))
    energy = jxx + jyy
    coh = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / np.maximum(energy, 1e-6)
    lines = (coh > coherence) & (energy > np.quantile(energy, 0.8)) & (energy > 1.0)
    angle = 0.5 * np.degrees(np.arctan2(2 * jxy[lines], jxx[lines] - jyy[lines]))
    hist, _ = np.histogram((angle + 45) % 90 - 45, bins=BINS, range=(-45, 45),
                           weights=np.sqrt(energy[lines]) * coh[lines])
    return hist


def roll_angle(frames: np.ndarray, limit: float = 15.0) -> Roll:
    """The camera roll of `frames` [N, H, W] (grey, any size; ~320 px is plenty).

    The orientation histograms of the frames are summed and smoothed (sigma 1 degree, circular); the roll is
    the peak within `limit` degrees of level (refined between bins): a larger lean is a deliberate angle or a
    diagonal subject (a road in perspective), not a levelling error. `share` and `dominance` say how much to
    trust it: a scene of straight lines (buildings, a rink, a room) puts much of its evidence near one
    orientation; a face, foliage or water spreads it.
    """
    hist = np.sum([orientation_histogram(np.asarray(g, np.float32)) for g in frames], axis=0)
    if hist.sum() <= 0:
        return Roll(0.0, 0.0, 0.0)
    offsets = (np.arange(BINS) - BINS // 2) * BIN
    kernel = np.roll(np.exp(-0.5 * (offsets / 1.0) ** 2), -(BINS // 2))
    smooth = np.real(np.fft.ifft(np.fft.fft(hist) * np.fft.fft(kernel)))
    centres = -45 + BIN * (np.arange(BINS) + 0.5)
    near = np.flatnonzero(np.abs(centres) <= limit)
    k = int(near[np.argmax(smooth[near])])
    left, mid, right = smooth[k - 1], smooth[k], smooth[(k + 1) % BINS]
    curve = left - 2 * mid + right
    degrees = float(centres[k] + (0.5 * (left - right) / curve * BIN if curve < 0 else 0.0))
    within = np.abs((centres - degrees + 45) % 90 - 45) <= 3.0
    return Roll(degrees, float(hist[within].sum() / hist.sum()), float(mid / max(smooth.max(), 1e-12)))
