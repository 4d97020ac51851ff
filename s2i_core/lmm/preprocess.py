"""Video preprocessing every family shares, written in the project (transformers' video processors need
torchvision).

Frames are sampled uniformly with torchcodec, resized with torch's antialiased bicubic interpolation (what
torchvision does for tensors, so results match the official processors), cropped, rescaled and normalized.
A family's own rules (Qwen's dynamic resolution and patch order, InternVL's pixel shuffle) live in its plugin
module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Frames:
    """Uniformly sampled RGB frames of one video: what every adapter starts from."""

    pixels: np.ndarray  # [T, H, W, 3] uint8
    times: np.ndarray  # seconds
    fps: float
    indices: np.ndarray


def frame_indices(total: int, native_fps: float, count: int, fps: float = 0.0) -> np.ndarray:
    """Which of `total` frames to take: `count` spread evenly (`fps` 0), or one every 1/`fps` seconds with
    `count` as the cap (a longer video gets `count` frames spread evenly, as LLaMA-Factory's video_maxlen)."""
    if total <= 0:
        return np.zeros(0, dtype=int)
    if fps and fps > 0 and native_fps:
        picks = np.arange(0, total, native_fps / fps).round().astype(int)
        picks = np.unique(np.clip(picks, 0, total - 1))
        if len(picks) <= count:
            return picks
    return np.linspace(0, total - 1, min(count, total)).round().astype(int)


def sample_frames(path: str, count: int, fps: float = 0.0) -> Frames:
    """Decode the frames `frame_indices` picks (`count` evenly, or by `fps` up to `count`)."""
    from s2i_core.errors import VideoError
    from s2i_core.video import meta_of, open_decoder

    decoder = open_decoder(path)
    meta = meta_of(decoder, path)
    indices = frame_indices(meta.frames, meta.fps or 24.0, count, fps)
    try:
        batch = decoder.get_frames_at(indices.tolist())
    except (RuntimeError, IndexError, ValueError) as exc:
        raise VideoError(path, "decode_failed", f"decoding failed: {str(exc).splitlines()[0]}") from exc
    return Frames(batch.data.numpy(), batch.pts_seconds.numpy(), meta.fps or 24.0, indices)


def frames_from_clip(clip, count: int, fps: float = 0.0) -> Frames:
    """Reuse the frames of an already decoded `s2i_core.video.Clip` (assess decodes once for everything)."""
    n = len(clip.frames)
    native = clip.meta.fps or 24.0
    span = float(clip.times[-1] - clip.times[0]) if n > 1 else 0.0
    decoded_fps = (n - 1) / span if span > 0 else native  # the clip may hold a subsample of the video
    pick = frame_indices(n, decoded_fps, count, fps)
    return Frames(clip.frames[pick], clip.times[pick], native, (clip.times[pick] * native).round().astype(int))


def thin(frames: Frames, keep: int) -> Frames:
    """`keep` of the frames, spread evenly over the ones there are (what gives when a video is over budget)."""
    keep = max(1, min(keep, len(frames.pixels)))
    if keep == len(frames.pixels):
        return frames
    pick = np.linspace(0, len(frames.pixels) - 1, keep).round().astype(int)
    return Frames(frames.pixels[pick], frames.times[pick], frames.fps, frames.indices[pick])


def resize(pixels: np.ndarray, height: int, width: int):
    """uint8 [T, H, W, 3] -> float tensor [T, 3, h, w] in 0..255.

    The uint8 tensor is resized as it is: torch's uint8 anti-aliased bicubic kernel is the one torchvision
    (and so transformers' video processors) runs, and it matches them bit for bit, where resizing in float
    and rounding differs by up to 11 grey levels at sharp edges.
    """
    import torch

    video = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).contiguous()
    if video.shape[-2:] != (height, width):
        video = torch.nn.functional.interpolate(
            video, size=(height, width), mode="bicubic", antialias=True, align_corners=False
        )
    return video.float()


def normalize(video, mean, std):
    import torch

    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    return (video / 255.0 - mean_t) / std_t


def center_crop(video, size: int):
    h, w = video.shape[-2:]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return video[..., top : top + size, left : left + size]


def shortest_edge_size(height: int, width: int, edge: int) -> tuple[int, int]:
    if height <= width:
        return edge, int(edge * width / height)
    return int(edge * height / width), edge
