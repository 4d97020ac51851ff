"""Every LMM adapter builds a tiny model from config, preprocesses a real decoded video, runs forward and
generate, and takes a LoRA step; preprocessing matches the official processors where they can run."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from lmm_helpers import lmm_registry

from s2i_core.lmm import data as D
from s2i_core.lmm.preprocess import Frames, normalize, qwen_patchify, resize, sample_frames

ADAPTERS = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_onevision", "llava_next_video", "internvl"]
CONVERSATION = [
    {"from": "human", "value": "<video>\nHow is the sharpness of this video?"},
    {"from": "gpt", "value": "The sharpness is good."},
]


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
def test_adapter_forward_generate_and_lora_step(registry, clip_path, name):
    adapter, model, tokenizer = build(registry, name)
    video = adapter.video_input(sample_frames(clip_path, 4), tokenizer)
    example = D.encode(adapter, tokenizer, D.to_messages(CONVERSATION), video)

    # labels cover the assistant answer only, and the video placeholder is expanded in the ids
    answer = tokenizer.decode([i for i, lab in zip(example["input_ids"], example["labels"]) if lab != D.IGNORE])
    assert "The sharpness is good." in answer and "How is the sharpness" not in answer
    assert example["input_ids"].count(video.video_token_id) >= 4

    batch = D.collate(adapter, tokenizer, [example, example])
    out = model(**batch)
    assert out.logits.shape[:2] == batch["input_ids"].shape and torch.isfinite(out.loss)

    prompt = {"input_ids": D.prompt_ids(adapter, tokenizer, "Rate it.", video), "video": video}
    gen_batch = D.collate(adapter, tokenizer, [prompt], left_pad=True)
    gen_batch.pop("labels")
    generated = model.generate(**gen_batch, max_new_tokens=3, do_sample=False)
    assert generated.shape[1] > gen_batch["input_ids"].shape[1]

    # every parameter belongs to exactly one group, and all three groups exist
    groups = {adapter.group_of(n) for n, _ in model.named_parameters()}
    assert groups == {"vision", "projector", "language"}

    from omegaconf import OmegaConf

    from s2i_core.lmm.trainer import add_lora, set_trainable

    peft_model = add_lora(model, adapter, OmegaConf.create({"lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0}))
    counts = set_trainable(peft_model, adapter, [], lora=True)
    assert counts["lora"] > 0 and counts["vision"] == counts["language"] == 0
    lora_names = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert all("language_model" in n for n in lora_names), "LoRA must not land on the vision tower"
    before = {n: p.detach().clone() for n, p in peft_model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    peft_model(**batch).loss.backward()
    optimizer.step()
    changed = [n for n, p in peft_model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert changed and any("lora_B" in n for n in changed)


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

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(56, 84, 3), dtype=np.uint8)
    official = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 84 * 4)(
        images=[Image.fromarray(frame)], return_tensors="pt"
    )
    video = normalize(
        resize(frame[None], 56, 84), (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    )
    ours, grid = qwen_patchify(video, 14, 2, 2)
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
