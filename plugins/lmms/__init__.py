"""Built-in video-LMM adapters: one spec per model family (classes imported only when a spec is built)."""

from __future__ import annotations

import importlib

from s2i_core.hookspecs import hookimpl
from s2i_core.lmm.adapter import LmmConfig
from s2i_core.specs import LmmAdapterSpec

_FAMILIES = (
    ("qwen2_vl", "qwen", "Qwen2VLAdapter", "Qwen2-VL (dynamic resolution, M-RoPE)"),
    ("qwen2_5_vl", "qwen", "Qwen25VLAdapter", "Qwen2.5-VL (window attention vision tower, absolute time)"),
    ("qwen3_vl", "qwen", "Qwen3VLAdapter", "Qwen3-VL (DeepStack, per-frame timestamps)"),
    ("llava_onevision", "llava", "LlavaOneVisionAdapter", "LLaVA-OneVision and LLaVA-Video-Qwen2 (SigLIP + Qwen2)"),
    ("llava_next_video", "llava", "LlavaNextVideoAdapter", "LLaVA-NeXT-Video (CLIP + Llama/Vicuna, 2x2 pool)"),
    ("internvl", "internvl", "InternVLAdapter", "InternVL 2.5/3 (transformers-native, pixel shuffle)"),
)


def _builder(module: str, cls: str):
    def build(config: LmmConfig):
        return getattr(importlib.import_module(f"s2i_plugins.lmms.{module}"), cls)(config)

    return build


@hookimpl
def s2i_lmm_adapters():
    for name, module, cls, description in _FAMILIES:
        yield LmmAdapterSpec(name=name, build=_builder(module, cls), config=LmmConfig, description=description)
