"""What a stage's checkpoints were trained from, so a rerun into the same `output` resumes only the same run.

A fingerprint holds the resolved settings that change what a stage learns (the model, its preprocessing,
the stage's schedule, batch geometry, seed, data fraction, the stage before it) and a digest of its data: the
instruction file and the size of every video it names. Every checkpoint's `meta.json` and the stage's
`done.json` carry it; a rerun whose fingerprint differs is refused with the keys that changed, unless
`resume=fresh` asks to discard the old stage.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from s2i_core.errors import ConfigError
from s2i_core.lmm.checkpoint import list_checkpoints

# Settings that do not change the result of a stage: where it runs and how often it saves.
NOT_LEARNED = {"save_every", "keep_checkpoints", "gradient_checkpointing", "device", "loader", "output", "debug",
               "resume", "data", "score"}  # fmt: skip
LMM_NOT_LEARNED = {"attn_implementation", "trust_remote_code"}


def stage_fingerprint(cfg, stage: int, items, previous: dict | None) -> dict:
    """{"config": {dotted key: value}, "data": {...}} for `stage` of the run `cfg`."""
    from omegaconf import OmegaConf

    resolved = OmegaConf.to_container(cfg, resolve=True)
    config = {k: v for k, v in resolved.items() if k not in NOT_LEARNED and not k.startswith("stage")}
    config["lmm"] = {k: v for k, v in resolved["lmm"].items() if k not in LMM_NOT_LEARNED}
    config[f"stage{stage}"] = resolved[f"stage{stage}"]
    flat = flatten(config)
    if stage == 2:  # stage II trains on top of what stage I left: a changed stage I invalidates it
        flat["stage1"] = _digest(previous) if previous else "disabled"
    return {"config": flat, "data": data_digest(str(cfg.data), stage, items)}


def instructions_digest(data_dir: str, stages) -> str:
    """sha256 of the instruction files of `stages` under `data_dir`, in that order."""
    digest = hashlib.sha256()
    for stage in stages:
        with open(os.path.join(data_dir, "instructions", f"stage{stage}.jsonl"), "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


def data_digest(data_dir: str, stage: int, items) -> dict:
    instructions = instructions_digest(data_dir, (stage,))
    sizes = hashlib.sha256()
    for video in sorted({it.video for it in items}):
        size = os.path.getsize(video) if os.path.exists(video) else -1
        sizes.update(f"{os.path.basename(video)}\0{size}\n".encode())
    return {"instructions": instructions, "items": len(items), "videos": sizes.hexdigest()}


def changes(saved: dict, current: dict) -> list[str]:
    """Human-readable differences, e.g. "stage2.lr: 0.0002 -> 0.005", "data: instructions/stage2.jsonl"."""
    out = []
    old, new = saved.get("config", {}), current.get("config", {})
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, "(unset)"), new.get(key, "(unset)")  # a saved run's JSON, not a config
        if before != after:
            out.append(f"{key}: {before} -> {after}")
    old_data, new_data = saved.get("data", {}), current.get("data", {})
    labels = {"instructions": "instruction file changed", "items": "item count", "videos": "video files changed"}
    for key, label in labels.items():
        if old_data.get(key) != new_data.get(key):
            detail = f" {old_data.get(key)} -> {new_data.get(key)}" if key == "items" else ""
            out.append(f"data: {label}{detail}")
    return out


RETRAIN = "or resume=fresh to discard the old stage and train it again"


def check(saved: dict | None, current: dict, where: str, remedy: str = RETRAIN) -> None:
    """Raise a ConfigError naming what changed when `saved` (from a checkpoint or done.json) differs; `remedy`
    ends the message after "use a new output= for this one," (the trainer offers resume=fresh)."""
    if saved is None:
        raise ConfigError(
            f"{where} was written without a run fingerprint (an older version): it cannot be checked against "
            f"this config; use a new output= for this one, {remedy}"
        )
    diff = changes(saved, current)
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        raise ConfigError(f"{where} belongs to another run ({shown}); use a new output= for this one, {remedy}")


def check_output(cfg, output_dir: str, stages: list[int], env) -> dict[int, dict]:
    """Fingerprint every enabled stage and compare it with what `output_dir` already holds, before anything
    runs: a stage left by another config or other data is refused (`resume=auto`) or discarded
    (`resume=fresh`, with the final model and summary that came from it)."""
    import shutil

    from s2i_core.lmm import data as D

    mode = cfg.resume
    if mode not in ("auto", "fresh"):
        raise ConfigError(f"resume must be auto or fresh, got {mode!r}")
    fingerprints: dict[int, dict] = {}
    previous = None
    for stage in (1, 2):
        if stage not in stages:
            continue
        items = D.load_items(str(cfg.data), stage, cfg.data_fraction)
        fingerprints[stage] = previous = stage_fingerprint(cfg, stage, items, previous)
    if mode == "fresh":
        if env.rank == 0:
            for name in ("stage1", "stage2", "model", "summary.json", "loss.png"):
                path = os.path.join(output_dir, name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
        _barrier(env)
        return fingerprints
    for stage, current in fingerprints.items():
        found, where = stored(os.path.join(output_dir, f"stage{stage}"))
        if where:
            check(found, current, where)
    return fingerprints


def stored(folder: str) -> tuple[dict | None, str]:
    """(fingerprint, file it came from) of a stage folder's finished result or newest checkpoint."""
    done = os.path.join(folder, "done.json")
    if os.path.exists(done):
        with open(done, encoding="utf-8") as fh:
            return json.load(fh).get("fingerprint"), done
    steps = list_checkpoints(os.path.join(folder, "checkpoints"))
    if steps:
        meta = os.path.join(folder, "checkpoints", f"step_{steps[-1]:07d}", "meta.json")
        with open(meta, encoding="utf-8") as fh:
            return json.load(fh).get("fingerprint"), meta
    return None, ""


def _barrier(env) -> None:
    import torch

    if env.world > 1 and torch.distributed.is_initialized():
        torch.distributed.barrier()


def flatten(node: Any, prefix: str = "") -> dict:
    """{"a.b": value} for a nested dict {"a": {"b": value}}: the form fingerprints compare key by key."""
    if isinstance(node, dict):
        out: dict = {}
        for key, value in node.items():
            out |= flatten(value, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): node}


def _digest(fingerprint: dict) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]
