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
from typing import Any

from s2i_core.errors import ConfigError
from s2i_core.lmm import checkpoint as ckpt
from s2i_core.lmm import data as D
from s2i_core.lmm import export
from s2i_core.lmm import fingerprint as fp
from s2i_core.lmm import loader as L
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
    torch.manual_seed(int(cfg.seed))
    if model_and_tokenizer is None:
        model, tokenizer = adapter.load(env.device)
    else:
        model, tokenizer = model_and_tokenizer
        adapter.model_config = model.config
    if cfg.get("gradient_checkpointing", False):
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
        plot_losses(output_dir, stages)
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
    import torch

    from s2i_core.lmm import distributed as dist

    scfg = cfg[f"stage{stage}"]
    folder = os.path.join(output_dir, f"stage{stage}")
    ckpt_dir = os.path.join(folder, "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    counts = set_trainable(model, adapter, list(scfg.train), lora=stage == 2)
    dist.master_weights(model, env)
    items = D.load_items(str(cfg.data), stage, float(cfg.data_fraction))
    fingerprint = fingerprint or fp.stage_fingerprint(cfg, stage, items, None)
    saved, where = fp.stored(folder)
    if where:  # never resume from, or skip to, the state of another run
        fp.check(saved, fingerprint, where)
    done_file = os.path.join(folder, "done.json")
    if os.path.exists(done_file):  # finished before a restart: restore its weights and move on
        ckpt.load_weights(model, os.path.join(folder, "trained.safetensors"))
        with open(done_file, encoding="utf-8") as fh:
            return json.load(fh)

    loader_cfg = L.LoaderConfig(**cfg.get("loader", {}))
    dataset = L.Instructions(items, adapter, tokenizer, int(cfg.max_length), int(loader_cfg.cache_clips))
    collate = L.Collate(adapter, tokenizer)
    bs, accum = int(cfg.batch_size), int(cfg.grad_accum)
    per_epoch = math.ceil(len(items) / (bs * env.world))
    total = int(scfg.max_steps) or max(1, int(scfg.epochs) * per_epoch // accum)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=float(scfg.lr), weight_decay=float(scfg.weight_decay))
    warmup = int(total * float(scfg.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, warmup, total))
    engine = dist.wrap(cfg, model, optimizer, env)
    start = ckpt.load_checkpoint(
        ckpt_dir, model, optimizer, scheduler, engine if env.deepspeed is not None else None
    )
    probe, _ = collate([dataset[i] for i in batch_indices(len(items), bs, 0, int(cfg.seed), stage)])
    if probe is None:
        raise ConfigError(f"stage {stage}: every item of the first batch is dropped by max_length")
    probe = L.to_device(probe, env.device)
    with dist.autocast(env):
        loss_before = probe_loss(model, probe) if start == 0 else None
    if env.rank == 0:  # rows logged after the last checkpoint of a killed run are replayed: drop them
        _keep_until(os.path.join(folder, "metrics.jsonl"), start)
    batches = L.plan(len(items), bs, int(cfg.seed), stage, start * accum, total * accum, env.rank, env.world)
    loader = iter(L.make_loader(dataset, batches, loader_cfg, env.device))
    dist.reset_peak_memory(env)
    tokens, waited = 0, 0.0
    data = {k: 0 for k in L.COUNTS}
    reasons: set[str] = set()
    began = time.perf_counter()
    model.train()
    with _progress(f"stage {stage}", total, start, env.rank == 0) as advance:
        for step in range(start, total):
            tick = time.perf_counter()
            step_loss, batch_ids = 0.0, []
            for _ in range(accum):
                wait = time.perf_counter()
                batch, got = next(loader)
                waited += time.perf_counter() - wait
                for key in L.COUNTS:
                    data[key] += got[key]
                reasons.update(got["reasons"])
                if batch is None:
                    raise ConfigError(
                        f"stage {stage}, step {step + 1}: every item of the batch was dropped "
                        f"({'; '.join(got['reasons'])}); raise max_length or set lmm.max_video_tokens"
                    )
                batch = L.to_device(batch, env.device)
                with dist.autocast(env):
                    loss = engine(**batch).loss
                dist.backward(engine, loss, env, accum)
                step_loss += float(loss.detach()) / accum
                tokens += int(batch["attention_mask"].sum())
                batch_ids += got["ids"]
            dist.step(engine, optimizer, params, float(cfg.max_grad_norm), env)
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if env.rank == 0:
                _append(
                    os.path.join(folder, "metrics.jsonl"),
                    {
                        "stage": stage,
                        "step": step + 1,
                        "loss": round(step_loss, 6),
                        "lr": scheduler.get_last_lr()[0],
                        "seconds": round(time.perf_counter() - tick, 4),
                        "items": batch_ids,
                    },
                )
            # DeepSpeed saves collectively (every rank writes its partition); otherwise rank 0 alone
            if ((step + 1) % int(cfg.save_every) == 0 or step + 1 == total) and (
                env.deepspeed is not None or env.rank == 0
            ):
                ckpt.save_checkpoint(
                    ckpt_dir,
                    step + 1,
                    model,
                    optimizer,
                    scheduler,
                    {"stage": stage, "total": total, "fingerprint": fingerprint},
                    keep=int(cfg.keep_checkpoints),
                    engine=engine if env.deepspeed is not None else None,
                )
            advance(step_loss)
    elapsed = time.perf_counter() - began
    with dist.autocast(env):
        loss_after = probe_loss(model, probe)
    result = {
        "stage": stage,
        "steps": total,
        "resumed_from": start,
        "items": len(items),
        "trainable": counts,
        "loss_before": loss_before,
        "loss_after": loss_after,
        "seconds": round(elapsed, 3),
        "tokens_per_s": round(tokens / elapsed, 2) if elapsed else None,
        "data_wait_s": round(waited, 3),
        "data_share": round(waited / elapsed, 4) if elapsed else None,
        "data": data | {"reasons": sorted(reasons)},
        "peak_memory_mb": dist.peak_memory_mb(env),
        "fingerprint": fingerprint,
    }
    trained = ckpt.trainable_state(model)  # every rank: a collective gather under ZeRO-3
    if env.rank == 0:
        ckpt.save_weights(trained, os.path.join(folder, "trained.safetensors"))
        atomic_write_text(done_file, json.dumps(result, indent=2))
    return result


def probe_loss(model, batch) -> float:
    """Loss on the stage's first batch, without dropout: comparable before and after training."""
    import torch

    was_training = model.training
    model.eval()
    with torch.no_grad():
        value = float(model(**batch).loss)
    model.train(was_training)
    return round(value, 6)


def plot_losses(output_dir: str, stages: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.5), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        rows = _read(os.path.join(output_dir, f"stage{stage}", "metrics.jsonl"))
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows])
        ax.set(title=f"stage {'I' * stage}", xlabel="step", ylabel="loss")
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "loss.png"), dpi=100)
    plt.close(fig)


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _append(path: str, row: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _keep_until(path: str, step: int) -> None:
    rows = [r for r in _read(path) if r["step"] <= step]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def _read(path: str) -> list[dict]:
    """The rows of a metrics log; a torn last line (the process was killed mid-write) is left out."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise ConfigError(f"{path}:{number}: not a JSON line; the log is damaged") from None
    return rows


def _progress(label: str, total: int, start: int, show: bool):
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextmanager
    def bar():
        if not show:
            yield lambda loss: None
            return
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeRemainingColumn(),
            transient=False,
        ) as prog:
            task = prog.add_task(label, total=total, completed=start, loss="-")
            yield lambda loss: prog.update(task, advance=1, loss=f"{loss:.4f}")

    return bar()
