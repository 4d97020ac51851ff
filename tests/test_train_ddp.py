"""DDP for every adapter: what the video path never uses is frozen (so DDP runs without an unused-parameter
search), the rule is exact for each family, and torchrun with two CPU ranks over gloo trains in step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import two_clip_instructions
from lmm_helpers import compose, lmm_registry, tiny_overrides


ADAPTERS = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_onevision", "llava_next_video", "internvl"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    return two_clip_instructions(root)


def _video_batch(adapter, tokenizer, data: str) -> dict:
    from s2i_core.lmm import data as D

    item = D.load_items(data, 1, 1.0)[0]
    frames = D.VideoCache(adapter, tokenizer).get(item.video)
    example = D.encode(adapter, tokenizer, D.to_messages(item.conversations), frames, 4096)
    return D.collate(adapter, tokenizer, [example])


@pytest.mark.parametrize(
    "lmm,feature_layer",
    [(name, None) for name in ADAPTERS] + [("llava_onevision", -2), ("llava_next_video", -2), ("internvl", -2)],
)
def test_the_video_path_reaches_every_trainable_parameter_and_nothing_frozen_as_unused(
    data_dir, lmm, feature_layer
):
    """Stage I groups + LoRA trainable: one video forward/backward gives every trainable parameter a gradient,
    and each parameter frozen as unused (`adapter.unused_on_video()`) gets none when allowed to train. A
    feature layer of -2 (LLaVA-NeXT-Video's real checkpoints) leaves the tower's last layer idle too."""
    import torch
    import transformers

    from s2i_core.lmm.trainer import add_lora, set_trainable

    cfg = compose("train", tiny_overrides(lmm) + [f"data={data_dir}", "output=unused"])
    adapter = lmm_registry().build("lmm_adapter", cfg.lmm)
    model, tokenizer = adapter.load("cpu")
    if feature_layer is not None:
        config = adapter.tiny_config(tokenizer)
        config.vision_feature_layer = feature_layer
        torch.manual_seed(0)
        model = getattr(transformers, adapter.model_class)(config)
        adapter.model_config = model.config
    model = add_lora(model, adapter, cfg.stage2)
    set_trainable(model, adapter, ["vision", "projector"], lora=True)
    idle = [
        p
        for n, p in model.named_parameters()
        if not p.requires_grad and n.removeprefix("base_model.model.").startswith(adapter.unused_on_video())
    ]
    if lmm.startswith("llava") or feature_layer is not None:
        assert idle, f"{lmm}: nothing declared unused on the video path"
    for p in idle:
        p.requires_grad = True  # let the unused ones train, to see that no gradient reaches them
    model(**_video_batch(adapter, tokenizer, data_dir)).loss.backward()
    params = dict(model.named_parameters())
    idle_ids = {id(p) for p in idle}
    no_grad = [n for n, p in params.items() if p.requires_grad and p.grad is None and id(p) not in idle_ids]
    assert not no_grad, f"{lmm}: trainable but unused on the video path: {no_grad[:5]}"
    reached = [n for n, p in params.items() if id(p) in idle_ids and p.grad is not None]
    assert not reached, f"{lmm}: frozen as unused, yet the video path uses {reached[:5]}"
    if feature_layer == -2:
        depth = model.config.vision_config.num_hidden_layers
        assert any(f".{depth - 1}." in n for n, p in params.items() if id(p) in idle_ids)


@pytest.mark.slow
@pytest.mark.parametrize("lmm", ADAPTERS)
def test_torchrun_two_cpu_ranks_train_in_step(tmp_path, data_dir, lmm):
    """DDP over gloo with two ranks: each rank sees its half of every global batch, gradients are averaged, so
    both ranks end with the same weights (same probe loss) and rank 0 alone writes the model."""
    out = tmp_path / "out"
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    proc = subprocess.run(
        [
            torchrun,
            "--nproc_per_node",
            "2",
            "--master_port",
            str(29600 + (os.getpid() + ADAPTERS.index(lmm)) % 300),
            "-m",
            "s2i_core.cli",
            "train",
            *tiny_overrides(lmm),
            f"data={data_dir}",
            f"output={out}",
            "stage1.max_steps=2",
            "stage2.max_steps=2",
            "stage1.lr=5e-3",
            "batch_size=1",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in (1, 2):
        rows = [json.loads(r) for r in (out / f"stage{stage}" / "metrics.jsonl").read_text().splitlines()]
        assert [len(r["items"]) for r in rows] == [1, 1]  # rank 0's share of a global batch of 2
        # both ranks print their final loss; their output shares one pipe, so a line may be split by the other
        # rank's: find the summaries anywhere in the text, not at line starts
        finals = re.findall(rf"stage {stage}: 2 steps, loss \S+ -> (\S+),", proc.stdout)
        assert len(finals) == 2 and len(set(finals)) == 1, proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stages"]["1"]["loss_after"] < summary["stages"]["1"]["loss_before"]
    assert (out / "model" / "s2i_lmm.json").exists()
