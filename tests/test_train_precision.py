"""Mixed precision keeps fp32 master weights: training with `lmm.dtype=bfloat16` (or float16, with a gradient
scaler) changes as many weights as float32 does, where plain AdamW on bf16 weights drops the small updates; and
DeepSpeed's precision follows `lmm.dtype`."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import run_s2i, two_clip_instructions
from lmm_helpers import compose, lmm_registry, tiny_overrides
from safetensors.torch import load_file


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("precision")
    return two_clip_instructions(root)


def _train(data: str, out, dtype: str) -> tuple[dict, float]:
    """Train stage I 3 steps at the default (small) lr + 1 LoRA step; the share of stage I's trainable weight
    elements that moved from their initial value."""
    from s2i_core.lmm.trainer import train

    overrides = [f"data={data}", f"output={out}", f"lmm.dtype={dtype}", "stage1.max_steps=3"]
    cfg = compose("train", tiny_overrides("qwen2_vl") + overrides + ["stage2.max_steps=1", "batch_size=1"])
    summary = train(cfg, str(out), registry=lmm_registry())
    initial, _ = lmm_registry().build("lmm_adapter", cfg.lmm).load("cpu")  # the same seeded init, same dtype
    initial = dict(initial.named_parameters())
    trained = load_file(out / "stage1" / "trained.safetensors")
    moved = sum(int((t != initial[n].detach().float()).sum()) for n, t in trained.items())
    return summary, moved / sum(t.numel() for t in trained.values())


@pytest.fixture(scope="module")
def fp32_run(data_dir, tmp_path_factory):
    return _train(data_dir, tmp_path_factory.mktemp("fp32") / "out", "float32")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_training_changes_as_many_weights_as_fp32(data_dir, fp32_run, tmp_path, dtype):
    reference, fp32_moved = fp32_run
    summary, moved = _train(data_dir, tmp_path / "out", dtype)
    assert fp32_moved > 0.95
    assert moved >= fp32_moved - 0.01, f"{dtype}: {moved:.1%} of stage I weights moved, fp32 {fp32_moved:.1%}"
    # the forward really ran in the half dtype (same init and data, a different loss) ...
    assert summary["stages"][1]["loss_before"] != reference["stages"][1]["loss_before"]
    # ... over fp32 masters, which the stage weights keep; the merged model is stored in the compute dtype
    for stage in (1, 2):
        saved = load_file(tmp_path / "out" / f"stage{stage}" / "trained.safetensors")
        assert {t.dtype for t in saved.values()} == {torch.float32}
    model = load_file(tmp_path / "out" / "model" / "model.safetensors")
    assert {t.dtype for t in model.values()} == {getattr(torch, dtype)}
    assert summary["stages"][1]["loss_after"] < summary["stages"][1]["loss_before"]


@pytest.mark.parametrize(
    "dtype,bf16,fp16", [("bfloat16", True, False), ("float16", False, True), ("float32", False, False)]
)
def test_deepspeed_precision_follows_lmm_dtype(dtype, bf16, fp16):
    from s2i_core.lmm.distributed import deepspeed_config

    cfg = compose("train", tiny_overrides("qwen2_vl") + ["data=x", "deepspeed=zero3", f"lmm.dtype={dtype}"])
    config = deepspeed_config(cfg, getattr(torch, dtype))
    assert config["bf16"]["enabled"] is bf16 and config["fp16"]["enabled"] is fp16


def test_deepspeed_precision_that_contradicts_lmm_dtype_is_a_config_error(tmp_path):
    ds = tmp_path / "ds.json"
    ds.write_text(json.dumps({"bf16": {"enabled": True}, "zero_optimization": {"stage": 2}}))
    proc = run_s2i("train", *tiny_overrides("qwen2_vl"), f"data={tmp_path}", f"output={tmp_path / 'out'}",
                   f"deepspeed={ds}", "lmm.dtype=float32")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "bf16.enabled is True but lmm.dtype resolves to float32" in proc.stderr
    assert not (tmp_path / "out" / "stage1").exists()
