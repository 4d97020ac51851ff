"""Collect the metrics of every job of a multirun (e.g. `s2i ablate -m ...`) into one table and plot; a
multirun of `s2i reproduce` (one job per held-out set of contents) into one table over those folds."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from s2i_core.bench import summary

POSITIONAL = "input"


def run(cfg: DictConfig, registry) -> int:  # noqa: ARG001 - every command gets the registry
    from s2i_core.bench import folds

    jobs = folds.collect(cfg.input) if Path(cfg.input).is_dir() else []
    if jobs:  # reproductions (e.g. `s2i reproduce -m 'held_out=[...],[...]'`): one table over the folds
        from rich.console import Console
        from rich.markdown import Markdown

        table = folds.rows(jobs)
        files = folds.write(jobs, table, Path(cfg.output), title=cfg.title)
        Console().print(Markdown(folds.markdown(jobs, table)))
        print(f"{len(jobs)} reproduction jobs -> " + ", ".join(str(f) for f in files))
        return 0
    rows = summary.collect(cfg.input)
    files = summary.write(rows, Path(cfg.output), title=cfg.title or f"summary of {cfg.input}")
    summary.print_table(rows, cfg.title)
    folded = summary.over_seeds(rows)
    if folded:
        summary.print_table(folded, f"{cfg.title or 'jobs'}: mean and sd over seeds", summary.MEAN_COLUMNS)
    print(f"{len(rows)} jobs -> " + ", ".join(str(f) for f in files))
    return 0
