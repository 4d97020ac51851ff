"""Checkpoints that survive a kill: trainable weights, optimizer, scheduler, RNG and step, written atomically.

Only parameters that train are saved (vision + projector in stage I, LoRA in stage II): the frozen rest is
rebuilt from the base model, so a checkpoint of a 7B run is megabytes, not gigabytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil

STEP_DIR = re.compile(r"^step_(\d+)$")


def trainable_state(model) -> dict:
    """Full CPU copies of the trainable parameters (gathered from their shards under ZeRO-3: collective)."""
    from s2i_core.lmm.distributed import gathered_state

    return gathered_state(model, only_trainable=True)


def save_weights(state: dict, path: str) -> None:
    from safetensors.torch import save_file

    save_file(state, path)


def load_weights(model, path: str, *, strict: bool = True) -> int:
    """Copy saved tensors into the model's parameters by name; returns how many were loaded."""
    import torch
    from safetensors.torch import load_file

    from s2i_core.errors import ConfigError

    saved = load_file(path)
    params = dict(model.named_parameters())
    missing = [n for n in saved if n not in params]
    if missing and strict:
        raise ConfigError(
            f"{path}: {len(missing)} saved tensors match no parameter (first: {missing[0]!r}); "
            "was it written by another model or LoRA setting?"
        )
    from s2i_core.lmm.distributed import gathered

    targets = [params[n] for n in saved if n in params]
    with torch.no_grad(), gathered(targets, modify=True):  # ZeRO-3: write the full tensors, re-shard after
        for name, tensor in saved.items():
            if name in params:
                params[name].copy_(tensor.to(params[name].device, params[name].dtype))
    return len(saved) - len(missing)


def save_checkpoint(
    folder: str, step: int, model, optimizer, scheduler, extra: dict, keep: int = 2, engine=None
) -> str:
    """Write `folder/step_N` through a temporary folder and a rename, so a kill never leaves half a checkpoint.

    Under DeepSpeed the engine saves its own (partitioned) optimizer and fp32 master weights; `meta.json`,
    written last, marks the checkpoint complete."""
    import torch

    final = os.path.join(folder, f"step_{step:07d}")
    if engine is not None and hasattr(engine, "save_checkpoint"):
        tag = os.path.basename(final)
        engine.save_checkpoint(
            folder, tag=tag, client_state={"scheduler": scheduler.state_dict(), "rng": torch.get_rng_state()}
        )
        with open(os.path.join(final, "meta.json"), "w", encoding="utf-8") as fh:
            json.dump({"step": step, "deepspeed": True, **extra}, fh)
        _rotate(folder, keep)
        return final
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_weights(trainable_state(model), os.path.join(tmp, "trainable.safetensors"))
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state()},
        os.path.join(tmp, "state.pt"),
    )
    with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as fh:
        json.dump({"step": step, **extra}, fh)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    _rotate(folder, keep)
    return final


def _rotate(folder: str, keep: int) -> None:
    for old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        shutil.rmtree(os.path.join(folder, f"step_{old:07d}"), ignore_errors=True)


def list_checkpoints(folder: str) -> list[int]:
    """Steps of the complete checkpoints in `folder` (a folder without meta.json was cut short by a kill)."""
    if not os.path.isdir(folder):
        return []
    return sorted(
        int(m.group(1))
        for m in map(STEP_DIR.match, os.listdir(folder))
        if m and os.path.exists(os.path.join(folder, m.group(0), "meta.json"))
    )


def load_checkpoint(folder: str, model, optimizer, scheduler, engine=None) -> int:
    """Restore the newest checkpoint in `folder`; returns its step (0 when there is none)."""
    import torch

    steps = list_checkpoints(folder)
    if not steps:
        return 0
    path = os.path.join(folder, f"step_{steps[-1]:07d}")
    if engine is not None and hasattr(engine, "load_checkpoint"):
        _, client = engine.load_checkpoint(folder, tag=os.path.basename(path))
        scheduler.load_state_dict(client["scheduler"])
        torch.set_rng_state(client["rng"])
        return steps[-1]
    load_weights(model, os.path.join(path, "trainable.safetensors"))
    state = torch.load(os.path.join(path, "state.pt"), weights_only=True)  # tensors and plain data only
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    return steps[-1]
