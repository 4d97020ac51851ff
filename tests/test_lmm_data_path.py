"""The training data path: frames sampled by count or fps, a per-sample budget of video tokens (what gives is
documented), truncation that never cuts video tokens (counted), and DataLoader workers that feed the exact
batches the in-process path does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_video, two_clip_instructions
from lmm_helpers import compose, lmm_registry, tiny_overrides

from s2i_core.lmm import data as D
from s2i_core.lmm.preprocess import sample_frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return str(make_video(tmp_path_factory.mktemp("clips") / "c.mp4", size="160x120", rate=25, seconds=2.0))


def _adapter(family: str, **options):
    adapter = lmm_registry().build(
        "lmm_adapter", {"impl": family, "tiny": True, "max_pixels": 112 * 112, "tiny_image_size": 28} | options
    )
    _, tokenizer = adapter.load("cpu")
    return adapter, tokenizer


def test_frames_by_count_or_by_fps(clip):
    evenly = sample_frames(clip, 5)
    assert evenly.indices.tolist() == [0, 12, 24, 37, 49]
    by_fps = sample_frames(clip, 16, fps=2.0)  # 2 s at 2 fps: 4 frames, half a second apart
    assert len(by_fps.pixels) == 4
    np.testing.assert_allclose(np.diff(by_fps.times), 0.5, atol=0.05)
    capped = sample_frames(clip, 3, fps=8.0)  # 16 frames wanted, 3 allowed: spread over the whole clip
    assert len(capped.pixels) == 3 and capped.times[-1] > 1.9


def test_video_token_budget_lowers_resolution_then_frames(clip):
    frames = sample_frames(clip, 8)
    adapter, tokenizer = _adapter("qwen2_vl")
    full = adapter.video_input(frames, tokenizer)
    assert not full.downscaled and full.frames_dropped == 0
    budget = len(full.tokens) // 3
    adapter.config.max_video_tokens = budget
    smaller = adapter.video_input(frames, tokenizer)  # resolution gives first: all frames kept
    assert len(smaller.tokens) <= budget and smaller.downscaled and smaller.frames_dropped == 0
    assert int(smaller.tensors["video_grid_thw"][0, 0]) == 4
    adapter.config.max_video_tokens = 2  # below one token per temporal patch at min_pixels: frames go
    fewest = adapter.video_input(frames, tokenizer)
    assert len(fewest.tokens) <= 2 and fewest.frames_dropped == 4

    fixed, tokenizer = _adapter("llava_onevision")  # a fixed resolution: only frames can give
    per_clip = len(fixed.video_input(frames, tokenizer).tokens)
    fixed.config.max_video_tokens = per_clip // 2
    thinned = fixed.video_input(frames, tokenizer)
    assert len(thinned.tokens) <= per_clip // 2 and thinned.frames_dropped >= 4
    assert thinned.tensors["pixel_values_videos"].shape[1] == 8 - thinned.frames_dropped


def test_truncation_keeps_the_video_and_drops_a_sample_it_cannot_fit(clip):
    adapter, tokenizer = _adapter("qwen2_vl")
    video = adapter.video_input(sample_frames(clip, 4), tokenizer)
    answer = "The sharpness is good and the noise is poor, so the overall quality of this video is fair. " * 4
    messages = D.to_messages([{"from": "human", "value": "<video>\nAssess the quality."}, {"from": "gpt", "value": answer}])
    whole = D.encode(adapter, tokenizer, messages, video)
    video_end = whole["input_ids"].index(video.video_token_id) + len(video.tokens)
    first_answer = next(i for i, label in enumerate(whole["labels"]) if label != D.IGNORE)
    limit = first_answer + 5
    cut = D.encode(adapter, tokenizer, messages, video, max_length=limit)
    assert cut["dropped"] is None and cut["cut"] == len(whole["input_ids"]) - limit
    assert cut["input_ids"].count(video.video_token_id) == len(video.tokens)  # every video token kept
    assert any(label != D.IGNORE for label in cut["labels"])
    dropped = D.encode(adapter, tokenizer, messages, video, max_length=video_end - 1)
    assert dropped["dropped"] and "beyond max_length" in dropped["dropped"]
    no_answer = D.encode(adapter, tokenizer, messages, video, max_length=first_answer)
    assert no_answer["dropped"] and "no answer token" in no_answer["dropped"]


def test_workers_feed_the_same_batches_and_counts_are_reported(tmp_path):
    from s2i_core.lmm.trainer import train

    data = two_clip_instructions(tmp_path)
    results = {}
    for workers in (0, 2):
        out = tmp_path / f"w{workers}"
        cfg = compose("train", tiny_overrides("qwen2_vl") + [
            f"data={data}", f"output={out}", "stage1.enabled=false", "stage2.max_steps=3", "stage2.lr=5e-3",
            "batch_size=2", f"loader.workers={workers}", "max_length=75"])  # fmt: skip
        results[workers] = train(cfg, str(out), registry=lmm_registry())["stages"][2]
        results[workers]["rows"] = [json.loads(r) for r in (out / "stage2" / "metrics.jsonl").read_text().splitlines()]
    serial, parallel = results[0], results[2]
    assert [r["items"] for r in serial["rows"]] == [r["items"] for r in parallel["rows"]]
    assert [r["loss"] for r in serial["rows"]] == pytest.approx([r["loss"] for r in parallel["rows"]], rel=1e-5)
    # max_length=75 shortens the justifications (92 tokens, answers from token 67) (the video of the tiny model is well within it)
    assert serial["data"]["items"] == 6 and serial["data"]["truncated"] > 0 and serial["data"]["dropped"] == 0
    assert serial["data"] == parallel["data"]
    assert 0 <= parallel["data_share"] <= 1
