"""The adapter base: what the framework needs to know about one video-LMM family.

A family is one plugin module (see `plugins/lmms/qwen.py`, and docs/hooks.md for a whole new one): it
subclasses `LmmAdapter`, yields an `LmmAdapterSpec` per model it supports, and owns everything specific to
the family: the transformers class and a tiny config for tests, the chat template its checkpoints ship, how
frames become pixel tensors and placeholder tokens (`video_input`), the extra inputs a batch needs
(`batch_fields`), and which parameter names are the vision tower, the projector and the language model.
`s2i_core.lmm.checklist.check_adapter` runs the whole contract on a tiny model.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from typing import Any

from s2i_core.errors import ConfigError
from s2i_core.lmm.model_files import load_tokenizer, processor_setting
from s2i_core.lmm.preprocess import CLIP_MEAN, CLIP_STD

GROUPS = ("vision", "projector", "language")
LORA_LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class LmmConfig:
    """Options every adapter takes (`lmm.<field>=...`)."""

    model: str = ""  # local folder or hub id; empty needs tiny=true
    tiny: bool = False  # build a tiny random model + offline tokenizer from config (tests, offline demos)
    frames: int = 8  # frames per clip: the exact count, or the cap when fps > 0
    fps: float = 0.0  # > 0: sample one frame every 1/fps seconds (at most `frames`); 0: `frames` evenly
    max_video_tokens: int = 0  # per-sample budget of video placeholder tokens (0: none); see docs/training.md
    max_pixels: int = 360 * 420  # per-frame budget for dynamic-resolution families (Qwen)
    min_pixels: int = 28 * 28
    trust_remote_code: bool = False
    dtype: str = "auto"  # auto: bf16 on CUDA, fp32 on CPU; or float32 / bfloat16 / float16
    attn_implementation: str = "auto"  # auto: flash_attention_2 when installed on CUDA, else sdpa
    tiny_hidden: int = 32
    tiny_layers: int = 2
    tiny_image_size: int = 56  # fixed-resolution families' tiny vision input side
    seed: int = 0  # init seed of the tiny random weights


@dataclass
class VideoInput:
    """One clip prepared for one model: tensors for the vision tower and the token ids that stand for it."""

    tensors: dict[str, Any]
    tokens: list[int]
    video_token_id: int
    extra: dict[str, Any] = field(default_factory=dict)
    frames_dropped: int = 0  # frames thinned out to meet lmm.max_video_tokens
    downscaled: bool = False  # frames made smaller to meet lmm.max_video_tokens


class LmmAdapter:
    """One model family. Its registry name lives only in its spec (`LmmAdapterSpec.name`), so a lab
    checkpoint can reuse a family's class under its own name."""

    model_class = ""  # transformers class name
    vision_prefixes: tuple[str, ...] = ()
    projector_prefixes: tuple[str, ...] = ()
    language_prefixes: tuple[str, ...] = ("model.language_model.", "lm_head.")
    video_marker = "<video>"  # what the chat template renders for one video item
    # The family's chat template as its checkpoints ship it: tiny tokenizers carry it; a real checkpoint's
    # own template (tokenizer_config.json, chat_template.jinja/json) is always the one used.
    chat_template = ""
    # transformers' processor, image-processor and video-processor classes: the exported model names them
    processor_classes: tuple[str, str, str] = ("", "", "")
    mean, std = CLIP_MEAN, CLIP_STD

    def __init__(self, config: LmmConfig):
        self.config = config
        if not config.tiny and not config.model:
            raise ConfigError(
                f"lmm ({self.model_class or type(self).__name__}): set lmm.model=<local folder or hub id>, "
                "or lmm.tiny=true for a tiny random model"
            )

    # ---- loading -------------------------------------------------------------------------------------------
    def load(self, device: str = "cpu"):
        """(model, tokenizer) on `device`; a tiny model is built from config, never downloaded."""
        import torch
        import transformers

        dtype = resolve_dtype(self.config.dtype, device)
        attn = resolve_attn(self.config.attn_implementation, device)
        if self.config.tiny and not (self.config.model and os.path.isdir(self.config.model)):
            tokenizer = self.tiny_tokenizer()
            torch.manual_seed(self.config.seed)
            model_config = self.tiny_config(tokenizer)
            model_config._attn_implementation = attn
            model = getattr(transformers, self.model_class)(model_config)
        else:
            tokenizer = load_tokenizer(self.config.model, self.config.trust_remote_code)
            model = getattr(transformers, self.model_class).from_pretrained(
                self.config.model,
                dtype=dtype,
                attn_implementation=attn,
                trust_remote_code=self.config.trust_remote_code,
            )
        model.to(device=device, dtype=dtype)
        self.model_config = model.config  # preprocessing reads the vision geometry from it
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        return model, tokenizer

    def vision_geometry(self) -> tuple[int, int]:
        """(input side, patch size) of a fixed-resolution vision tower, from the loaded model's config."""
        vision = self.model_config.vision_config
        side, patch = vision.image_size, vision.patch_size
        side = side[0] if isinstance(side, (list, tuple)) else side
        patch = patch[0] if isinstance(patch, (list, tuple)) else patch
        return int(side), int(patch)

    def tiny_tokenizer(self):
        raise NotImplementedError

    def tiny_config(self, tokenizer):
        raise NotImplementedError

    def tiny_text_config(self, tokenizer, **extra) -> dict:
        """The language-model half of a tiny config, the same in every family: small, the tokenizer's ids."""
        c = self.config
        return {
            "vocab_size": len(tokenizer),
            "hidden_size": c.tiny_hidden,
            "intermediate_size": 2 * c.tiny_hidden,
            "num_hidden_layers": c.tiny_layers,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": None,
            **extra,
        }

    # ---- inputs --------------------------------------------------------------------------------------------
    def video_input(self, frames, tokenizer) -> VideoInput:
        """Frames (`preprocess.Frames`) -> pixel tensors + the placeholder token ids the model expects."""
        raise NotImplementedError

    def batch_fields(self, items: list[VideoInput], batch: dict[str, Any]) -> dict[str, Any]:
        """The model inputs a batch of these clips adds to the padded text `batch` (input_ids, attention_mask,
        labels): by default the clips' tensors concatenated along the first axis. A family that needs more
        (token type ids, per-clip timing) extends this."""
        import torch

        keys = items[0].tensors.keys()
        return {k: torch.cat([it.tensors[k] for it in items]) for k in keys}

    def marker_ids(self, tokenizer) -> list[int]:
        return tokenizer(self.video_marker, add_special_tokens=False)["input_ids"]

    def frames_for_budget(self, frames, per_frame: int, fixed: int = 0):
        """Fixed-resolution families: thin the frames evenly until `frames * per_frame + fixed` tokens fit
        `max_video_tokens` (their per-frame token count cannot shrink). Returns (frames, how many dropped)."""
        from s2i_core.lmm.preprocess import thin

        budget, count = self.config.max_video_tokens, len(frames.pixels)
        if not budget or count * per_frame + fixed <= budget:
            return frames, 0
        kept = thin(frames, (budget - fixed) // max(1, per_frame))
        return kept, count - len(kept.pixels)

    # ---- export --------------------------------------------------------------------------------------------
    def normalization(self) -> tuple[list, list]:
        """(image_mean, image_std) this model is trained and scored with: the checkpoint's, else the family's."""
        mean = processor_setting(self.config.model, "image_mean", self.mean, tiny=self.config.tiny)
        std = processor_setting(self.config.model, "image_std", self.std, tiny=self.config.tiny)
        return list(mean), list(std)

    def image_settings(self) -> dict:
        """The image/video processor settings that match this adapter's preprocessing (family geometry)."""
        return {}

    def video_settings(self) -> dict:
        """The video processor's settings, where they differ from the image processor's."""
        return self.image_settings()

    def processor_settings(self) -> dict:
        """Extra fields of the processor itself (e.g. LLaVA-OneVision's num_image_tokens)."""
        return {}

    def processor_files(self) -> dict[str, dict]:
        """The processor files transformers reads (4.x: preprocessor_config.json and
        video_preprocessor_config.json; 5.x: processor_config.json) for this adapter's preprocessing."""
        processor, image_class, video_class = self.processor_classes
        mean, std = self.normalization()
        common = {"do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                  "do_convert_rgb": True, "resample": 3, "image_mean": mean, "image_std": std}  # fmt: skip
        image = common | self.image_settings() | {"image_processor_type": image_class}
        video = common | self.video_settings() | {"do_sample_frames": False, "video_processor_type": video_class}
        extra = self.processor_settings()
        return {
            "preprocessor_config.json": image | {"processor_class": processor},
            "video_preprocessor_config.json": video | {"processor_class": processor},
            "processor_config.json": {"image_processor": image, "video_processor": video,
                                      "processor_class": processor, **extra},
        }  # fmt: skip

    # ---- parameters ----------------------------------------------------------------------------------------
    def group_of(self, name: str) -> str | None:
        """'vision' | 'projector' | 'language' for a parameter name (peft prefixes stripped)."""
        name = name.removeprefix("base_model.model.")
        for group, prefixes in (
            ("projector", self.projector_prefixes),
            ("vision", self.vision_prefixes),
            ("language", self.language_prefixes),
        ):
            if any(name.startswith(p) for p in prefixes):
                return group
        return None

    def unused_on_video(self) -> tuple[str, ...]:
        """Name prefixes of parameters no video forward reaches (an image-only head, encoder layers past the
        one the projector reads), from the loaded model's config. Training freezes them: DDP then needs no
        `find_unused_parameters` search every step, and nothing trains that cannot learn."""
        return ()

    def lora_target_modules(self) -> str:
        """A regex, so LoRA lands on the LLM's linears and never on same-named vision-tower linears."""
        return r".*language_model.*\.(" + "|".join(LORA_LINEARS) + r")$"


def layers_past_feature_layer(feature_layer, num_layers: int, prefix: str) -> tuple[str, ...]:
    """Prefixes of the vision encoder layers after the hidden state the projector reads: hidden state i is the
    output of the first i layers, so with `vision_feature_layer=-2` the last layer feeds nothing."""
    chosen = feature_layer if isinstance(feature_layer, (list, tuple)) else [feature_layer]
    deepest = max(int(i) if int(i) >= 0 else num_layers + 1 + int(i) for i in chosen)
    return tuple(f"{prefix}{i}." for i in range(deepest, num_layers))


def resolve_dtype(name: str, device: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    if not hasattr(torch, name):
        raise ConfigError(f"lmm.dtype {name!r} is not a torch dtype (float32, bfloat16, float16, auto)")
    return getattr(torch, name)


def resolve_attn(name: str, device: str) -> str:
    if name != "auto":
        return name
    if str(device).startswith("cuda") and importlib.util.find_spec("flash_attn"):
        return "flash_attention_2"
    return "sdpa"
