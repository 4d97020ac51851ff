"""Print the validation table (rich) and write the plots (matplotlib) and a JSON summary."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from s2i_core.dimensions import BY_NAME
from s2i_core.validate.checks import L_THRESHOLD, Check, crosstalk
from s2i_core.validate.ladders import LADDERS
from s2i_core.validate.runner import Results


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"


def print_table(checks: list[Check], console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Scorer validation on distortion ladders")
    for col in ("dimension", "group", "L: SRCC", "D: drop", "D: separated", "P: pairs", "own drop",
                "worst other (drop)", "worst other (rise)", "pass"):
        table.add_column(col, justify="left" if col in ("dimension", "group") or col.startswith("worst")
                         else "right")
    for c in checks:
        group = BY_NAME[c.dimension].group
        table.add_row(c.dimension, group, f"{c.l_srcc:.3f}" + ("" if c.l_pass else " [red]<" +
                      f"{L_THRESHOLD[group]}[/]"), f"{c.d_drop:.3f}", f"{c.d_separated:.2f}", f"{c.p_agree:.3f}",
                      f"{c.own_drop:.3f}", f"{c.worst_other} ({c.other_drop:.3f})",
                      f"{c.worst_rise} (+{c.other_rise:.3f})" if c.worst_rise else "-", _mark(c.passed))
    (console or Console()).print(table)


def write_summary(results: Results, checks: list[Check], out: Path) -> Path:
    data = {"clips": results.clips, "strengths": results.strengths, "dimensions": results.dimensions,
            "checks": [asdict(c) | {"passed": c.passed} for c in checks],
            "crosstalk": {ladder: dict(zip(results.dimensions, map(float, row)))
                          for ladder, row in zip(results.ladders, crosstalk(results))},
            "scores": results.scores.tolist(), "raw": results.raw.tolist()}
    path = out / "validation.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def plot(results: Results, out: Path) -> Path:
    """Left: each ladder's own score along its rungs, one line per clip. Right: the cross-talk matrix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results.ladders)
    cols = 5
    rows = -(-n // cols)
    fig = plt.figure(figsize=(4 * cols + 7, 2.6 * rows))
    grid = fig.add_gridspec(rows, cols + 2)
    for i, name in enumerate(results.ladders):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        x = (0.0, *results.strengths[name])
        if name in results.dimensions:
            for c, clip in enumerate(results.clips):
                ax.plot(x, results.own(c, name), marker="o", label=clip)
        ax.set_title(f"{name}: {LADDERS[name].distortion}", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=6)
    ax = fig.add_subplot(grid[:, cols:])
    # columns in ladder order, so a good scorer set shows a red diagonal and little else
    order = [d for d in results.ladders if d in results.dimensions]
    order += [d for d in results.dimensions if d not in order]
    drops = crosstalk(results)[:, [results.dimensions.index(d) for d in order]]
    im = ax.imshow(drops, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(np.arange(len(order)), order, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(n), [f"{name} ladder" for name in results.ladders], fontsize=7)
    ax.set_title("score drop from pristine (rows: distortion, columns: scorer)", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    path = out / "validation.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
