"""The scoring benchmark: one scalar per video from a scorer source, correlated with MOS.

Every labelled video is either scored or listed as failed with its cause; the report states both counts,
so a number can never silently rest on a subset.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from s2i_core.bench import metrics, plots
from s2i_core.bench.datasets import LabeledVideo
from s2i_core.errors import S2IError, VideoError

Predictor = Callable[[Sequence[Path]], list[float]]


def predict_all(items: Sequence[LabeledVideo], predict: Predictor, *, batch: int = 1,
                label: str = "scoring") -> tuple[list[tuple[LabeledVideo, float]], list[dict]]:
    """(item, prediction) pairs and failure rows {video, error, message}, in label-file order."""
    from rich.progress import track

    scored, failed = [], []
    todo = []
    for item in items:
        if item.path.is_file():
            todo.append(item)
        else:
            failed.append({"video": item.key, "error": "missing", "message": f"{item.path}: no such file"})
    chunks = [todo[i:i + max(1, batch)] for i in range(0, len(todo), max(1, batch))]
    for chunk in track(chunks, description=label, transient=True):
        try:
            values = predict([i.path for i in chunk])
        except S2IError as exc:
            if len(chunk) > 1:  # find the culprit instead of failing the whole batch
                for item in chunk:
                    sub_scored, sub_failed = predict_all([item], predict, batch=1, label=label)
                    scored += sub_scored
                    failed += sub_failed
                continue
            kind = exc.kind if isinstance(exc, VideoError) else type(exc).__name__
            failed.append({"video": chunk[0].key, "error": kind, "message": str(exc)})
            continue
        for item, value in zip(chunk, values):
            if value is None or math.isnan(float(value)):
                failed.append({"video": item.key, "error": "nan", "message": "the scorer returned no number"})
            else:
                scored.append((item, float(value)))
    return scored, failed


def report(scored: list[tuple[LabeledVideo, float]], failed: list[dict], out: Path, *, name: str,
           source: str, bootstrap: int = 1000, seed: int = 0) -> dict:
    """Metrics, CIs, predictions.csv, failures.jsonl, scatter.png and metrics.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    pred = [p for _, p in scored]
    mos = [i.mos for i, _ in scored]
    values = metrics.compute(pred, mos) if len(pred) >= 2 else {m: math.nan for m in metrics.METRICS}
    summary = {"dataset": name, "source": source, "videos": len(scored) + len(failed), "scored": len(scored),
               "failed": len(failed), **values,
               "ci95": {k: list(v) for k, v in metrics.bootstrap(pred, mos, samples=bootstrap, seed=seed).items()},
               "bootstrap_samples": bootstrap}
    with open(out / "predictions.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["video", "path", "mos", "prediction"])
        writer.writerows([i.key, str(i.path), i.mos, p] for i, p in scored)
    (out / "failures.jsonl").write_text("".join(json.dumps(f) + "\n" for f in failed))
    if len(pred) >= 2:
        curve = None
        if len(pred) >= 4 and max(pred) > min(pred):
            params = metrics.fit_logistic(pred, mos)
            curve = lambda xs: metrics.logistic4(xs, *params)
        plots.scatter(pred, mos, out / "scatter.png", curve=curve,
                      title=f"{name} / {source}: SRCC {values['srcc']:.3f}, PLCC {values['plcc']:.3f}")
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"scoring: {summary['dataset']} ({summary['source']})")
    for col in ("videos", "scored", "failed", "SRCC", "PLCC", "PLCC raw", "KRCC", "RMSE"):
        table.add_column(col, justify="right")
    ci = summary["ci95"].get("srcc", [math.nan, math.nan])
    table.add_row(str(summary["videos"]), str(summary["scored"]), str(summary["failed"]),
                  f"{summary['srcc']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]", f"{summary['plcc']:.3f}",
                  f"{summary['plcc_raw']:.3f}", f"{summary['krcc']:.3f}", f"{summary['rmse']:.3f}")
    Console().print(table)
