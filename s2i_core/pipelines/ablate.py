"""One ablation job (generate -> train -> score); `s2i ablate -m` runs the paper's ablation grid."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from s2i_core.hydra_bridge import job_output_dir


def run(cfg: DictConfig, registry) -> int:
    from hydra.core.hydra_config import HydraConfig

    from s2i_core.bench.ablation import run_job
    from s2i_core.bench.scoring import print_summary

    job = ""
    if HydraConfig.initialized():
        job = HydraConfig.get().runtime.choices.get("experiment") or HydraConfig.get().job.override_dirname
    summary = run_job(cfg, Path(job_output_dir(cfg)), registry, job=job or "default")
    print_summary(summary)
    return 1 if summary["failed"] else 0
