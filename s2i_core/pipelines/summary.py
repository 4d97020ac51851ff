"""Collect the metrics of every job of a multirun (e.g. `s2i ablate -m ...`) into one table and plot."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from s2i_core.bench import summary

POSITIONAL = "input"


def run(cfg: DictConfig, registry) -> int:  # noqa: ARG001 - every command gets the registry
    rows = summary.collect(cfg.input)
    files = summary.write(rows, Path(cfg.output), title=cfg.title or f"summary of {cfg.input}")
    summary.print_table(rows, cfg.title)
    folded = summary.over_seeds(rows)
    if folded:
        summary.print_table(folded, f"{cfg.title or 'jobs'}: mean and sd over seeds", summary.MEAN_COLUMNS)
    print(f"{len(rows)} jobs -> " + ", ".join(str(f) for f in files))
    return 0
