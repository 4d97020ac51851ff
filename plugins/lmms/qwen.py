"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL: dynamic resolution, 3D patches, M-RoPE over video tokens."""

from __future__ import annotations

import math

from s2i_core.lmm import preprocess as pp
from s2i_core.lmm.adapter import LmmAdapter, LmmConfig, VideoInput
from s2i_core.lmm.tokenizer import build_tiny_tokenizer, chatml_template
from s2i_core.specs import LmmAdapterSpec

HALF = (0.5, 0.5, 0.5)  # Qwen3-VL's normalisation

QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|video_pad|>",
    "<|image_pad|>",
]


class Qwen2VLAdapter(LmmAdapter):
    model_class = "Qwen2VLForConditionalGeneration"
    vision_prefixes = ("model.visual.",)
    projector_prefixes = ("model.visual.merger.",)
    video_marker = "<|vision_start|><|video_pad|><|vision_end|>"
    chat_template = chatml_template(video_marker)
    anchor = "<|video_pad|>"
    patch = 14  # the tiny config's
    processor_classes = ("Qwen2VLProcessor", "Qwen2VLImageProcessor", "Qwen2VLVideoProcessor")

    def image_settings(self) -> dict:
        patch, merge, temporal = self._geometry()
        c = self.config
        return {
            "size": {"shortest_edge": c.min_pixels, "longest_edge": c.max_pixels},
            "min_pixels": c.min_pixels,
            "max_pixels": c.max_pixels,
            "patch_size": patch,
            "temporal_patch_size": temporal,
            "merge_size": merge,
        }

    def marker_ids(self, tokenizer) -> list[int]:
        return [tokenizer.convert_tokens_to_ids(self.anchor)]

    def tiny_tokenizer(self):
        return build_tiny_tokenizer(
            QWEN_SPECIALS, self.chat_template, eos="<|im_end|>", pad="<|endoftext|>"
        )

    def _token_ids(self, tokenizer) -> dict:
        ids = {
            k: tokenizer.convert_tokens_to_ids(t)
            for k, t in (
                ("image_token_id", "<|image_pad|>"),
                ("video_token_id", "<|video_pad|>"),
                ("vision_start_token_id", "<|vision_start|>"),
                ("vision_end_token_id", "<|vision_end|>"),
            )
        }
        return ids

    def _tiny_mrope_text(self, tokenizer) -> dict:
        """Qwen2/2.5-VL's language half: M-RoPE sections sized to the tiny head dimension."""
        head = self.config.tiny_hidden // 4
        return self.tiny_text_config(tokenizer, tie_word_embeddings=False) | {
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": _mrope(head)}
        }

    def tiny_config(self, tokenizer):
        from transformers import Qwen2VLConfig

        c = self.config
        text = self._tiny_mrope_text(tokenizer)
        vision = {
            "depth": c.tiny_layers,
            "embed_dim": c.tiny_hidden,
            "hidden_size": c.tiny_hidden,
            "num_heads": 4,
            "mlp_ratio": 2,
            "patch_size": self.patch,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        }
        return Qwen2VLConfig(
            text_config=text, vision_config=vision, tie_word_embeddings=False, **self._token_ids(tokenizer)
        )

    def _geometry(self) -> tuple[int, int, int]:
        """(patch, spatial merge, temporal patch) of the loaded model's vision tower."""
        vision = self.model_config.vision_config
        return int(vision.patch_size), int(vision.spatial_merge_size), int(vision.temporal_patch_size)

    def video_input(self, frames, tokenizer) -> VideoInput:
        import torch

        patch, merge, temporal = self._geometry()
        count = len(frames.pixels)
        frames, (rh, rw) = self._fit_budget(frames, patch, merge, temporal)
        mean, std = self.normalization()
        video = pp.normalize(pp.resize(frames.pixels, rh, rw), mean, std)
        patches, (gt, gh, gw) = patchify(video, patch, merge, temporal)
        vid = tokenizer.convert_tokens_to_ids("<|video_pad|>")
        per_frame = gh * gw // (merge * merge)
        tensors = {"pixel_values_videos": patches, "video_grid_thw": torch.tensor([[gt, gh, gw]])}
        h, w = frames.pixels.shape[1:3]
        natural = smart_resize(h, w, patch * merge, self.config.min_pixels, self.config.max_pixels)
        return VideoInput(
            tensors,
            self._placeholder(tokenizer, vid, gt, per_frame, frames),
            vid,
            {"seconds_per_grid": temporal / frames.fps * _stride(frames)},
            frames_dropped=count - len(frames.pixels),
            downscaled=(rh, rw) != natural,
        )

    def _fit_budget(self, frames, patch: int, merge: int, temporal: int):
        """(frames, (height, width)) within `max_video_tokens`: the frame size gives first (down to
        `min_pixels`), then frames are thinned evenly; without a budget, `max_pixels` alone decides."""
        c, factor = self.config, patch * merge
        h, w = frames.pixels.shape[1:3]
        size = smart_resize(h, w, factor, c.min_pixels, c.max_pixels)

        def tokens(n_frames: int, side: tuple[int, int]) -> int:
            return -(-n_frames // temporal) * (side[0] // patch) * (side[1] // patch) // (merge * merge)

        count = len(frames.pixels)
        if not c.max_video_tokens or tokens(count, size) <= c.max_video_tokens:
            return frames, size
        allowed = c.max_video_tokens // -(-count // temporal) * factor * factor  # pixels per frame that fit
        if allowed >= c.min_pixels:
            size = smart_resize(h, w, factor, min(c.min_pixels, allowed), allowed)
            if tokens(count, size) <= c.max_video_tokens:
                return frames, size
        size = smart_resize(h, w, factor, c.min_pixels, c.min_pixels)
        tubes = max(1, c.max_video_tokens // max(1, tokens(temporal, size)))
        return pp.thin(frames, tubes * temporal), size

    def _placeholder(self, tokenizer, vid, gt, per_frame, frames) -> list[int]:
        return [vid] * (gt * per_frame)

    def batch_fields(self, items, batch):
        # M-RoPE finds the video tokens by type (transformers 5: mm_token_type_ids, 2 = video), padding excluded
        fields = super().batch_fields(items, batch)
        types = batch["input_ids"].new_zeros(batch["input_ids"].shape)
        for row, item in enumerate(items):
            types[row][(batch["input_ids"][row] == item.video_token_id) & (batch["attention_mask"][row] == 1)] = 2
        return fields | {"mm_token_type_ids": types}


def _tiny_vision(adapter) -> dict:
    """The vision tower of a tiny Qwen2.5-VL or Qwen3-VL (the same ViT with a patch merger)."""
    c = adapter.config
    return {"depth": c.tiny_layers, "hidden_size": c.tiny_hidden, "intermediate_size": 2 * c.tiny_hidden,
            "num_heads": 4, "out_hidden_size": c.tiny_hidden, "patch_size": adapter.patch,
            "spatial_merge_size": 2, "temporal_patch_size": 2}


class Qwen25VLAdapter(Qwen2VLAdapter):
    model_class = "Qwen2_5_VLForConditionalGeneration"
    processor_classes = ("Qwen2_5_VLProcessor", "Qwen2VLImageProcessor", "Qwen2VLVideoProcessor")

    def tiny_config(self, tokenizer):
        from transformers import Qwen2_5_VLConfig

        c = self.config
        text = self._tiny_mrope_text(tokenizer)
        vision = _tiny_vision(self) | {"window_size": 56, "fullatt_block_indexes": [c.tiny_layers - 1]}
        return Qwen2_5_VLConfig(
            text_config=text, vision_config=vision, tie_word_embeddings=False, **self._token_ids(tokenizer)
        )

    def batch_fields(self, items, batch):
        import torch

        seconds = torch.tensor([it.extra["seconds_per_grid"] for it in items])
        return super().batch_fields(items, batch) | {"second_per_grid_ts": seconds}


class Qwen3VLAdapter(Qwen2VLAdapter):
    model_class = "Qwen3VLForConditionalGeneration"
    projector_prefixes = ("model.visual.merger.", "model.visual.deepstack_merger_list.")
    mean, std, patch = HALF, HALF, 16
    processor_classes = ("Qwen3VLProcessor", "Qwen2VLImageProcessor", "Qwen3VLVideoProcessor")

    def video_settings(self) -> dict:
        # Qwen3-VL's video processor budgets pixels over the whole clip (frames x height x width), ours per frame:
        # the same limit for clips of `frames` frames
        frames = self.config.frames + self.config.frames % 2
        size = {"shortest_edge": self.config.min_pixels * frames, "longest_edge": self.config.max_pixels * frames}
        return self.image_settings() | {"size": size}

    def tiny_config(self, tokenizer):
        from transformers import Qwen3VLConfig

        c = self.config
        head = c.tiny_hidden // 4
        text = self.tiny_text_config(tokenizer, tie_word_embeddings=False) | {
            "head_dim": head,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": _mrope(head),
                "mrope_interleaved": True,
            },
        }
        text.pop("tie_word_embeddings")
        vision = _tiny_vision(self) | {"num_position_embeddings": 64, "deepstack_visual_indexes": [0]}
        return Qwen3VLConfig(
            text_config=text, vision_config=vision, tie_word_embeddings=False, **self._token_ids(tokenizer)
        )

    def _placeholder(self, tokenizer, vid, gt, per_frame, frames) -> list[int]:
        # Qwen3-VL writes a timestamp before every temporal patch (Qwen3VLProcessor.replace_video_token).
        start = tokenizer.convert_tokens_to_ids("<|vision_start|>")
        end = tokenizer.convert_tokens_to_ids("<|vision_end|>")
        times = list(frames.indices / frames.fps)
        times += [times[-1]] * (-len(times) % 2)
        ids: list[int] = []
        for t in range(gt):
            stamp = (times[2 * t] + times[2 * t + 1]) / 2
            ids += tokenizer(f"<{stamp:.1f} seconds>", add_special_tokens=False)["input_ids"]
            ids += [start] + [vid] * per_frame + [end]
        return ids


def _mrope(head_dim: int) -> list[int]:
    """M-RoPE split of head_dim/2 rotary pairs over (time, height, width), as the real configs do."""
    half = head_dim // 2
    t = half // 4 or 1
    h = (half - t) // 2
    return [t, h, half - t - h]


def _stride(frames) -> float:
    if len(frames.indices) < 2:
        return 1.0
    return float(frames.indices[-1] - frames.indices[0]) / (len(frames.indices) - 1) or 1.0


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


def patchify(video, patch: int, merge: int, temporal: int):
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


SPECS = (
    LmmAdapterSpec("qwen2_vl", Qwen2VLAdapter, LmmConfig, "Qwen2-VL (dynamic resolution, M-RoPE)"),
    LmmAdapterSpec("qwen2_5_vl", Qwen25VLAdapter, LmmConfig,
                   "Qwen2.5-VL (window attention vision tower, absolute time)"),
    LmmAdapterSpec("qwen3_vl", Qwen3VLAdapter, LmmConfig, "Qwen3-VL (DeepStack, per-frame timestamps)"),
)
