"""LLaVA-OneVision and LLaVA-NeXT-Video: fixed-resolution frames, pooled patch features per frame."""

from __future__ import annotations

import math

from s2i_core.lmm import preprocess as pp
from s2i_core.lmm.adapter import LmmAdapter, LmmConfig, VideoInput, layers_past_feature_layer
from s2i_core.lmm.tokenizer import build_tiny_tokenizer
from s2i_core.specs import LmmAdapterSpec

# Copies of the chat templates shipped with llava-hf checkpoints: they render assistant turns differently from
# the generation prompt ("<|im_start|>assistant " + "\n" + text vs "<|im_start|>assistant\n"), which the label
# code must handle, so the tiny models carry the real thing.
LLAVA_ONEVISION_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}"
    "{% endfor %}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}"
    "{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

LLAVA_NEXT_VIDEO_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}"
    "{% endif %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\n' }}{% endfor %}"
    "{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}"
    "{% endfor %}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)


class LlavaOneVisionAdapter(LmmAdapter):
    model_class = "LlavaOnevisionForConditionalGeneration"
    vision_prefixes = ("model.vision_tower.",)
    projector_prefixes = ("model.multi_modal_projector.", "model.image_newline")
    video_marker = "<video>"
    chat_template = LLAVA_ONEVISION_TEMPLATE
    specials = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>")
    processor_classes = ("LlavaOnevisionProcessor", "LlavaOnevisionImageProcessor", "LlavaOnevisionVideoProcessor")

    def image_settings(self) -> dict:
        side, _ = self.vision_geometry()
        return {"size": {"height": side, "width": side}}

    def processor_settings(self) -> dict:
        side, patch = self.vision_geometry()
        return {"num_image_tokens": (side // patch) ** 2, "vision_feature_select_strategy": "full"}

    def tiny_tokenizer(self):
        return build_tiny_tokenizer(
            list(self.specials), self.chat_template, eos="<|im_end|>", pad="<|endoftext|>"
        )

    def unused_on_video(self) -> tuple[str, ...]:
        return (*self._idle_tower(), "model.vision_tower.head.")  # SigLIP's attention-pool head

    def _idle_tower(self) -> tuple[str, ...]:
        # features come from encoder hidden states: the tower's pooled output (post-layernorm) and the layers
        # past vision_feature_layer never reach the loss
        config = self.model_config
        depth = config.vision_config.num_hidden_layers
        encoder = "model.vision_tower.encoder.layers."
        layers = layers_past_feature_layer(config.vision_feature_layer, depth, encoder)
        return (*layers, "model.vision_tower.post_layernorm.")

    def _vision(self, model_type: str) -> dict:
        c = self.config
        return {
            "model_type": model_type,
            "hidden_size": c.tiny_hidden,
            "intermediate_size": 2 * c.tiny_hidden,
            "num_hidden_layers": c.tiny_layers,
            "num_attention_heads": 4,
            "image_size": c.tiny_image_size,
            "patch_size": 14,
        }

    def tiny_config(self, tokenizer):
        from transformers import LlavaOnevisionConfig

        return LlavaOnevisionConfig(
            text_config=self.tiny_text_config(tokenizer, model_type="qwen2"),
            vision_config=self._vision("siglip_vision_model"),
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
            vision_feature_layer=-1,
            tie_word_embeddings=False,
        )

    def _normalized(self, frames):
        side, _ = self.vision_geometry()
        mean, std = self.normalization()
        return pp.normalize(pp.resize(frames.pixels, side, side), mean, std), side

    def video_input(self, frames, tokenizer) -> VideoInput:
        side, patch = self.vision_geometry()
        per_frame = math.ceil(side // patch / 2) ** 2  # bilinear 2x pooling (apply_pooling)
        frames, dropped = self.frames_for_budget(frames, per_frame, fixed=1)
        video, side = self._normalized(frames)
        vid = tokenizer.convert_tokens_to_ids("<video>")
        # one image_newline token closes the whole video
        tokens = [vid] * (len(video) * per_frame + 1)
        return VideoInput({"pixel_values_videos": video[None]}, tokens, vid, frames_dropped=dropped)


class LlavaNextVideoAdapter(LlavaOneVisionAdapter):
    model_class = "LlavaNextVideoForConditionalGeneration"
    projector_prefixes = ("model.multi_modal_projector.", "model.vision_resampler.", "model.image_newline")
    chat_template = LLAVA_NEXT_VIDEO_TEMPLATE
    specials = ("<s>", "</s>", "<unk>", "<image>", "<video>")
    processor_classes = ("LlavaNextVideoProcessor", "LlavaNextImageProcessor", "LlavaNextVideoVideoProcessor")

    def image_settings(self) -> dict:
        side, _ = self.vision_geometry()
        return {"size": {"shortest_edge": side}, "crop_size": {"height": side, "width": side},
                "do_center_crop": True}  # fmt: skip

    def processor_settings(self) -> dict:
        _, patch = self.vision_geometry()
        return {"patch_size": patch, "vision_feature_select_strategy": "full", "num_additional_image_tokens": 0}

    def tiny_tokenizer(self):
        return build_tiny_tokenizer(
            list(self.specials), self.chat_template, eos="</s>", pad="<unk>", bos="<s>"
        )

    def unused_on_video(self) -> tuple[str, ...]:
        return (*self._idle_tower(), "model.image_newline")  # a CLIP tower; NeXT-Video adds no newline to videos

    def tiny_config(self, tokenizer):
        from transformers import LlavaNextVideoConfig

        side = self.config.tiny_image_size
        return LlavaNextVideoConfig(
            text_config=self.tiny_text_config(tokenizer, model_type="llama"),
            vision_config=self._vision("clip_vision_model") | {"projection_dim": 32},
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
            vision_feature_layer=-1,
            spatial_pool_stride=2,
            tie_word_embeddings=False,
            image_seq_length=(side // 14) ** 2,
            video_seq_length=(side // 28) ** 2,
        )

    def _normalized(self, frames):
        # shortest edge -> crop side, then centre crop (LlavaNextVideoVideoProcessor)
        side, _ = self.vision_geometry()
        h, w = pp.shortest_edge_size(*frames.pixels.shape[1:3], side)
        mean, std = self.normalization()
        video = pp.center_crop(pp.resize(frames.pixels, h, w), side)
        return pp.normalize(video, mean, std), side

    def video_input(self, frames, tokenizer) -> VideoInput:
        side, patch = self.vision_geometry()
        per_frame = (side // patch // self.model_config.spatial_pool_stride) ** 2  # 2x2 average pool
        frames, dropped = self.frames_for_budget(frames, per_frame)
        video, side = self._normalized(frames)
        vid = tokenizer.convert_tokens_to_ids("<video>")
        tokens = [vid] * (len(video) * per_frame)
        return VideoInput({"pixel_values_videos": video[None]}, tokens, vid, frames_dropped=dropped)


SPECS = (
    LmmAdapterSpec("llava_onevision", LlavaOneVisionAdapter, LmmConfig,
                   "LLaVA-OneVision and LLaVA-Video-Qwen2 (SigLIP + Qwen2)"),
    LmmAdapterSpec("llava_next_video", LlavaNextVideoAdapter, LmmConfig,
                   "LLaVA-NeXT-Video (CLIP + Llama/Vicuna, 2x2 pool)"),
)
