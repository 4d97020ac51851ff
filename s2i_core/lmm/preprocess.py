"""Video preprocessing written in the project (transformers' video processors need torchvision).

Frames are sampled uniformly with torchcodec, resized with torch's antialiased bicubic interpolation (what
torchvision does for tensors, so results match the official processors), rescaled and normalized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
HALF = (0.5, 0.5, 0.5)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen-VL's rule: both sides multiples of `factor`, area within [min_pixels, max_pixels], aspect kept."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def qwen_patchify(video, patch: int, merge: int, temporal: int):
    """[T, C, H, W] normalized -> ([grid_t*grid_h*grid_w, C*temporal*patch*patch], (grid_t, grid_h, grid_w)).

    Same element order as Qwen2VLVideoProcessor.patchify, so the vision tower sees identical input."""
    import torch

    if video.shape[0] % temporal:
        pad = temporal - video.shape[0] % temporal
        video = torch.cat([video, video[-1:].repeat(pad, 1, 1, 1)])
    t, c, h, w = video.shape
    gt, gh, gw = t // temporal, h // patch, w // patch
    x = video.reshape(gt, temporal, c, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return x.reshape(gt * gh * gw, c * temporal * patch * patch), (gt, gh, gw)


def center_crop(video, size: int):
    h, w = video.shape[-2:]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return video[..., top : top + size, left : left + size]


def shortest_edge_size(height: int, width: int, edge: int) -> tuple[int, int]:
    if height <= width:
        return edge, int(edge * width / height)
    return int(edge * height / width), edge
