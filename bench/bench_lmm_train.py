"""Training throughput and peak memory per progressive-tuning stage.

    .venv/bin/python bench/bench_lmm_train.py                  # CPU: small random Qwen2-VL, both stages
    .venv/bin/python bench/bench_lmm_train.py --gpu --steps 20 --batch 4
        # CUDA: 2B-class Qwen2-VL, bf16, 16 frames: tokens/s, MFU, and HF Trainer defaults

Models are random-weight architectures built from config (no download). On a machine without CUDA the GPU
part prints that it was skipped and exits 0.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

from clips import numbered_clips

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # lmm_helpers: test-only, not installed

# Qwen2-VL-2B's published architecture (config.json of Qwen/Qwen2-VL-2B-Instruct), weights random.
QWEN2_VL_2B = {
    "text": {
        "hidden_size": 1536,
        "intermediate_size": 8960,
        "num_hidden_layers": 28,
        "num_attention_heads": 12,
        "num_key_value_heads": 2,
        "vocab_size": 151936,
        "max_position_embeddings": 32768,
    },
    "vision": {
        "depth": 32,
        "embed_dim": 1280,
        "hidden_size": 1536,
        "num_heads": 16,
        "mlp_ratio": 4,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    },
}


def make_data(folder: Path, clips: int, seconds: float, size: str) -> str:
    from s2i_core.dimensions import LEVELS
    from lmm_helpers import write_instructions

    paths = numbered_clips(folder / "in", clips, size, seconds)
    levels = {p.name: LEVELS[i % 5] for i, p in enumerate(paths)}
    return write_instructions(str(folder / "data"), str(folder / "in"), levels, dimensions=14)


def stage_table(title: str, summary: dict):
    from rich.table import Table

    table = Table(title=title)
    for col in ("stage", "steps", "trainable params", "tokens/s", "s/step", "peak memory MB", "loss"):
        table.add_column(col)
    for stage, r in summary["stages"].items():
        trainable = sum(r["trainable"].values())
        table.add_row(
            f"{'I' * int(stage)}",
            str(r["steps"]),
            f"{trainable:,}",
            f"{r['tokens_per_s']:.0f}",
            f"{r['seconds'] / max(1, r['steps'] - r['resumed_from']):.3f}",
            str(r["peak_memory_mb"]),
            f"{r['loss_before']} -> {r['loss_after']}",
        )
    return table


def cpu_run(args) -> None:
    import torch
    from rich.console import Console

    from lmm_helpers import compose, lmm_registry
    from s2i_core.lmm.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp), args.clips, 1.0, "320x240")
        cfg = compose(
            "train",
            [
                f"lmm={args.lmm}",
                "lmm.tiny=true",
                f"lmm.tiny_hidden={args.hidden}",
                f"lmm.tiny_layers={args.layers}",
                f"lmm.frames={args.frames}",
                f"lmm.max_pixels={112 * 112}",
                "lmm.tiny_image_size=112",
                "device=cpu",
                f"data={data}",
                f"output={tmp}/out",
                f"stage1.max_steps={args.steps}",
                f"stage2.max_steps={args.steps}",
                f"batch_size={args.batch}",
                "save_every=1000000",
                f"gradient_checkpointing={args.checkpointing}",
            ],
        )
        summary = train(cfg, f"{tmp}/out", registry=lmm_registry())
    Console().print(
        stage_table(
            f"{args.lmm} hidden={args.hidden} layers={args.layers} frames={args.frames} "
            f"batch={args.batch} on CPU ({platform.machine()}, {torch.get_num_threads()} "
            "threads; peak memory = process RSS high-water)",
            summary,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true", help="the 2B-class CUDA benchmark (skips without CUDA)")
    parser.add_argument("--lmm", default="qwen2_vl")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--checkpointing", default="false")
    parser.add_argument("--smoke", action="store_true", help="with --gpu: run the GPU code path on CPU, small")
    args = parser.parse_args()
    if args.gpu:
        from bench_lmm_gpu import gpu_run

        gpu_run(args)
    else:
        cpu_run(args)


if __name__ == "__main__":
    main()
