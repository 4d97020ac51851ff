"""DeepSpeed ZeRO saves whole models: with every parameter partitioned (ZeRO-3, persistence threshold 0, a layer
above the shipped 1e5 threshold) a run trains, survives a SIGKILL, resumes, and writes stage weights and a merged
model equal to the same run without DeepSpeed; ZeRO-2 likewise; ZeRO-3 on two ranks equals DDP on two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import torch
from conftest import kill_env, run_s2i, two_clip_instructions
from lmm_helpers import compose, lmm_registry, tiny_overrides
from safetensors.torch import load_file


SAVED = ("stage1/trained.safetensors", "stage2/trained.safetensors", "model/model.safetensors")
SHIPPED_THRESHOLD = 100_000  # conf/ds/zero3.json's stage3_param_persistence_threshold


def _overrides(data: str) -> list[str]:
    return tiny_overrides("qwen2_vl") + [
        f"data={data}",
        "lmm.tiny_hidden=128",  # the vision patch embedding has 150k elements: partitioned even by default
        "stage1.max_steps=2",
        "stage2.max_steps=3",
        "stage1.lr=5e-3",
        "stage2.lr=5e-3",
        "save_every=1",
    ]


def _zero3_everything_partitioned(folder) -> str:
    config = json.loads((files("s2i_conf") / "ds" / "zero3.json").read_text())
    assert config["zero_optimization"]["stage3_param_persistence_threshold"] == SHIPPED_THRESHOLD
    config["zero_optimization"]["stage3_param_persistence_threshold"] = 0
    path = folder / "zero3_threshold0.json"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """The reference: the same recipe in one process without DeepSpeed."""
    from s2i_core.lmm.trainer import train

    root = tmp_path_factory.mktemp("zero")
    data = two_clip_instructions(root)
    out = root / "plain"
    train(compose("train", _overrides(data) + [f"output={out}"]), str(out), registry=lmm_registry())
    return root, data, out


@pytest.mark.slow
@pytest.mark.parametrize("zero", ["zero3", "zero2"])
def test_zero_run_killed_and_resumed_saves_the_model_a_plain_run_does(plain_run, zero):
    root, data, plain = plain_run
    largest = max(t.numel() for t in load_file(plain / "model" / "model.safetensors").values())
    assert largest > SHIPPED_THRESHOLD
    config = _zero3_everything_partitioned(root) if zero == "zero3" else zero
    out = root / zero
    args = ["train", *_overrides(data), f"output={out}", f"deepspeed={config}"]
    env = {"OMP_NUM_THREADS": "1"}
    killed = run_s2i(*args, env={**env, **kill_env(stage=2, step=2)})
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (out / "model").exists()
    resumed = run_s2i(*args, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stages"]["2"]["resumed_from"] == 2 and summary["stages"]["2"]["steps"] == 3

    for name in SAVED:
        want, got = load_file(plain / name), load_file(out / name)
        assert want.keys() == got.keys(), name
        for key, tensor in want.items():
            assert got[key].shape == tensor.shape, f"{name}:{key} saved as {tuple(got[key].shape)}"
            # equal within bf16 rounding of the tensor's scale (the runs differ in float summation order only)
            bf16_step = 2**-8 * float(tensor.abs().max())
            torch.testing.assert_close(got[key], tensor, rtol=2**-8, atol=bf16_step, msg=f"{name}:{key}")


def _torchrun(port: int, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    command = [torchrun, "--nproc_per_node", "2", "--master_port", str(port), "-m", "s2i_core.cli", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_zero3_on_two_ranks_killed_and_resumed_saves_what_ddp_saves(plain_run):
    """Two gloo ranks, each holding half of every parameter, through the stage I -> II switch (LoRA wrapped
    around a partitioned model), a SIGKILL in stage II and a resume: the same weights as DDP on two ranks."""
    root, data, _ = plain_run
    args = [*_overrides(data), "batch_size=1"]
    port = 29000 + os.getpid() % 500
    ddp = _torchrun(port, *args, f"output={root / 'ddp'}")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    zero3 = [*args, f"output={root / 'zero3_ranks'}", f"deepspeed={_zero3_everything_partitioned(root)}"]
    killed = _torchrun(port + 1, *zero3, env=kill_env(stage=2, step=2))
    assert killed.returncode != 0 and not (root / "zero3_ranks" / "model").exists()
    resumed = _torchrun(port + 2, *zero3)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((root / "zero3_ranks" / "summary.json").read_text())
    assert summary["stages"]["2"]["resumed_from"] == 2
    for name in SAVED:
        want, got = load_file(root / "ddp" / name), load_file(root / "zero3_ranks" / name)
        assert want.keys() == got.keys(), name
        for key, tensor in want.items():
            bf16_step = 2**-8 * float(tensor.abs().max())
            torch.testing.assert_close(got[key], tensor, rtol=2**-8, atol=bf16_step, msg=f"{name}:{key}")


@pytest.mark.slow
def test_zero3_shards_are_gathered_for_saving_loading_and_merging(plain_run):
    """In one process: after deepspeed.initialize every parameter is an empty shard; the gathered state, the
    rebuilt plain model and weights written back through load_weights all see the full tensors."""
    import deepspeed

    from s2i_core.lmm import checkpoint as ckpt
    from s2i_core.lmm import distributed as dist
    from s2i_core.lmm.trainer import add_lora, set_trainable

    root, data, _ = plain_run
    zero3 = _zero3_everything_partitioned(root)
    cfg = compose("train", _overrides(data) + [f"output={root / 'unit'}", f"deepspeed={zero3}"])
    env = dist.setup(cfg)
    adapter = lmm_registry().build("lmm_adapter", cfg.lmm)
    model, _ = adapter.load("cpu")
    model = add_lora(model, adapter, cfg.stage2)
    lora_b = model.base_model.model.model.language_model.layers[0].self_attn.q_proj.lora_B.default.weight
    torch.nn.init.normal_(lora_b)  # LoRA B starts at zero: give the merge something to add
    reference = {n: p.detach().clone() for n, p in model.named_parameters()}
    set_trainable(model, adapter, ["projector"], lora=True)
    params = [p for p in model.parameters() if p.requires_grad]
    deepspeed.initialize(model=model, optimizer=torch.optim.AdamW(params, lr=0.0), config=env.deepspeed)
    assert all(p.data.numel() == 0 for p in model.parameters()), "ZeRO-3 left some parameter whole"

    state = dist.gathered_state(model)
    assert state.keys() == reference.keys()
    assert all(torch.equal(state[n], t) for n, t in reference.items())
    trainable = ckpt.trainable_state(model)
    assert trainable and set(trainable) == {n for n, p in model.named_parameters() if p.requires_grad}

    plain = dist.consolidated(model, adapter, env)
    assert not dist.is_partitioned(plain)
    assert all(torch.equal(p, reference[n]) for n, p in plain.named_parameters())
    merged = plain.merge_and_unload()
    q_proj = "model.language_model.layers.0.self_attn.q_proj"
    base = reference[f"base_model.model.{q_proj}.base_layer.weight"]
    assert not torch.equal(merged.state_dict()[f"{q_proj}.weight"], base), "LoRA was not merged"

    path = str(root / "trainable.safetensors")
    ckpt.save_weights({n: t + 1 for n, t in trainable.items()}, path)
    ckpt.load_weights(model, path)
    back = dist.gathered_state(model, only_trainable=True)
    assert all(torch.equal(back[n], t + 1) for n, t in trainable.items())
