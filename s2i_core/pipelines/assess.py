"""Assess one video: scores, levels and the justification, for a person (--json or json=true: the record as JSON)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.dimensions import BY_NAME, DIMENSIONS, GROUPS
from s2i_core.errors import ConfigError
from s2i_core.registry import Registry
from s2i_core.scoring import check_one_scorer_per_dimension, score_video
from s2i_core.sig import derive

POSITIONAL = "video"
FLAGS = {"--json": "json=true"}


def assess(cfg: DictConfig, registry: Registry) -> dict:
    """The record for `cfg.video` (same shape as a line of records.jsonl) or an error row {error, message}."""
    path = Path(str(cfg.video))
    if not path.is_file():
        raise ConfigError(f"video {str(path)!r} does not exist or is not a file")
    scorer_nodes = {name: OmegaConf.to_container(node, resolve=True) for name, node in (cfg.scorers or {}).items()}
    if not scorer_nodes:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    check_one_scorer_per_dimension(scorer_nodes, registry)
    scorers = [registry.build("scorer", scorer_nodes[name]) for name in sorted(scorer_nodes)]
    row = score_video(path, scorers, path.name)
    if not row["ok"]:
        return {"video": str(path), "error": row["error"], "message": row["message"]}
    with tempfile.TemporaryDirectory() as work:  # rewriter journal; one video needs no resume
        records, _, _ = derive.build_records([row], cfg, registry, Path(work))
    record = records[0]
    record["video"] = str(path)
    return record


def run(cfg: DictConfig, registry: Registry) -> int:
    if cfg.model:  # a tuned video LMM scores and explains instead (docs/training.md)
        from s2i_core.lmm.inference import run_assess

        return run_assess(cfg, registry)
    record = assess(cfg, registry)
    if cfg.json:
        print(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False))
        return 1 if "error" in record else 0
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    console = Console()
    if "error" in record:
        console.print(f"[bold red]{record['error']}:[/] {record['message']}", highlight=False)
        return 1
    m = record["meta"]
    table = Table(title=f"{record['video']}  ({m['width']}x{m['height']}, {m['fps']:g} fps, "
                        f"{m['duration_s']:g} s)")
    for col, justify in (("aspect", "left"), ("what it means", "left"), ("score", "right"), ("level", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for group in GROUPS:
        for d in (d for d in DIMENSIONS if d.name in record["dimensions"] and d.group == group):
            node = record["dimensions"][d.name]
            table.add_row(d.name.replace("_", " "), BY_NAME[d.name].definition, f"{node['score']:.3f}",
                          _styled(node["level"]))
        if group in record["groups"]:
            node = record["groups"][group]
            table.add_row(f"[bold]{group}[/]", "group rating", f"{node['score']:.3f}", _styled(node["level"]),
                          end_section=True)
    table.add_row("[bold]overall[/]", "", f"{record['overall']['score']:.3f}", _styled(record["overall"]["level"]))
    console.print(table)
    console.print(Panel(record["justification"], title="justification", expand=False))
    return 0


def _styled(level: str) -> str:
    colour = {"bad": "red", "poor": "dark_orange", "fair": "yellow", "good": "green", "excellent": "bold green"}
    return f"[{colour[level]}]{level}[/]"
