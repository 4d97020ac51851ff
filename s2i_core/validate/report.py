"""Print the validation table (rich) and write the plots (matplotlib) and a JSON summary."""

from __future__ import annotations

import json
import math
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


def finite(value):
    """JSON has no NaN: undefined values (a correlation of a constant) are written as null."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def write_summary(results: Results | None, checks: list[Check], out: Path, extra: dict | None = None) -> Path:
    """validation.json: the ladder checks and scores (when ladders ran) and every extra section given."""
    data = {}
    if results is not None:
        data = {"clips": results.clips, "strengths": results.strengths, "dimensions": results.dimensions,
                "checks": [asdict(c) | {"passed": c.passed} for c in checks],
                "crosstalk": {ladder: dict(zip(results.dimensions, map(float, row)))
                              for ladder, row in zip(results.ladders, crosstalk(results))},
                "scores": results.scores.tolist(), "raw": results.raw.tolist(),
                "references": {name: finite(values) for name, values in results.references.items()}}
    data.update(finite(extra or {}))
    path = out / "validation.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def _corr(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}" if value >= 0 else f"[red]{value:.3f}[/]"


def print_agreement(agreement: dict, console) -> None:
    """One table per reference: SRCC of every key per ladder (pooled over clips) and over all its ladders."""
    from rich.table import Table

    ladders = list(agreement["ladders"])
    title = agreement["reference"].upper()
    if agreement["sign"] < 0:
        title += f" (negated: lower {title} is better)"
    table = Table(title=f"SRCC with {title}")
    table.add_column("score")
    for ladder in ladders:
        table.add_column(f"{ladder} (n={agreement['counts'][ladder]})", justify="right")
    table.add_column(f"pooled (n={agreement['pooled_count']})", justify="right")
    table.add_column("within clip (mean)", justify="right")
    for key in agreement["pooled"]:
        name = f"[bold]{key}[/]" if key in ("technical", "aesthetic", "overall") else key
        table.add_row(name, *(_corr(agreement["ladders"][lad][key]) for lad in ladders),
                      _corr(agreement["pooled"][key]), _corr(agreement["within_clip"][key]))
    console.print(table)


def print_health(health: list[dict], auc: dict, console) -> None:
    from rich.table import Table

    table = Table(title=f"Ladder health; AUC: pristine vs the {auc['rungs']} strongest rung(s), overall score")
    for col in ("ladder", "own drop at rung 1", "saturated", "overall drop at rung 1", "largest rise (other)",
                "AUC"):
        table.add_column(col, justify="left" if col in ("ladder", "largest rise (other)") else "right")
    for row in health:
        share, overall_share = row["first_rung_share"], row["overall_first_rung_share"]
        table.add_row(row["ladder"], "-" if math.isnan(share) else f"{share:.0%}",
                      "[yellow]yes[/]" if row["saturated"] else "no",
                      "-" if math.isnan(overall_share) else f"{overall_share:.0%}",
                      f"{row['largest_rise']} (+{row['rise']:.3f})" if row["largest_rise"] else "-",
                      _corr(auc["ladders"][row["ladder"]]))
    console.print(table)
    line = (f"AUC of the overall score, {auc['pristine']} pristine clips vs {auc['distorted']} strongly distorted "
            f"rungs of all ladders and contents: {auc['overall']:.3f}")
    for name, ref in auc["references"].items():
        line += (f"\n  on the {name} ladders: {name.upper()} {ref['overall']:.3f}, the teacher "
                 f"{ref['teacher_on_same_ladders']:.3f}")
    console.print(line)


def print_content(content: dict, console, limit: int = 20) -> None:
    from rich.table import Table

    table = Table(title=f"False alarms on {content['clips']} clean clip(s): ratings at poor/bad (equal_width)")
    for col in ("score", "alarms", "share"):
        table.add_column(col, justify="left" if col == "score" else "right")
    for key, row in content["keys"].items():
        table.add_row(key, str(row["alarms"]), f"{row['share']:.0%}")
    table.add_row("[bold]all dimensions[/]", f"{content['alarms']}/{content['ratings']}",
                  f"{content['share']:.1%}")
    console.print(table)
    for alarm in content["list"][:limit]:
        console.print(f"  {alarm['video']}: {alarm['dimension']} {alarm['level']} ({alarm['score']:.3f})",
                      highlight=False)
    if len(content["list"]) > limit:
        console.print(f"  ... {len(content['list']) - limit} more in validation.json")
    for failed in content["failed"]:
        console.print(f"  [red]not scored[/] {failed['video']}: {failed['error']}", highlight=False)


def print_labels(labels: dict, console) -> None:
    from rich.table import Table

    table = Table(title=f"Agreement with human MOS on {labels['videos']} labelled clip(s)")
    for col in ("score", "SRCC", "PLCC"):
        table.add_column(col, justify="left" if col == "score" else "right")
    for key, row in labels["metrics"].items():
        table.add_row(key, _corr(row["srcc"]), _corr(row["plcc"]))
    console.print(table)


def plot_references(values: np.ndarray, keys: list[str], results: Results, out: Path) -> Path:
    """Overall score against each reference on its ladders, one colour per ladder."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from s2i_core.validate.agreement import SIGN

    names = list(results.references)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    overall = values[..., keys.index("overall")]
    for ax, name in zip(axes[0], names):
        ref = results.references[name]
        for k, ladder in enumerate(results.ladders):
            mask = np.isfinite(ref[:, k])
            if mask.any():
                ax.scatter(ref[:, k][mask], overall[:, k][mask], s=14, label=ladder)
        ax.set_xlabel(name.upper() + (" (lower is better)" if SIGN[name] < 0 else ""))
        ax.set_ylabel("overall score")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "references.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
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
