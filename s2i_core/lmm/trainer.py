"""Progressive tuning, top to bottom (torchtune style): stage I vision + projector on dimension -> level items
with the LLM frozen; stage II LoRA on the LLM on justifications + QA. Loss on assistant tokens only.

`train(cfg, output_dir, registry) -> summary` is the whole recipe. Each stage writes `stage{N}/metrics.jsonl`,
rotating checkpoints under `stage{N}/checkpoints/` and, when finished, `stage{N}/trained.safetensors` + `done.json`;
rerunning the same command resumes from the last checkpoint (or skips a finished stage).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from typing import Any

from s2i_core.errors import ConfigError
from s2i_core.lmm import checkpoint as ckpt
from s2i_core.lmm import data as D
from s2i_core.lmm import export
from s2i_core.lmm import fingerprint as fp
from s2i_core.lmm import loader as L
from s2i_core.lmm import stage_log
from s2i_core.lmm.adapter import GROUPS
from s2i_core.sig.io import atomic_write_text


def train(cfg: Any, output_dir: str, registry, model_and_tokenizer=None) -> dict:
    """Run the enabled stages; `model_and_tokenizer` lets a bench pass a model built at another size."""
    import torch

    from s2i_core.lmm import distributed as dist

    adapter = registry.build("lmm_adapter", cfg.lmm)
    env = dist.setup(cfg)
    os.makedirs(output_dir, exist_ok=True)
    stages = [s for s in (1, 2) if cfg[f"stage{s}"].enabled]
    if not stages:
        raise ConfigError("both stage1.enabled and stage2.enabled are false: nothing to train")
    fingerprints = fp.check_output(cfg, output_dir, stages, env)  # before a large model is loaded for nothing
    torch.manual_seed(cfg.seed)
    if model_and_tokenizer is None:
        model, tokenizer = adapter.load(env.device)
    else:
        model, tokenizer = model_and_tokenizer
        adapter.model_config = model.config
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    summary: dict = {"lmm": cfg.lmm.impl, "output": output_dir, "stages": {}}
    for stage in stages:
        if stage == 2:
            model = add_lora(model, adapter, cfg.stage2)
        summary["stages"][stage] = run_stage(
            stage, cfg, adapter, model, tokenizer, output_dir, env, fingerprints[stage]
        )
    final = dist.consolidated(model, adapter, env)  # collective under ZeRO-3; None on ranks other than 0
    if env.rank == 0:
        summary["model_dir"] = export.save_final(cfg, adapter, final, tokenizer, output_dir, dtype=env.dtype)
        stage_log.plot_losses(output_dir, stages)
        atomic_write_text(os.path.join(output_dir, "summary.json"), json.dumps(summary, indent=2))
    return summary


def add_lora(model, adapter, stage_cfg):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=int(stage_cfg.lora_r),
        lora_alpha=int(stage_cfg.lora_alpha),
        lora_dropout=float(stage_cfg.lora_dropout),
        target_modules=adapter.lora_target_modules(),
        bias="none",
    )
    return get_peft_model(model, config)


def set_trainable(model, adapter, groups: list[str], lora: bool) -> dict[str, int]:
    """Freeze everything, then unfreeze the named groups (and LoRA weights) except what the video path never
    uses (`adapter.unused_on_video()`); returns trainable counts."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ConfigError(f"unknown parameter group(s) {unknown}; groups are {list(GROUPS)}")
    counts = {g: 0 for g in (*GROUPS, "lora")}
    unused = adapter.unused_on_video()
    for name, param in model.named_parameters():
        is_lora = "lora_" in name
        group = "lora" if is_lora else adapter.group_of(name)
        idle = name.removeprefix("base_model.model.").startswith(unused) if unused else False
        param.requires_grad = ((is_lora and lora) or (group in groups)) and not idle
        if param.requires_grad:
            counts[group] += param.numel()
    if not any(counts.values()):
        raise ConfigError(f"no parameter is trainable with groups={groups}, lora={lora}")
    return counts


def batch_indices(
    n_items: int, batch_size: int, batch_number: int, seed: int, stage: int, rank: int = 0, world: int = 1
) -> list[int]:
    """Which items form global batch `batch_number`: a fixed function of (seed, stage, epoch), so a resumed
    run sees exactly the order an uninterrupted one would."""
    import torch

    global_bs = batch_size * world
    per_epoch = math.ceil(n_items / global_bs)
    epoch, position = divmod(batch_number, per_epoch)
    gen = torch.Generator().manual_seed(seed * 1000 + stage * 100 + epoch)
    order = torch.randperm(n_items, generator=gen).tolist()
    chunk = order[position * global_bs : (position + 1) * global_bs]
    return chunk[rank::world] or chunk[:1]


def run_stage(
    stage: int, cfg, adapter, model, tokenizer, output_dir: str, env, fingerprint: dict | None = None
) -> dict:
    from s2i_core.lmm import distributed as dist

    scfg = cfg[f"stage{stage}"]
    folder = os.path.join(output_dir, f"stage{stage}")
    os.makedirs(os.path.join(folder, "checkpoints"), exist_ok=True)
    counts = set_trainable(model, adapter, list(scfg.train), lora=stage == 2)
    dist.master_weights(model, env)
    items = D.load_items(str(cfg.data), stage, cfg.data_fraction)
    fingerprint = fingerprint or fp.stage_fingerprint(cfg, stage, items, None)
    finished = _finished_stage(folder, fingerprint, model)
    if finished is not None:
        return finished
    dataset = L.Instructions(items, adapter, tokenizer, cfg.max_length, cfg.loader.cache_clips)
    collate = L.Collate(adapter, tokenizer)
    run = _prepare(stage, cfg, model, env, folder, len(items), fingerprint)
    first = batch_indices(len(items), run.batch_size, 0, cfg.seed, stage)
    probe, _ = collate([dataset[i] for i in first])
    if probe is None:
        raise ConfigError(f"stage {stage}: every item of the first batch is dropped by max_length")
    probe = L.to_device(probe, env.device)
    with dist.autocast(env):
        loss_before = probe_loss(model, probe) if run.start == 0 else None
    if env.rank == 0:
        stage_log.keep_until(os.path.join(folder, "metrics.jsonl"), run.start)
    batches = L.plan(len(items), run.batch_size, cfg.seed, stage, run.start * run.accum,
                     run.total * run.accum, env.rank, env.world)
    stats = _train_steps(run, iter(L.make_loader(dataset, batches, L.LoaderConfig(**cfg.loader), env.device)))
    with dist.autocast(env):
        loss_after = probe_loss(model, probe)
    result = {"stage": stage, "steps": run.total, "resumed_from": run.start, "items": len(items),
              "trainable": counts, "loss_before": loss_before, "loss_after": loss_after, **stats,
              "peak_memory_mb": dist.peak_memory_mb(env), "fingerprint": fingerprint}
    trained = ckpt.trainable_state(model)  # every rank: a collective gather under ZeRO-3
    if env.rank == 0:
        ckpt.save_weights(trained, os.path.join(folder, "trained.safetensors"))
        atomic_write_text(os.path.join(folder, "done.json"), json.dumps(result, indent=2))
    return result


def _finished_stage(folder: str, fingerprint: dict, model) -> dict | None:
    """The result of this stage when this run finished it before a restart (its weights restored), else None.
    Never resumes from, or skips to, the state of another run."""
    saved, where = fp.stored(folder)
    if where:
        fp.check(saved, fingerprint, where)
    done_file = os.path.join(folder, "done.json")
    if not os.path.exists(done_file):
        return None
    ckpt.load_weights(model, os.path.join(folder, "trained.safetensors"))
    with open(done_file, encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class _Run:
    """One stage's optimisation state, from its optimizer to the checkpoint it resumes from."""

    stage: int
    cfg: Any
    model: Any
    env: Any
    folder: str
    fingerprint: dict
    batch_size: int
    accum: int
    total: int
    params: list
    optimizer: Any
    scheduler: Any
    engine: Any
    start: int = 0

    @property
    def ds_engine(self):
        return self.engine if self.env.deepspeed is not None else None


def _prepare(stage: int, cfg, model, env, folder: str, n_items: int, fingerprint: dict) -> _Run:
    """Optimizer, schedule and (DDP/DeepSpeed) engine for the stage, restored from its last checkpoint."""
    import torch

    from s2i_core.lmm import distributed as dist

    scfg = cfg[f"stage{stage}"]
    bs, accum = cfg.batch_size, cfg.grad_accum
    per_epoch = math.ceil(n_items / (bs * env.world))
    total = scfg.max_steps or max(1, scfg.epochs * per_epoch // accum)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=scfg.lr, weight_decay=scfg.weight_decay)
    warmup = int(total * scfg.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, warmup, total))
    engine = dist.wrap(cfg, model, optimizer, env)
    run = _Run(stage, cfg, model, env, folder, fingerprint, bs, accum, total, params, optimizer, scheduler, engine)
    checkpoints = os.path.join(folder, "checkpoints")
    run.start = ckpt.load_checkpoint(checkpoints, model, optimizer, scheduler, run.ds_engine)
    return run


def _train_steps(run: _Run, loader) -> dict:
    """Optimizer steps `run.start` .. `run.total`, each logged and checkpointed; timing and data counts."""
    from s2i_core.lmm import distributed as dist

    dist.reset_peak_memory(run.env)
    tally = {"tokens": 0, "waited": 0.0, "data": {k: 0 for k in L.COUNTS}, "reasons": set()}
    began = time.perf_counter()
    run.model.train()
    with stage_log.progress(f"stage {run.stage}", run.total, run.start, run.env.rank == 0) as advance:
        for step in range(run.start, run.total):
            tick = time.perf_counter()
            step_loss, batch_ids = _accumulate(run, loader, step, tally)
            dist.step(run.engine, run.optimizer, run.params, run.cfg.max_grad_norm, run.env)
            run.scheduler.step()
            run.optimizer.zero_grad(set_to_none=True)
            if run.env.rank == 0:
                stage_log.append(os.path.join(run.folder, "metrics.jsonl"), {
                    "stage": run.stage, "step": step + 1, "loss": round(step_loss, 6),
                    "lr": run.scheduler.get_last_lr()[0], "seconds": round(time.perf_counter() - tick, 4),
                    "items": batch_ids})
            _save_if_due(run, step + 1)
            advance(step_loss)
    elapsed = time.perf_counter() - began
    tokens, waited = tally["tokens"], tally["waited"]
    return {"seconds": round(elapsed, 3), "tokens_per_s": round(tokens / elapsed, 2) if elapsed else None,
            "data_wait_s": round(waited, 3), "data_share": round(waited / elapsed, 4) if elapsed else None,
            "data": tally["data"] | {"reasons": sorted(tally["reasons"])}}


def _accumulate(run: _Run, loader, step: int, tally: dict) -> tuple[float, list]:
    """Forward and backward over `run.accum` micro-batches; returns the step's mean loss and its item ids."""
    from s2i_core.lmm import distributed as dist

    step_loss, batch_ids = 0.0, []
    for _ in range(run.accum):
        wait = time.perf_counter()
        batch, got = next(loader)
        tally["waited"] += time.perf_counter() - wait
        for key in L.COUNTS:
            tally["data"][key] += got[key]
        tally["reasons"].update(got["reasons"])
        if batch is None:
            raise ConfigError(
                f"stage {run.stage}, step {step + 1}: every item of the batch was dropped "
                f"({'; '.join(got['reasons'])}); raise max_length or set lmm.max_video_tokens"
            )
        batch = L.to_device(batch, run.env.device)
        with dist.autocast(run.env):
            loss = run.engine(**batch).loss
        dist.backward(run.engine, loss, run.env, run.accum)
        step_loss += float(loss.detach()) / run.accum
        tally["tokens"] += int(batch["attention_mask"].sum())
        batch_ids += got["ids"]
    return step_loss, batch_ids


def _save_if_due(run: _Run, done: int) -> None:
    """Checkpoint every `save_every` steps and at the end. DeepSpeed saves collectively (every rank writes its
    partition); otherwise rank 0 alone."""
    if done % run.cfg.save_every and done != run.total:
        return
    if run.env.deepspeed is None and run.env.rank != 0:
        return
    ckpt.save_checkpoint(os.path.join(run.folder, "checkpoints"), done, run.model, run.optimizer, run.scheduler,
                         {"stage": run.stage, "total": run.total, "fingerprint": run.fingerprint},
                         keep=run.cfg.keep_checkpoints, engine=run.ds_engine)


def probe_loss(model, batch) -> float:
    """Loss on the stage's first batch, without dropout: comparable before and after training."""
    import torch

    was_training = model.training
    model.eval()
    with torch.no_grad():
        value = float(model(**batch).loss)
    model.train(was_training)
    return round(value, 6)


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
