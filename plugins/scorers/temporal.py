"""Scorers on runs of consecutive frames: flicker, fluency, stability, motion blur."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from s2i_plugins.scorers.common import MappedScorer

from s2i_core.options import between
from s2i_core.specs import ScorerSpec
from s2i_core.video import resize_batch

MOTION_FLOOR = 0.6  # mean |frame difference| (grey levels) below which a run is treated as still
DUP_LEVEL = 1.0  # a repeated frame differs from the last by encoder noise only (grey levels)
CUT_LEVEL = 25.0  # mean |frame difference| above which a transition is a scene cut


def frame_differences(clip) -> list[np.ndarray]:
    """Mean |I_t - I_t-1| per transition of each run (grey levels), computed once per clip."""
    return clip.shared("frame_differences", lambda: [
        np.abs(np.diff(resize_batch(g, 160, min_side=8), axis=0)).mean(axis=(1, 2)) for g in clip.run_gray])


def scene_cuts(diffs: np.ndarray) -> np.ndarray:
    """Transitions that change most of the picture: an edit, neither motion nor a dropped frame.

    Against the transitions that change anything (above DUP_LEVEL): in stutter most transitions repeat a
    picture and the median of all of them is ~0, which would make every real change look like a cut.
    """
    changing = diffs[diffs > DUP_LEVEL]
    return diffs > max(CUT_LEVEL, 6 * float(np.median(changing)) if changing.size else 0.0)


def duplicate_mask(diffs: np.ndarray, reach: int = 6) -> np.ndarray:
    """Transitions that repeat the previous frame: far less change than the motion around them.

    The reference is the largest change within `reach` transitions, so heavy stutter (one real change in
    six) is still caught; a repeat must also be nearly still in absolute terms (< DUP_LEVEL), so the
    ordinary motion beside a scene cut does not look frozen.
    """
    mask = np.zeros(diffs.shape, bool)
    for t in range(diffs.size):
        around = np.concatenate([diffs[max(0, t - reach):t], diffs[t + 1:t + 1 + reach]])
        reference = around.max() if around.size else 0.0
        mask[t] = reference >= MOTION_FLOOR and diffs[t] < min(0.25 * reference, DUP_LEVEL)
    return mask


@dataclass
class FlickerConfig:
    bad: float = 8.0  # robust sigma of frame-to-frame brightness jitter (grey levels) of strong flicker
    good: float = 0.5
    grid: int = between(1, None, default=8)


class Flicker(MappedScorer):
    """Frame-to-frame brightness jitter that motion does not explain.

    Each frame is averaged on a grid x grid layout; the brightness change of a transition is the median over
    blocks of the block-mean change, so moving objects (which change some blocks up and others down) cancel
    and a global brightness step remains; only the flatter half of the blocks is used, as motion moves their
    means least. A fade changes brightness steadily; flicker alternates, so
    raw = robust standard deviation (1.4826 x median absolute value) of the change of those steps / sqrt(2)
    over all transitions (unit: grey levels). Score ramps from `bad` to `good`.
    """

    dimension, unit = "flicker", "brightness_jitter_8bit"

    def measure(self, clip) -> float:
        g = self.cfg.grid
        jitter = []
        for run in clip.run_gray:
            if len(run) < 3:
                continue
            h, w = run.shape[1] // g * g, run.shape[2] // g * g
            blocks = run[:, :h, :w].reshape(len(run), g, h // g, g, w // g).mean(axis=(2, 4))
            # flat blocks barely change when things move across them, so they carry the global change
            texture = run[:, :h, :w].reshape(len(run), g, h // g, g, w // g).std(axis=(0, 2, 4)).ravel()
            flat = texture <= np.median(texture)
            steps = np.median((blocks[1:] - blocks[:-1]).reshape(len(run) - 1, -1)[:, flat], axis=1)
            jitter.append(np.diff(steps) / np.sqrt(2))
        if not jitter:
            return 0.0
        # robust sigma (1.4826 * median |x|): flicker persists over most transitions, while a scene cut or a
        # camera flash is one step that an RMS would take for flicker
        return float(1.4826 * np.median(np.abs(np.concatenate(jitter))))


@dataclass
class FluencyConfig:
    bad: float = 2.2  # judder of heavy stutter: each picture shown about 4-5 times
    good: float = 0.1
    # a transition with this many times the run's median change is a dropped-frame jump
    jump: float = between(1.0, None, default=2.5)
    # share of runs showing visible motion (a change of at least DUP_LEVEL) for a full-confidence reading
    moving_runs: float = between(0.0, 1.0, default=0.5)


class Fluency(MappedScorer):
    """Frozen, repeated and dropped frames from frame-difference statistics.

    In each run with motion, a transition changing far less than the motion around it repeats its frame
    (`duplicate_mask`); one changing more than `jump` times the median of the moving transitions skips
    frames; a scene cut (more than 25 grey levels and 6x the median change) is an edit and counts as
    regular. Stutter is judged by how long each picture stays on screen, as a viewer sees it: with
    T transitions of which N show a new picture, repeat = log2(T / N) (0: every frame new, 1: each shown
    twice, 2: four times), so the reading keeps growing with the stutter instead of saturating at "most
    transitions are repeats". raw = repeat + 2 x the share of dropped-frame jumps (unit: judder, log2 of
    frames per picture); still runs show nothing new and count as regular. Stutter is only visible where
    things move: the confidence is the share of runs with a visible change (at least DUP_LEVEL) relative to
    `moving_runs`, so a near-still shot (a held animation frame, a static screen) is not judged on noise.
    Score ramps from `bad` to `good`.
    """

    dimension, unit = "fluency", "judder_log2_frames_per_picture"

    def measure(self, clip):
        repeats, jumped, total, runs, moving_runs = 0, 0, 0, 0, 0
        for diffs in frame_differences(clip):
            if diffs.size < 2:
                continue
            runs += 1
            moving_runs += int(diffs.max() >= DUP_LEVEL)
            dup, cuts = duplicate_mask(diffs), scene_cuts(diffs)
            moving = diffs[~dup & ~cuts]
            jumps = np.zeros(diffs.shape, bool)
            if moving.size >= 3:
                jumps = (diffs > self.cfg.jump * np.median(moving)) & (diffs > 4 * MOTION_FLOOR) & ~cuts
            repeats += int(dup.sum())
            jumped += int(jumps.sum())
            total += diffs.size
        if not total:
            return 0.0, 0.0
        confidence = min(1.0, moving_runs / runs / max(self.cfg.moving_runs, 1e-6))
        return float(np.log2(total / max(1, total - repeats)) + 2.0 * jumped / total), confidence


def _similarity_step(prev: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
    """(dx, dy, angle) of the similarity transform that maps tracked corners of `prev` onto `cur`."""
    import cv2

    pts = cv2.goodFeaturesToTrack(prev, maxCorners=80, qualityLevel=0.01, minDistance=6)
    if pts is None or len(pts) < 8:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(21, 21), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < 8:
        return None
    m, _ = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if m is None:
        return None
    return np.array([m[0, 2], m[1, 2], np.arctan2(m[1, 0], m[0, 0])])


def _camera_steps(run: np.ndarray, dup: np.ndarray) -> np.ndarray:
    """Per shown-frame change: (dx, dy, rotation * half width) in fractions of the width per frame time.

    A change after repeated frames spans several frame times and is divided by them, so stutter does not
    read as shake.
    """
    frames = resize_batch(run, 240, min_side=8).astype(np.uint8)
    width = frames.shape[2]
    steps, gap = [], 0
    for t in range(1, len(frames)):
        gap += 1
        if dup[t - 1]:
            continue  # a repeated frame is a fluency fault, not camera motion
        step = _similarity_step(frames[t - 1], frames[t])
        if step is not None:
            steps.append(step / np.array([width, width, 2.0]) / gap)
        gap = 0
    return np.array(steps).reshape(-1, 3)


@dataclass
class StabilityConfig:
    bad: float = 0.012  # camera-path jitter (fraction of width per frame^2) of strong hand shake
    good: float = 0.0015


class Stability(MappedScorer):
    """Feature-tracked camera-path jitter.

    Shi-Tomasi corners are tracked with pyramidal Lucas-Kanade between consecutive frames of each run and a
    similarity transform is fitted with RANSAC, so moving objects do not count as camera motion. Intended
    pans and zooms change the camera path smoothly; shake changes its velocity from frame to frame, so
    raw = median |second difference of the path| (translation and rotation at half-width lever, unit:
    fraction of the width per frame^2). Repeated frames are skipped. Score ramps from `bad` to `good`.
    """

    dimension, unit = "stability", "path_jitter"

    def measure(self, clip) -> float:
        jerks = []
        for run, diffs in zip(clip.run_gray, frame_differences(clip)):
            steps = _camera_steps(run, duplicate_mask(diffs))
            if len(steps) >= 2:
                jerks.append(np.linalg.norm(np.diff(steps, axis=0), axis=1))
        return float(np.median(np.concatenate(jerks))) if jerks else 0.0


@dataclass
class MotionBlurConfig:
    bad: float = 0.65  # fine/coarse directional ratio of heavily smeared motion
    good: float = 1.0  # no directional loss
    # share of pixels that move across a run (first vs last frame) for a full-confidence reading
    moving_share: float = between(0.0, 1.0, default=0.02)
    pairs: int = between(1, None, default=6)  # frame pairs per run given optical flow (it is the costly part)
    # slowest motion that counts, in pixels per frame at the video's own resolution: a smear shorter than a
    # pixel a frame is not visible, and the direction of slower flow is noise
    min_speed: float = between(0.0, None, default=1.0)
    # share of the picture that travels for its smear to count in full: smear confined to a subject crossing
    # a still shot counts in proportion to the picture that travels
    full_extent: float = between(0.0, 1.0, default=0.5)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 13, 3, 5, 1.1, 0)


def _longest_span(cuts: np.ndarray, frames: int) -> tuple[int, int]:
    """First and last frame of the longest stretch of a run without a scene cut."""
    spans = np.split(np.arange(frames), np.flatnonzero(cuts) + 1)
    span = max(spans, key=len)
    return int(span[0]), int(span[-1])


class MotionBlur(MappedScorer):
    """Directional blur along the motion, relative to the same measure at a coarser scale.

    Farnebäck flow between consecutive 160-px frames gives each moving pixel's direction; a moving edge
    smeared by motion (long exposure, a temporal mix of frames) loses contrast along that direction only,
    while defocus or downscaling blur both directions alike. The along/across gradient energy ratio alone
    also reads content whose edges run along the motion (a long vehicle) as smear, so it is divided by the
    same ratio after a Gaussian blur of sigma 2: content orientation holds at both scales, smear removes the
    fine scale first. raw = (sum (grad . v)^2 / sum (grad x v)^2) at the fine scale / the same at the coarse
    scale, over pixels whose consecutive-frame flow exceeds `min_speed` pixels per frame at the video's own
    resolution (unit: ratio; ~1 = no directional loss, lower = smeared along the motion). Still footage
    scores raw 1.

    Motion blur can only be read where things move, and the blur itself must not hide the motion: smear
    and frame mixing shrink the change between consecutive frames, not how far things travel. So whether
    there is motion to judge is read over the longest cut-free span of each run: flow from its first to its
    last frame, a pixel moving when it travels more than `min_speed` per frame of the span. The confidence
    is the share of such pixels relative to `moving_share`; a run where nothing travels is not measured,
    so a static shot is not judged on encoder noise.

    A smeared subject crossing a still shot (a passing car, at any shutter a camera uses) is the look of
    motion, not a motion-blurred video; people call a video motion-blurred when the picture is smeared, as a
    moving camera smears it. So the directional loss counts in proportion to the share of the picture that
    travels, in full from `full_extent`: raw = 1 - (1 - ratio) x min(1, travelling share / full_extent).
    Score ramps from `bad` to `good`.
    """

    dimension, unit = "motion_blur", "directional_fine_coarse_ratio"

    def measure(self, clip):
        import cv2

        energy = np.zeros(4)  # along and across, fine then coarse
        moving_px, seen_px = 0, 0
        for run, diffs in zip(clip.run_gray, frame_differences(clip)):
            frames = resize_batch(run, 160, min_side=8).astype(np.uint8)
            min_speed = self.cfg.min_speed * max(frames.shape[1:]) / max(clip.meta.width, clip.meta.height, 1)
            cuts = scene_cuts(diffs)
            first, last = _longest_span(cuts, len(frames))
            if last - first < 2:
                continue
            # motion presence over the span: a temporal mix or smear leaves the distance travelled intact
            travel = _flow(frames[first], frames[last])
            travelling = np.hypot(travel[..., 0], travel[..., 1]) > min_speed * (last - first)
            moving_px, seen_px = moving_px + int(travelling.sum()), seen_px + travelling.size
            if travelling.sum() < 50:
                continue
            # flow across a repeated frame or a scene cut says nothing about blur
            usable = np.flatnonzero(~duplicate_mask(diffs) & ~cuts) + 1
            if usable.size == 0:
                continue
            for t in usable[np.linspace(0, len(usable) - 1, min(self.cfg.pairs, len(usable))).astype(int)]:
                flow = _flow(frames[t - 1], frames[t])
                speed = np.hypot(flow[..., 0], flow[..., 1])
                mask = speed > min_speed
                if mask.sum() < 50:
                    continue
                ux, uy = flow[..., 0][mask] / speed[mask], flow[..., 1][mask] / speed[mask]
                fine = frames[t].astype(np.float32)
                for i, image in enumerate((fine, cv2.GaussianBlur(fine, (0, 0), 2.0))):
                    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)[mask]
                    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)[mask]
                    energy[2 * i] += float(np.sum((gx * ux + gy * uy) ** 2))
                    energy[2 * i + 1] += float(np.sum((gy * ux - gx * uy) ** 2))
        travelling = moving_px / seen_px if seen_px else 0.0  # share of the picture that travels
        confidence = min(1.0, travelling / self.cfg.moving_share)
        if np.any(energy <= 0):
            return 1.0, confidence
        ratio = float((energy[0] / energy[1]) / (energy[2] / energy[3]))
        extent = min(1.0, travelling / self.cfg.full_extent) if self.cfg.full_extent > 0 else 1.0
        return 1.0 - (1.0 - ratio) * extent if ratio < 1.0 else ratio, confidence


SPECS = (
    ScorerSpec("flicker", Flicker, FlickerConfig, "motion-robust frame-to-frame brightness jitter",
               dimension="flicker"),
    ScorerSpec("fluency", Fluency, FluencyConfig, "repeated and dropped frames from frame differences",
               dimension="fluency"),
    ScorerSpec("stability", Stability, StabilityConfig, "feature-tracked camera-path jitter",
               dimension="stability"),
    ScorerSpec("motion_blur", MotionBlur, MotionBlurConfig, "gradient loss along the optical flow",
               dimension="motion_blur"),
)
