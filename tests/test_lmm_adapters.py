"""Every registered LMM adapter meets the contract (`s2i_core.lmm.checklist`) on a tiny model and a real
decoded video, the checklist catches the mistakes it exists for, and preprocessing matches the official
processors where they can run."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from lmm_helpers import lmm_registry

from s2i_core.lmm.checklist import AdapterCheckFailed, check_adapter
from s2i_core.lmm.preprocess import Frames, normalize, resize, sample_frames
from lmm_helpers import lmm_registry
from s2i_plugins.lmms.llava import LlavaOneVisionAdapter
from s2i_plugins.lmms.qwen import Qwen2VLAdapter

ADAPTERS = lmm_registry().names("lmm_adapter")  # every registered family, a new one included

@pytest.fixture(scope="module")
def registry():
    return lmm_registry()


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    from conftest import make_video

    return str(make_video(tmp_path_factory.mktemp("lmm") / "clip.mp4", size="160x120", seconds=0.5))


def build(registry, name, **options):
    adapter = registry.build(
        "lmm_adapter",
        {"impl": name, "tiny": True, "frames": 4, "max_pixels": 56 * 56, "tiny_image_size": 28, **options},
    )
    model, tokenizer = adapter.load("cpu")
    return adapter, model, tokenizer


@pytest.mark.parametrize("name", ADAPTERS)
def test_every_adapter_meets_the_contract(registry, clip_path, name):
    """Tiny build, template and labels, video input and budget, batch fields, groups, the unused rule, scoring,
    generation and a LoRA step: the checklist a new family's tests run too."""
    measured = check_adapter(registry, name, clip_path)
    assert measured["video_tokens"] >= 4 and measured["loss"] > 0
    assert sum(measured["probabilities"].values()) == pytest.approx(1, abs=1e-4)


class _MisspelledBatchField(Qwen2VLAdapter):
    def batch_fields(self, items, batch):
        return super().batch_fields(items, batch) | {"video_grid_twh": torch.zeros(1)}


class _LoraOnTheVisionTower(Qwen2VLAdapter):
    def lora_target_modules(self) -> str:
        return r".*\.(qkv|q_proj|v_proj)$"


class _UnusedTypo(LlavaOneVisionAdapter):
    def unused_on_video(self):
        return ("model.vision_tower.post_layer_norm.",)


class _ForgetsTheBudget(LlavaOneVisionAdapter):
    def frames_for_budget(self, frames, per_frame, fixed=0):
        return frames, 0


@pytest.mark.parametrize("broken,rule", [
    (_MisspelledBatchField, "video_grid_twh"),
    (_LoraOnTheVisionTower, "language model only"),
    (_UnusedTypo, "matches nothing"),
    (_ForgetsTheBudget, "max_video_tokens"),
])  # fmt: skip
def test_the_checklist_names_what_a_broken_adapter_gets_wrong(clip_path, broken, rule):
    import types

    from s2i_core.hookspecs import hookimpl
    from s2i_core.lmm.adapter import LmmConfig
    from s2i_core.registry import load_registry
    from s2i_core.specs import LmmAdapterSpec

    plugin = types.ModuleType("broken_family")
    plugin.s2i_lmm_adapters = hookimpl(lambda: [LmmAdapterSpec("broken", broken, LmmConfig)])
    registry = load_registry(load_entry_points=False, extra=[("broken_family", plugin)])
    with pytest.raises(AdapterCheckFailed, match=rule):
        check_adapter(registry, "broken", clip_path)


def test_unknown_group_and_missing_model_are_config_errors(registry):
    from s2i_core.errors import ConfigError

    with pytest.raises(ConfigError, match="lmm.model"):
        registry.build("lmm_adapter", {"impl": "qwen2_vl"})
    adapter, model, _ = build(registry, "qwen2_vl")
    from s2i_core.lmm.trainer import set_trainable

    with pytest.raises(ConfigError, match="unknown parameter group"):
        set_trainable(model, adapter, ["visoin"], lora=False)


def test_qwen_patchify_matches_official_image_processor():
    """Same normalisation and patch order as transformers' Qwen2-VL processor (PIL backend, no torchvision):
    an image is a 1-frame video whose frame is repeated over the temporal patch."""
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from s2i_plugins.lmms.qwen import patchify

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(56, 84, 3), dtype=np.uint8)
    official = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 84 * 4)(
        images=[Image.fromarray(frame)], return_tensors="pt"
    )
    video = normalize(
        resize(frame[None], 56, 84), (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    )
    ours, grid = patchify(video, 14, 2, 2)
    assert list(official["image_grid_thw"][0]) == [1, *grid[1:]]
    torch.testing.assert_close(ours, official["pixel_values"].float(), atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(
    not importlib.util.find_spec("torchvision"),
    reason="official video processors need torchvision, which this CPU environment lacks",
)
def test_qwen_video_preprocessing_matches_official_video_processor(clip_path, registry):
    from transformers import Qwen2VLVideoProcessor

    adapter, _, tokenizer = build(registry, "qwen2_vl", max_pixels=112 * 112)
    frames = sample_frames(clip_path, 4)
    ours = adapter.video_input(frames, tokenizer)
    official = Qwen2VLVideoProcessor(min_pixels=28 * 28, max_pixels=112 * 112)(
        videos=[torch.from_numpy(frames.pixels).permute(0, 3, 1, 2)],
        do_sample_frames=False,
        cap_pixels_per_frame=False,
        return_tensors="pt",
    )
    assert torch.equal(ours.tensors["video_grid_thw"], official["video_grid_thw"])
    torch.testing.assert_close(
        ours.tensors["pixel_values_videos"], official["pixel_values_videos"].float(), atol=1e-4, rtol=0
    )


FIXED_SIDE_PROCESSORS = {  # adapter -> (official video processor class, its size settings for a square side)
    "llava_onevision": ("LlavaOnevisionVideoProcessor", lambda s: {"size": {"height": s, "width": s}}),
    "llava_next_video": ("LlavaNextVideoVideoProcessor",
                         lambda s: {"size": {"shortest_edge": s}, "crop_size": {"height": s, "width": s}}),
    "internvl": ("InternVLVideoProcessor", lambda s: {"size": {"height": s, "width": s}}),
}


@pytest.mark.skipif(
    not importlib.util.find_spec("torchvision"),
    reason="official video processors need torchvision, which this CPU environment lacks",
)
@pytest.mark.parametrize("name", sorted(FIXED_SIDE_PROCESSORS))
def test_fixed_resolution_preprocessing_matches_official_video_processor(clip_path, registry, name):
    import transformers

    adapter, _, tokenizer = build(registry, name)
    frames = sample_frames(clip_path, 4)
    ours = next(iter(adapter.video_input(frames, tokenizer).tensors.values()))
    side, _ = adapter.vision_geometry()
    cls, size = FIXED_SIDE_PROCESSORS[name]
    official = getattr(transformers, cls)(**size(side))(
        videos=[torch.from_numpy(frames.pixels).permute(0, 3, 1, 2)], do_sample_frames=False, return_tensors="pt"
    )["pixel_values_videos"]
    assert ours.numel() == official.numel()
    torch.testing.assert_close(ours.reshape(official.shape), official.float(), atol=1e-4, rtol=0)


def test_frames_are_sampled_evenly(clip_path):
    frames = sample_frames(clip_path, 4)
    assert isinstance(frames, Frames) and frames.pixels.shape == (4, 120, 160, 3)
    assert frames.indices[0] == 0 and np.all(np.diff(frames.times) > 0)


@pytest.mark.parametrize("name", ADAPTERS)
def test_train_config_composes_for_every_adapter(name):
    from lmm_helpers import compose, tiny_overrides

    cfg = compose("train", tiny_overrides(name) + ["data=/nowhere", "stage2.lora_r=8", "stage1.enabled=false"])
    assert cfg.lmm.impl == name and cfg.lmm.tiny and cfg.stage2.lora_r == 8 and not cfg.stage1.enabled
    assert cfg.data_fraction == 1.0 and cfg.seed == 0


def test_missing_data_names_the_file(tmp_path):
    from s2i_core.errors import ConfigError
    from s2i_core.lmm.data import load_items

    with pytest.raises(ConfigError, match="manifest.json is missing"):
        load_items(str(tmp_path), 1)
