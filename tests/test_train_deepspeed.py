"""Distributed paths on CPU: DeepSpeed ZeRO (gloo, world size 1) trains through the engine, writes DeepSpeed
checkpoints (partitioned optimizer + fp32 master weights) and resumes from them. torchrun (DDP) for every
adapter: tests/test_train_ddp.py; ZeRO-3 with partitioned parameters: tests/test_train_zero.py."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import two_clip_instructions
from lmm_helpers import compose, lmm_registry, tiny_overrides


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["zero2"])
def test_deepspeed_trains_and_resumes_on_cpu(tmp_path, stage):
    from s2i_core.lmm.trainer import train

    data = two_clip_instructions(tmp_path)
    out = tmp_path / "out"
    base = tiny_overrides("qwen2_vl") + [
        f"data={data}",
        f"output={out}",
        f"deepspeed={stage}",
        "stage1.max_steps=2",
        "stage1.lr=5e-3",
        "stage2.lr=5e-3",
        "save_every=2",
    ]
    summary = train(compose("train", base + ["stage2.max_steps=4"]), str(out), registry=lmm_registry())
    for result in summary["stages"].values():
        assert result["loss_after"] < result["loss_before"]
    checkpoint = out / "stage2" / "checkpoints" / "step_0000002"
    assert (checkpoint / "meta.json").exists()
    assert any(name.endswith("optim_states.pt") for name in os.listdir(checkpoint))

    # pretend the run was cut after step 2 of its 4 steps: the engine reloads step 2 and carries on
    (out / "stage2" / "done.json").unlink()
    shutil.rmtree(out / "stage2" / "checkpoints" / "step_0000004")
    shutil.rmtree(out / "model")
    resumed = train(compose("train", base + ["stage2.max_steps=4"]), str(out), registry=lmm_registry())
    assert resumed["stages"][2]["resumed_from"] == 2 and resumed["stages"][2]["steps"] == 4
    rows = [json.loads(r) for r in (out / "stage2" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
