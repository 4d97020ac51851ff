"""Collect the metrics of every job of a multirun (e.g. `s2i ablate -m ...`) into one table and plot."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from s2i_core.bench import summary

POSITIONAL = "input"


def run(cfg: DictConfig) -> int:
    rows = summary.collect(cfg.input)
    files = summary.write(rows, Path(cfg.output), title=cfg.title or f"summary of {cfg.input}")
    summary.print_table(rows, cfg.title)
    print(f"{len(rows)} jobs -> " + ", ".join(str(f) for f in files))
    return 0
