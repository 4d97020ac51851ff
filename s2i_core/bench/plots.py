"""Figures for benchmark reports (matplotlib, headless)."""

from __future__ import annotations

import math
from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter(pred, mos, path: str | Path, *, title: str = "", curve=None) -> Path:
    """Prediction vs MOS, with the fitted logistic curve when given (a callable over predictions)."""
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(pred, mos, s=12, alpha=0.7)
    if curve is not None and len(pred) > 1:
        xs = np.linspace(min(pred), max(pred), 200)
        ax.plot(xs, curve(xs), color="C3", lw=1.5, label="4-parameter logistic fit")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("prediction")
    ax.set_ylabel("MOS")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def bars(labels: list[str], series: dict[str, list[float]], path: str | Path, *, title: str = "") -> Path:
    """Grouped bars: one group per label (job), one bar per series (metric)."""
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.5, 0.9 * len(labels) + 2), 3.6))
    width = 0.8 / max(1, len(series))
    xs = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(xs + i * width, [0.0 if math.isnan(v) else v for v in values], width, label=name)
    ax.set_xticks(xs + width * (len(series) - 1) / 2, labels, rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
