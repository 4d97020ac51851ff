"""InternVL (transformers-native classes): each frame is an image tile, pixel-shuffled to 1/4 of its patches."""

from __future__ import annotations

from s2i_core.lmm import preprocess as pp
from s2i_core.lmm.adapter import LmmAdapter, LmmConfig, VideoInput, layers_past_feature_layer
from s2i_core.lmm.tokenizer import build_tiny_tokenizer, chatml_template
from s2i_core.specs import LmmAdapterSpec


class InternVLAdapter(LmmAdapter):
    model_class = "InternVLForConditionalGeneration"
    vision_prefixes = ("model.vision_tower.",)
    projector_prefixes = ("model.multi_modal_projector.",)
    video_marker = "<video>"
    chat_template = chatml_template(video_marker)
    specials = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<video>")
    processor_classes = ("InternVLProcessor", "GotOcr2ImageProcessor", "InternVLVideoProcessor")

    def image_settings(self) -> dict:
        side, _ = self.vision_geometry()
        return {"size": {"height": side, "width": side}, "crop_to_patches": False}

    def processor_settings(self) -> dict:
        side, patch = self.vision_geometry()
        ratio = self.model_config.downsample_ratio
        return {"image_seq_length": int((side // patch) ** 2 * ratio * ratio)}

    def tiny_tokenizer(self):
        named = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
                 "video_token": "<video>"}  # fmt: skip
        return build_tiny_tokenizer(
            list(self.specials), self.chat_template, eos="<|im_end|>", pad="<|endoftext|>",
            named=named,
        )

    def unused_on_video(self) -> tuple[str, ...]:
        # vision_feature_layer -1 reads last_hidden_state (after the tower's final layernorm); any other
        # layer reads a raw hidden state, so the layers after it and that layernorm feed nothing
        config = self.model_config
        if config.vision_feature_layer == -1:
            return ()
        depth = config.vision_config.num_hidden_layers
        layers = layers_past_feature_layer(config.vision_feature_layer, depth, "model.vision_tower.encoder.layer.")
        return (*layers, "model.vision_tower.layernorm.")

    def tiny_config(self, tokenizer):
        from transformers import InternVLConfig

        c = self.config
        side = c.tiny_image_size
        text = self.tiny_text_config(tokenizer, model_type="qwen2")
        vision = {
            "hidden_size": c.tiny_hidden,
            "intermediate_size": 2 * c.tiny_hidden,
            "num_hidden_layers": c.tiny_layers,
            "num_attention_heads": 4,
            "image_size": [side, side],
            "patch_size": [14, 14],
        }
        return InternVLConfig(
            text_config=text,
            vision_config=vision,
            tie_word_embeddings=False,
            image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
            image_seq_length=(side // 14) ** 2 // 4,
        )

    def video_input(self, frames, tokenizer) -> VideoInput:
        side, patch = self.vision_geometry()
        ratio = self.model_config.downsample_ratio  # pixel shuffle keeps ratio^2 of the patches
        per_frame = int((side // patch) ** 2 * ratio * ratio)
        # each frame also carries "Frame{i}: <img>" and "</img>": count them in its share of the budget
        label = len(tokenizer("\nFrame10: <img></img>", add_special_tokens=False)["input_ids"])
        frames, dropped = self.frames_for_budget(frames, per_frame + label)
        mean, std = self.normalization()
        video = pp.normalize(pp.resize(frames.pixels, side, side), mean, std)
        context = tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>")
        ids: list[int] = []
        for i in range(len(video)):  # InternVLProcessor.replace_video_token
            text = ("\n" if i else "") + f"Frame{i + 1}: "
            ids += tokenizer(text, add_special_tokens=False)["input_ids"]
            ids += tokenizer("<img>", add_special_tokens=False)["input_ids"] + [context] * per_frame
            ids += tokenizer("</img>", add_special_tokens=False)["input_ids"]
        return VideoInput({"pixel_values": video}, ids, context, frames_dropped=dropped)


SPECS = (
    LmmAdapterSpec("internvl", InternVLAdapter, LmmConfig, "InternVL 2.5/3 (transformers-native, pixel shuffle)"),
)
