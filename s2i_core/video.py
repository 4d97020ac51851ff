"""Decoding with torchcodec: one decode per video, a `Clip` of sampled frames for all scorers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from s2i_core.errors import VideoError


@dataclass(frozen=True)
class VideoMeta:
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float
    rotation: int = 0
    codec: str = ""

    def as_record(self) -> dict:
        return {"width": self.width, "height": self.height, "fps": round(self.fps, 4),
                "frames": self.frames, "duration_s": round(self.duration_s, 4)}


@dataclass(frozen=True)
class Sampling:
    """How many frames to decode. Spatial frames are spread over the video; runs are consecutive frames."""

    spatial_frames: int = 8
    spatial_max_side: int = 960
    temporal_runs: int = 3
    run_length: int = 12
    temporal_max_side: int = 480


@dataclass
class Clip:
    path: str
    meta: VideoMeta
    frames: np.ndarray  # [N, H, W, 3] uint8 RGB, spread over the video
    times: np.ndarray  # seconds, one per frame
    runs: list[np.ndarray] = field(default_factory=list)  # each [K, h, w, 3] consecutive frames
    run_times: list[np.ndarray] = field(default_factory=list)


def open_decoder(path: str | os.PathLike, max_side: int | None = None):
    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "missing", "file does not exist")
    if os.path.getsize(path) == 0:
        raise VideoError(path, "empty", "file is empty (0 bytes)")
    from torchcodec.decoders import VideoDecoder

    try:
        decoder = VideoDecoder(path, dimension_order="NHWC", num_ffmpeg_threads=1, seek_mode="approximate")
    except (RuntimeError, ValueError) as exc:
        kind = "no_video_stream" if "video stream" in str(exc).lower() else "not_a_video"
        raise VideoError(path, kind, f"cannot open as video: {str(exc).splitlines()[0]}") from exc
    return decoder


def meta_of(decoder, path: str) -> VideoMeta:
    m = decoder.metadata
    fps = float(m.average_fps or 0.0)
    frames = int(m.num_frames or 0)
    duration = float(m.duration_seconds or (frames / fps if fps else 0.0))
    if not m.width or not m.height or frames <= 0:
        raise VideoError(path, "no_frames", "video stream has no decodable frames")
    return VideoMeta(int(m.width), int(m.height), fps, frames, duration, int(m.rotation or 0), m.codec or "")


def _resize(batch: np.ndarray, max_side: int) -> np.ndarray:
    h, w = batch.shape[1:3]
    scale = max_side / max(h, w)
    if scale >= 1:
        return batch
    import cv2

    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in batch])


def decode_clip(path: str | os.PathLike, sampling: Sampling = Sampling()) -> Clip:
    path = str(path)
    decoder = open_decoder(path)
    meta = meta_of(decoder, path)
    n = meta.frames
    spatial = np.unique(np.linspace(0, n - 1, min(sampling.spatial_frames, n)).round().astype(int))
    try:
        batch = decoder.get_frames_at(spatial.tolist())
        frames = _resize(batch.data.numpy(), sampling.spatial_max_side)
        times = batch.pts_seconds.numpy()
        runs, run_times = [], []
        length = min(sampling.run_length, n)
        starts = np.unique(np.linspace(0, n - length, max(1, sampling.temporal_runs)).round().astype(int))
        for start in starts:
            run = decoder.get_frames_in_range(int(start), int(start + length))
            runs.append(_resize(run.data.numpy(), sampling.temporal_max_side))
            run_times.append(run.pts_seconds.numpy())
    except (RuntimeError, IndexError, ValueError) as exc:
        raise VideoError(path, "decode_failed", f"decoding failed: {str(exc).splitlines()[0]}") from exc
    return Clip(path, meta, frames, times, runs, run_times)
