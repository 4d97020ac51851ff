"""Progressive tuning of a video LMM on S2I instructions (stage I vision, stage II LoRA)."""

from __future__ import annotations

from s2i_core.cli import EXIT_OK
from s2i_core.hydra_bridge import job_output_dir


RANGES = {"data_fraction": (0.0, 1.0), "batch_size": (1, None), "grad_accum": (1, None), "max_length": (1, None),
          "save_every": (1, None), "keep_checkpoints": (0, None), "stage1.epochs": (0, None),
          "stage1.max_steps": (0, None), "stage2.epochs": (0, None), "stage2.max_steps": (0, None),
          "stage2.lora_r": (1, None)}


def run(cfg, registry) -> int:
    from rich.console import Console

    from s2i_core.lmm.trainer import train

    summary = train(cfg, job_output_dir(cfg), registry)
    console = Console()
    for stage, result in summary["stages"].items():
        data = result.get("data", {})
        console.print(
            f"stage {stage}: {result['steps']} steps, loss {result['loss_before']} -> "
            f"{result['loss_after']}, {result['tokens_per_s']} tokens/s, waiting for data "
            f"{result.get('data_share') or 0:.0%}, answers shortened {data.get('truncated', 0)}, "
            f"items dropped {data.get('dropped', 0)}"
        )
        for reason in data.get("reasons", []):
            console.print(f"  dropped: {reason}", highlight=False)
    if "model_dir" in summary:
        console.print(f"tuned model: {summary['model_dir']}  (s2i assess VIDEO model={summary['model_dir']})")
    return EXIT_OK
