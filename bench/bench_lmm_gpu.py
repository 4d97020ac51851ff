"""CUDA part of bench_lmm_train.py: 2B-class Qwen2-VL (random weights), bf16, 16 frames.

Reports tokens/s and MFU per stage of our loop (bf16, SDPA or flash attention, gradient checkpointing) and the
same stage-I job under plain `transformers.Trainer` defaults (fp32 weights, no checkpointing) for comparison.
MFU counts model FLOPs, not recomputation: per LLM token 2N forward + 2N activation gradients + 2N_trainable
weight gradients (+ attention 4*L*S*d forward, twice that backward); the vision tower likewise per patch, with
no backward at all when it is frozen (stage II). The peak is a measured bf16 matmul, not a datasheet number.
The data time share is the part of each stage spent waiting for the DataLoader (decoding in `loader.workers`
processes overlaps the steps). The whole command is sized to finish in under 8 minutes on one H100/H200; it
prints its own wall time.
`--smoke` runs the same code on CPU with a small architecture (to check it without a GPU).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # lmm_helpers: test-only, not installed


def matmul_peak_tflops(device: str, n: int = 8192, iters: int = 30) -> float:
    import torch

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    n = n if device == "cuda" else 512
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        a @ b
    _sync(device)
    return 2 * n**3 * iters / (time.perf_counter() - start) / 1e12


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def build_model(adapter, tokenizer, arch: dict, device: str):
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    from s2i_core.lmm.adapter import resolve_attn

    text = arch["text"] | {
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": arch["mrope"]},
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = Qwen2VLConfig(
        text_config=text, vision_config=arch["vision"], tie_word_embeddings=True, **adapter._token_ids(tokenizer)
    )
    config._attn_implementation = resolve_attn("auto", device)
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return model.to(device=device, dtype=dtype)


def param_counts(model, adapter) -> dict:
    out = {"vision": 0, "llm": 0}
    for name, p in model.named_parameters():
        if "embed_tokens" in name:
            continue  # a lookup, no matmul FLOPs
        group = adapter.group_of(name)
        out["llm" if group == "language" else "vision"] += p.numel()
    if model.config.tie_word_embeddings:  # the tied output projection is a real matmul, listed under embed_tokens
        out["llm"] += model.lm_head.weight.numel()
    return out


def model_flops_per_s(
    result: dict, counts: dict, arch: dict, video_fraction: float, seq: int, stage: int
) -> float:
    tokens_s = result["tokens_per_s"]
    layers, hidden = arch["text"]["num_hidden_layers"], arch["text"]["hidden_size"]
    attn_fwd = 4 * layers * seq * hidden
    trainable = sum(result["trainable"].values())
    llm = tokens_s * (4 * counts["llm"] + 3 * attn_fwd + (2 * trainable if stage == 2 else 0))
    patches_s = tokens_s * video_fraction * 4  # 2x2 patches merge into one LLM token
    vision = patches_s * (6 * counts["vision"] if stage == 1 else 2 * counts["vision"])
    return llm + vision


def hf_trainer_tokens_per_s(adapter, tokenizer, arch, items, cache, device: str, batch: int, steps: int) -> float:
    """Stage I under `transformers.Trainer` with its defaults: fp32 weights, no gradient checkpointing."""
    import torch
    from transformers import Trainer, TrainingArguments

    from s2i_core.lmm import data as D
    from s2i_core.lmm.trainer import set_trainable

    model = build_model(adapter, tokenizer, arch, device).float()
    set_trainable(model, adapter, ["vision", "projector"], lora=False)
    examples = [D.encode(adapter, tokenizer, D.to_messages(it.conversations), cache.get(it.video)) for it in items]
    tokens = (
        sum(len(e["input_ids"]) for e in examples[: batch * steps])
        if len(examples) >= batch * steps
        else sum(len(examples[i % len(examples)]["input_ids"]) for i in range(batch * steps))
    )

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return batch * steps

        def __getitem__(self, i):
            return examples[i % len(examples)]

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=batch,
            max_steps=steps,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            remove_unused_columns=False,
            use_cpu=device != "cuda",
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=Items(),
            data_collator=lambda ex: D.collate(adapter, tokenizer, ex),
        )
        output = trainer.train()
    del model, trainer
    if device == "cuda":
        torch.cuda.empty_cache()
    return tokens / output.metrics["train_runtime"]


def gpu_run(args) -> None:
    import torch
    from bench_lmm_train import QWEN2_VL_2B, make_data, stage_table
    from rich.console import Console
    from rich.table import Table

    from s2i_core.lmm import data as D
    from lmm_helpers import compose, lmm_registry
    from s2i_core.lmm.trainer import train

    console = Console()
    began = time.perf_counter()
    smoke = getattr(args, "smoke", False)
    if not torch.cuda.is_available() and not smoke:
        console.print("[yellow]skipped:[/] no CUDA device (the 2B-class bf16 benchmark needs a GPU)")
        return
    device = "cuda" if torch.cuda.is_available() and not smoke else "cpu"
    arch = dict(QWEN2_VL_2B, mrope=[16, 24, 24])
    frames, size, steps, batch = 16, "640x480", args.steps, args.batch
    if smoke:
        arch = {
            "text": {
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "vocab_size": 1024,
                "max_position_embeddings": 8192,
            },
            "vision": {
                "depth": 2,
                "embed_dim": 64,
                "hidden_size": 64,
                "num_heads": 4,
                "mlp_ratio": 2,
                "patch_size": 14,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
            },
            "mrope": [2, 3, 3],
        }
        frames, size = 4, "160x120"
    peak = matmul_peak_tflops(device)
    registry = lmm_registry()
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp), 4, 2.0, size)
        overrides = [
            "lmm=qwen2_vl",
            "lmm.tiny=true",
            f"lmm.frames={frames}",
            f"device={device}",
            f"data={data}",
            f"output={tmp}/out",
            f"stage1.max_steps={steps}",
            f"stage2.max_steps={steps}",
            f"batch_size={batch}",
            "save_every=1000000",
            "gradient_checkpointing=true",
            f"loader.workers={2 if smoke else 6}",  # decode beside the GPU steps
        ]
        cfg = compose("train", overrides, registry)
        adapter = registry.build("lmm_adapter", cfg.lmm)
        tokenizer = adapter.tiny_tokenizer()
        model = build_model(adapter, tokenizer, arch, device)
        adapter.model_config = model.config
        counts = param_counts(model, adapter)
        summary = train(cfg, f"{tmp}/out", registry=registry, model_and_tokenizer=(model, tokenizer))
        items = D.load_items(data, 1)
        cache = D.VideoCache(adapter, tokenizer)
        sample = D.encode(adapter, tokenizer, D.to_messages(items[0].conversations), cache.get(items[0].video))
        seq = len(sample["input_ids"])
        video_fraction = len(sample["video"].tokens) / seq
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
        try:
            hf = hf_trainer_tokens_per_s(adapter, tokenizer, arch, items, cache, device, batch, steps)
        except torch.cuda.OutOfMemoryError:  # fp32 without checkpointing may not fit: that is a result too
            hf = None
            torch.cuda.empty_cache()
    console.print(
        stage_table(
            f"Qwen2-VL {'smoke' if smoke else '2B-class'} random weights, {frames} frames, "
            f"seq ~{seq} tokens, batch {batch}, on {torch.cuda.get_device_name() if device == 'cuda' else 'CPU'}",
            summary,
        )
    )
    table = Table(title=f"MFU against a measured matmul peak of {peak:.1f} TFLOP/s")
    for col in ("run", "tokens/s", "model TFLOP/s", "MFU", "vs HF Trainer defaults", "waiting for data"):
        table.add_column(col)
    for stage, result in summary["stages"].items():
        flops = model_flops_per_s(result, counts, arch, video_fraction, seq, int(stage)) / 1e12
        ratio = f"{result['tokens_per_s'] / hf:.2f}x" if int(stage) == 1 and hf else ""
        table.add_row(
            f"ours, stage {'I' * int(stage)}",
            f"{result['tokens_per_s']:.0f}",
            f"{flops:.1f}",
            f"{flops / peak:.1%}",
            ratio,
            f"{result['data_share']:.1%}",
        )
    table.add_row(
        "HF Trainer defaults, stage I",
        f"{hf:.0f}" if hf else f"out of memory at batch {batch}",
        "",
        "",
        "1.00x" if hf else "",
        "",
    )
    console.print(table)
    console.print(f"wall time of the whole benchmark: {time.perf_counter() - began:.0f} s")
