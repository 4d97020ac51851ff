"""Distortion ladders: for each dimension, one realistic ffmpeg distortion at increasing strengths.

A ladder turns a pristine clip into versions distorted by one kind of damage. Strength 0 is the pristine
clip itself, re-encoded exactly like the distorted ones (so encoding alone never separates them). Only the
compression ladder changes the encoder's quality; every other rung is encoded near-losslessly.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s2i_core.errors import ConfigError, VideoError
from s2i_core.framing import roll_angle

HQ_CRF = 10  # near-lossless: the distortion under test, not the encoder, must make the difference


@dataclass(frozen=True)
class Source:
    """A prepared pristine clip and what the ladders need to know about it."""

    path: Path
    width: int
    height: int
    fps: float
    warm: bool = True  # a warm white-balance error tints this source more than a cool one (`leans_warm`)
    roll: float = 0.0  # the source's own camera roll in degrees (`s2i_core.framing.roll_angle`)


@dataclass(frozen=True)
class Ladder:
    dimension: str
    distortion: str  # what is done, in words
    filter: Callable[[Source, float], str]  # strength -> ffmpeg -vf chain
    crf: Callable[[float], int] = lambda s: HQ_CRF


def _rescale(src: Source) -> str:
    return f"scale={src.width}:{src.height}:flags=bicubic,setsar=1"


def _tilt(src: Source, s: float) -> str:
    # camera roll (a tilted horizon): rotate by s degrees the way the source already leans (so every rung is
    # a stronger tilt, never a levelling), keep the largest centred rectangle of the frame's aspect that the
    # rotated picture fills (no black corners), scale back
    a = np.radians(s) * (1.0 if src.roll >= 0 else -1.0)
    w, h, c, t = src.width, src.height, np.cos(abs(a)), np.sin(abs(a))
    keep = min(w / (w * c + h * t), h / (w * t + h * c))
    return f"rotate={a:.6f}:ow=iw:oh=ih,crop=iw*{keep:.4f}:ih*{keep:.4f}," + _rescale(src)


def _jitter(src: Source, s: float) -> str:
    # hand shake: a few incommensurate sines (2-6 Hz at 25 fps) moving a crop window, then scaled back
    m = 2 * s
    dx = "(iw-ow)/2*(0.6*sin(n*1.3)+0.4*sin(n*2.7+1))"
    dy = "(ih-oh)/2*(0.6*sin(n*1.1+2)+0.4*sin(n*3.1))"
    return f"crop=iw*{1 - m:.4f}:ih*{1 - m:.4f}:'(iw-ow)/2+{dx}':'(ih-oh)/2+{dy}'," + _rescale(src)


def _white_balance(src: Source, s: float) -> str:
    # a white-balance error is a gain per channel: it tints whites and greys too (a shadow/midtone grade
    # shift leaves the whites neutral and is a look rather than a cast); warm or cool as the source leans
    red, blue = (1 + s, 1 - s) if src.warm else (1 - s, 1 + s)
    return f"colorchannelmixer=rr={red:.4f}:bb={blue:.4f}"


LADDERS: dict[str, Ladder] = {ladder.dimension: ladder for ladder in (
    Ladder("sharpness", "Gaussian blur, sigma in pixels", lambda src, s: f"gblur=sigma={s}"),
    Ladder("noise", "temporal Gaussian noise, strength 0-100", lambda src, s: f"noise=alls={int(s)}:allf=t"),
    Ladder("motion_blur", "temporal mix of N frames (long-exposure smear)", lambda src, s: f"tmix=frames={int(s)}"),
    Ladder("exposure", "brightness lowered (under-exposure)", lambda src, s: f"eq=brightness={-s}"),
    Ladder("stability", "shaking crop window, amplitude in fractions of the frame", _jitter),
    Ladder("contrast", "contrast lowered", lambda src, s: f"eq=contrast={1 - s:.4f}"),
    Ladder("color_cast", "white-balance error: red gain up and blue down by this (the other way for a cool "
           "source)", _white_balance),
    Ladder("compression", "H.264 at this CRF", lambda src, s: "null", crf=lambda s: int(s)),
    Ladder("resolution", "downscaled by this factor and upscaled back",
           lambda src, s: f"scale=trunc(iw/{s}/2)*2:trunc(ih/{s}/2)*2:flags=bicubic," + _rescale(src)),
    Ladder("flicker", "per-frame brightness modulation, amplitude",
           lambda src, s: f"eq=brightness='{s}*(0.6*sin(n*1.7)+0.4*sin(n*2.9+1))':eval=frame"),
    Ladder("fluency", "frame rate cut by this factor, then repeated back up (stutter; fractional: uneven)",
           lambda src, s: f"fps={src.fps / s:.6g},fps={src.fps:g}"),
    Ladder("colorfulness", "saturation lowered", lambda src, s: f"eq=saturation={1 - s:.4f}"),
    Ladder("lighting", "vignette, angle in radians", lambda src, s: f"vignette=angle={s}"),
    Ladder("composition", "camera roll (tilted horizon), degrees; cropped to fill the frame", _tilt),
)}

def ffmpeg(*args: str, what: str) -> None:
    proc = subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-nostdin", *args],
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise VideoError(what, "ffmpeg_failed", f"ffmpeg failed: {proc.stderr.strip()[-400:]}")


def encode(src: Path, out: Path, vf: str, crf: int) -> Path:
    ffmpeg("-i", str(src), "-vf", vf, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
           "-pix_fmt", "yuv420p", "-threads", "1", str(out), what=str(src))
    return out


def prepare(video: Path, out: Path, seconds: float, max_side: int) -> Source:
    """Trim and downscale an input clip to the pristine source of its ladders (lossless intermediate)."""
    scale = f"scale='if(gt(iw,ih),min({max_side},iw),-2)':'if(gt(iw,ih),-2,min({max_side},ih))',setsar=1"
    ffmpeg("-i", str(video), "-t", str(seconds), "-vf", scale, "-an", "-c:v", "libx264", "-qp", "0",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out), what=str(video))
    from s2i_core.video import Sampling, decode_clip

    clip = decode_clip(out, Sampling(spatial_frames=4, temporal_runs=0, run_length=0))
    if clip.meta.frames < 8:
        raise ConfigError(f"{video}: too short for ladders ({clip.meta.frames} frames; need at least 8)")
    return Source(out, clip.meta.width, clip.meta.height, clip.meta.fps, leans_warm(clip.small),
                  roll_angle(clip.small_gray).degrees)


def leans_warm(frames: np.ndarray, trial: float = 0.1) -> bool:
    """Whether a warm white-balance error (red gain up, blue down) tints this source more than a cool one.

    A cast towards the opposite of the source's own slight tint first neutralises it, so that rung would
    look *better*; both gains are tried on the source's frames and the ladder goes the way that tints its
    greyest surfaces most, so every rung is a stronger cast than the last.
    """
    import cv2

    def greyest_tint(rgb: np.ndarray) -> float:
        lab = cv2.cvtColor(np.clip(rgb, 0.0, 1.0).astype(np.float32), cv2.COLOR_RGB2Lab)
        mid = (lab[..., 0] > 15) & (lab[..., 0] < 97)
        a, b = lab[..., 1][mid], lab[..., 2][mid]
        if a.size == 0:
            return 0.0
        grey = np.hypot(a, b) <= np.quantile(np.hypot(a, b), 0.1)
        return float(np.hypot(a[grey].mean(), b[grey].mean()))

    warm = np.array([1 + trial, 1.0, 1 - trial], np.float32)
    cool = np.array([1 - trial, 1.0, 1 + trial], np.float32)
    rgb = [frame.astype(np.float32) / 255.0 for frame in frames]
    return sum(greyest_tint(f * warm) for f in rgb) >= sum(greyest_tint(f * cool) for f in rgb)


def render(src: Source, ladder: Ladder, strength: float, out: Path) -> Path:
    return encode(src.path, out, ladder.filter(src, strength), ladder.crf(strength))


def pristine_crf() -> int:
    return HQ_CRF
