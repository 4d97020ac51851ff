"""Decoding with torchcodec: one decode per video, a `Clip` of sampled frames for all scorers.

Spatial measurements (sharpness, noise, compression, ...) need a few frames spread over the video, at native
resolution because block grids and the finest detail vanish when a frame is resized. Temporal measurements
(flicker, fluency, stability, motion blur) need runs of consecutive frames, but at reduced resolution. Both
are read in one forward pass over the file; only the sampled frames are kept, never the whole video. Sample
positions are moved onto nearby key frames when the container says where they are, so the decoder seeks
instead of decoding long stretches nobody looks at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from s2i_core.errors import DecoderUnavailable, VideoError


# File names treated as videos when a folder is scanned (generate, validate, the benchmark datasets): containers
# FFmpeg, and so torchcodec, demuxes. A file with another suffix is not tried; a listed one that fails to decode
# is an error row, never a silent skip.
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ts", ".flv",
                            ".3gp", ".y4m", ".wmv", ".m2ts", ".mts", ".ogv"})


@dataclass(frozen=True)
class VideoMeta:
    width: int  # as displayed: rotation metadata is already applied to width, height and frames
    height: int
    fps: float
    frames: int
    duration_s: float
    rotation: int = 0
    codec: str = ""
    bit_rate: float = 0.0

    def as_record(self) -> dict:
        return {"width": self.width, "height": self.height, "fps": round(self.fps, 4),
                "frames": self.frames, "duration_s": round(self.duration_s, 4)}


@dataclass(frozen=True)
class Sampling:
    """How many frames to decode. Spatial frames are spread over the video; runs are consecutive frames."""

    spatial_frames: int = 6
    spatial_max_side: int = 1920  # native up to 1080p: block grids and fine detail survive
    temporal_runs: int = 3
    run_length: int = 12
    temporal_max_side: int = 480

    def merge(self, other: Sampling) -> Sampling:
        """The smallest sampling that satisfies both."""
        return Sampling(*(max(a, b) for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, ...]:
        return (self.spatial_frames, self.spatial_max_side, self.temporal_runs, self.run_length,
                self.temporal_max_side)


SMALL_SIDE = 320  # the `Clip.small` view for measurements of global tone, colour and layout


@dataclass(eq=False)
class Clip:
    path: str
    meta: VideoMeta
    frames: np.ndarray  # [N, H, W, 3] uint8 RGB, spread over the video
    times: np.ndarray  # seconds, one per frame
    runs: list[np.ndarray] = field(default_factory=list)  # each [K, h, w, 3] consecutive frames
    run_times: list[np.ndarray] = field(default_factory=list)
    # measurements shared by several scorers (band energies, frame differences ...), see `shared`
    _shared: dict = field(default_factory=dict, repr=False)

    def shared(self, key: str, compute):
        """`compute()` once per clip: a measurement several scorers read (scorer plugins use their own keys)."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    # Views shared by several scorers, computed once per clip on first use.
    @cached_property
    def gray(self) -> np.ndarray:
        """Luma (BT.601) of `frames`, [N, H, W] float32 in 0..255."""
        import cv2

        return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in self.frames]).astype(np.float32)

    @cached_property
    def small(self) -> np.ndarray:
        """`frames` resized to at most SMALL_SIDE pixels, [N, h, w, 3] uint8."""
        return resize_batch(self.frames, SMALL_SIDE)

    @cached_property
    def small_gray(self) -> np.ndarray:
        import cv2

        return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in self.small]).astype(np.float32)

    @cached_property
    def run_gray(self) -> list[np.ndarray]:
        """Luma of each run, [K, h, w] float32."""
        import cv2

        return [np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in run]).astype(np.float32)
                for run in self.runs]


def open_decoder(path: str | os.PathLike):
    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "missing", "file does not exist")
    if os.path.isdir(path):
        raise VideoError(path, "not_a_file", "is a folder, not a video file")
    if os.path.getsize(path) == 0:
        raise VideoError(path, "empty", "file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise VideoError(path, "unreadable", "permission denied: this user cannot read the file")
    VideoDecoder = decoder_class()

    try:
        # exact mode scans the container once (no decoding): true frame counts for variable frame rate
        # and the key-frame index that lets sampling seek instead of decoding.
        return VideoDecoder(path, dimension_order="NHWC", num_ffmpeg_threads=1, seek_mode="exact")
    except (RuntimeError, ValueError) as exc:
        text = str(exc)
        if "best video stream" in text or "no video stream" in text.lower():
            raise VideoError(path, "no_video_stream", "has no video stream (audio-only or data file?)") from exc
        cause = _ffmpeg_cause(text)
        raise VideoError(path, "not_a_video", f"cannot open as video ({cause}); the file is not a video "
                         "container ffmpeg understands, or it is truncated before its index") from exc


def decoder_class():
    """torchcodec's VideoDecoder; a library that cannot load (a CUDA build on a CPU machine, no FFmpeg 4-8)
    raises DecoderUnavailable with the cause and the fix, never a per-video error."""
    try:
        from torchcodec.decoders import VideoDecoder
    except Exception as exc:  # noqa: BLE001 - a failed load is RuntimeError, OSError or ImportError
        import re

        import torch

        causes = re.findall(r"^\s*(\w*(?:Error|Exception): .+)$", str(exc), flags=re.M)
        cause = causes[-1].strip() if causes else f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        raise DecoderUnavailable(
            f"the video decoder cannot load ({cause}; torch {torch.__version__}, torchcodec "
            f"{_version('torchcodec')}); fix: install the CPU builds the set-up pins "
            "(bash scripts/setup.sh, or pip install -c constraints/lock.txt torch torchcodec) and an FFmpeg "
            "4 to 8 (apt-get install ffmpeg)") from None
    return VideoDecoder


def _version(dist: str) -> str:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def check_decoder() -> dict[str, str]:
    """Open the packaged sample once: the run stops here, before the first video, when decoding cannot work.
    Returns the decoder's versions (they are part of the scores' fingerprint)."""
    from s2i_core.hydra_bridge import samples_dir

    decoder_class()
    sample = os.path.join(samples_dir(), "pristine.mp4")
    try:
        meta_of(open_decoder(sample), sample)
    except VideoError as exc:
        raise DecoderUnavailable(f"the video decoder loads but cannot read the packaged sample ({exc}); "
                                 "reinstall with bash scripts/setup.sh") from None
    import torchcodec

    return {"torchcodec": _version("torchcodec"), "ffmpeg": str(getattr(torchcodec, "ffmpeg_major_version", "?")),
            "torch": _version("torch")}


# Image codecs: a single frame in one of these is a picture with a video suffix, not a video.
STILL_CODECS = {"png", "bmp", "tiff", "webp", "gif", "ppm", "pgm", "pam", "jpegls", "jpeg2000", "qoi", "mjpeg"}


def _ffmpeg_cause(text: str) -> str:
    """The useful tail of a torchcodec error, without its C++ source location."""
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line.rsplit(", ", 1)[-1].strip()


def meta_of(decoder, path: str) -> VideoMeta:
    m = decoder.metadata
    frames = int(m.num_frames or 0)
    duration = float(m.duration_seconds or 0.0)
    fps = float(m.average_fps or 0.0) or (frames / duration if duration else 0.0)
    if not duration and fps:
        duration = frames / fps
    if not m.width or not m.height or frames <= 0:
        raise VideoError(path, "no_frames", "video stream has no decodable frames")
    if frames <= 1 and (m.codec or "").lower() in STILL_CODECS:
        raise VideoError(path, "still_image", f"is a single {m.codec} picture, not a video")
    return VideoMeta(int(m.width), int(m.height), fps, frames, duration, int(m.rotation or 0), m.codec or "",
                     float(m.bit_rate or 0.0))


def resize_batch(batch: np.ndarray, max_side: int, min_side: int = 2) -> np.ndarray:
    """[N, H, W(, C)] frames area-resized so the longer side is at most `max_side` (each side at least
    `min_side`); returned as is when already small enough."""
    h, w = batch.shape[1:3]
    scale = max_side / max(h, w)
    if scale >= 1:
        return batch
    import cv2

    size = (max(min_side, round(w * scale)), max(min_side, round(h * scale)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in batch])


def key_frames(decoder) -> np.ndarray:
    try:
        return np.asarray(decoder._get_key_frame_indices(), dtype=int)
    except (AttributeError, RuntimeError, TypeError):  # private API: without it sampling still works, it just seeks less cleverly
        return np.zeros(0, dtype=int)


def _snap(target: int, keys: np.ndarray, slack: int, last: int) -> int:
    """Move `target` onto a key frame within `slack` frames (and not past `last`), else keep it."""
    near = keys[(np.abs(keys - target) <= slack) & (keys <= last)]
    return int(near[np.argmin(np.abs(near - target))]) if near.size else int(target)


def sample_plan(n: int, sampling: Sampling, keys: np.ndarray) -> tuple[list[int], list[range]]:
    """Frame indices to keep at full size, and the runs of consecutive frames."""
    length = max(1, min(sampling.run_length, n))
    runs_wanted = max(1, sampling.temporal_runs) if sampling.run_length > 0 else 0
    slack = max(0, n // (4 * max(runs_wanted, 1)))
    starts = np.linspace(0, n - length, runs_wanted).round().astype(int) if runs_wanted else []
    runs = sorted({_snap(int(s), keys, slack, n - length) for s in starts})
    run_ranges = [range(s, s + length) for s in runs]
    spread = np.linspace(0, n - 1, min(max(sampling.spatial_frames, 1), n)).round().astype(int)
    # a spatial frame two after a key frame is a predicted frame (typical quality, not the key frame's
    # better one) that costs three decodes instead of a whole GOP
    spatial_slack = max(0, n // (4 * max(len(spread), 1)))
    spatial = set()
    for t in spread:
        snapped = _snap(int(t), keys, spatial_slack, n - 3)
        spatial.add(min(n - 1, snapped + 2) if snapped != t or t in keys else int(t))
    spatial = sorted(spatial)
    return spatial, run_ranges


def decode_clip(path: str | os.PathLike, sampling: Sampling = Sampling()) -> Clip:
    path = str(path)
    decoder = open_decoder(path)
    meta = meta_of(decoder, path)
    spatial, run_ranges = sample_plan(meta.frames, sampling, key_frames(decoder))
    wanted = sorted(set(spatial).union(*map(set, run_ranges)))
    keep_spatial = set(spatial)
    frames, run_frames = [], {}
    try:
        for index in wanted:
            frame = decoder.get_frame_at(index)
            data = frame.data.numpy()
            if index in keep_spatial:
                frames.append((index, data, float(frame.pts_seconds)))
            if any(index in r for r in run_ranges):
                run_frames[index] = (resize_batch(data[None], sampling.temporal_max_side)[0],
                                     float(frame.pts_seconds))
    except (RuntimeError, IndexError, ValueError) as exc:
        raise VideoError(path, "decode_failed", f"decoding frame {index} of {meta.frames} failed "
                         f"({_ffmpeg_cause(str(exc))}); the file is truncated or corrupt") from exc
    batch = resize_batch(np.stack([d for _, d, _ in frames]), sampling.spatial_max_side)
    runs = [np.stack([run_frames[i][0] for i in r]) for r in run_ranges if len(r) > 1]
    run_times = [np.array([run_frames[i][1] for i in r]) for r in run_ranges if len(r) > 1]
    return Clip(path, meta, batch, np.array([t for _, _, t in frames]), runs, run_times)
