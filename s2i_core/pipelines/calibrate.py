"""Fit the aggregation to MOS on a labelled set (a video,mos CSV), cross-validated against the default.

The fitted parameters are the aggregation's own: dimension weights, exponent, aesthetic share, transparent.
Read top to bottom: (1) read and check the `video,mos` CSV, (2) score every labelled video once with the
selected scorers, caching each row in `output/scores.jsonl` (a rerun or a refit with other fit settings
rescores nothing), (3) k-fold cross-validate the fit against the start (default) aggregation on the same folds,
then fit on every video, (4) write `aggregation.json` (for `s2i generate aggregation.from_file=...`),
`calibration.md`, `calibration.png`, `predictions.csv` and `errors.jsonl`, and print the table.
Exit status 1 when any labelled video could not be scored (listed in errors.jsonl; the fit uses the rest).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import math
import platform
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import Registry
from s2i_core.sig import calibration
from s2i_core.sig.aggregation import Aggregation
from s2i_core.sig.io import Journal, atomic_write_jsonl, atomic_write_text
from s2i_core.sig.progress import progress_bar

MIN_VIDEOS = 6  # fewer cannot hold out a fold and still fit


def run(cfg: DictConfig, registry: Registry) -> int:
    scorer_nodes = {name: OmegaConf.to_container(node, resolve=True) for name, node in (cfg.scorers or {}).items()}
    if not scorer_nodes:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    start = Aggregation.from_config(cfg.aggregation)

    # (1) the labelled set
    labels_path = Path(str(cfg.labels)).resolve()
    root = Path(str(cfg.input)).resolve() if cfg.input else labels_path.parent
    labels = read_labels(labels_path, root)
    mos_range, folds, settings = _fit_options(cfg)
    target, (low, high) = calibration.normalise_mos([mos for _, mos in labels], mos_range)
    target_of = dict(zip((video for video, _ in labels), target))

    # (2) score each labelled video once
    out = Path(job_output_dir(cfg)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = score_labelled(registry, scorer_nodes, root, [video for video, _ in labels], out / "scores.jsonl",
                          cfg.progress)
    errors = [{"video": r["video"], "error": r["error"], "message": r["message"]} for r in rows if not r["ok"]]
    atomic_write_jsonl(out / "errors.jsonl", errors)
    ok = [r for r in rows if r["ok"]]
    if len(ok) < max(MIN_VIDEOS, folds):
        raise ConfigError(f"only {len(ok)} of {len(rows)} labelled videos could be scored (failures in "
                          f"{out / 'errors.jsonl'}); a fit needs at least {max(MIN_VIDEOS, folds)}")
    scores = [{d: v["score"] for d, v in r["scores"].items()} for r in ok]
    y = [target_of[r["video"]] for r in ok]

    # (3) cross-validate, then fit on everything
    cv = calibration.cross_validate(scores, y, start, folds=folds, seed=cfg.seed, **settings)
    fitted, loss = calibration.fit(scores, y, start, seed=cfg.seed, **settings)
    in_sample = {"default": calibration.metrics(calibration.overall_scores(start, scores), y),
                 "fitted": calibration.metrics(calibration.overall_scores(fitted, scores), y)}

    # (4) outputs
    predictions = cv.pop("predictions")
    meta = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "labels": str(labels_path), "input": str(root), "n_videos": len(ok), "n_failed": len(errors),
            "scorers": scorer_nodes, "dimensions": sorted(scores[0]),
            "mos_range": [low, high], "mos_range_from": "config" if mos_range is not None else "labels",
            "start": start.as_config(), "fit": {**settings, "seed": cfg.seed, "loss": loss},
            "cv": cv, "in_sample": in_sample, "versions": _versions()}
    mos_of = dict(labels)
    full = calibration.overall_scores(fitted, scores)
    _write_predictions(out / "predictions.csv", [(r["video"], mos_of[r["video"]], y[i], predictions["default"][i],
                                                  predictions["fitted"][i], full[i]) for i, r in enumerate(ok)])
    table = _summary_rows(cv, in_sample)
    atomic_write_text(out / "calibration.md", _markdown(meta, table, start, fitted, out))
    if cfg.plot:
        _plot(out / "calibration.png", y, predictions, cv)
    calibration.save_fit(out / "aggregation.json", fitted, meta)  # last: its presence means the rest is written
    _print(meta, table, start, fitted, out)
    return 1 if errors else 0


def _fit_options(cfg: DictConfig) -> tuple[list[float] | None, int, dict]:
    """mos_range (None: from the labels), the number of folds and the fit settings, checked."""
    mos_range = None if cfg.mos_range is None else list(cfg.mos_range)
    folds = cfg.folds
    if folds < 2:
        raise ConfigError(f"folds={folds}: cross-validation needs at least 2 folds")
    settings = {"restarts": cfg.restarts, "regularization": cfg.regularization}
    if settings["restarts"] < 0 or settings["regularization"] < 0:
        raise ConfigError(f"restarts={settings['restarts']}, regularization={settings['regularization']}: "
                          "neither may be negative")
    return mos_range, folds, settings


def read_labels(path: Path, root: Path) -> list[tuple[str, float]]:
    """(video, mos) rows of a CSV with columns `video` (relative to `root`, or absolute) and `mos`."""
    if not path.is_file():
        raise ConfigError(f"labels={str(path)!r}: no such file (a CSV with columns video,mos)")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            if not {"video", "mos"} <= set(columns):
                raise ConfigError(f"labels {path}: needs the columns 'video' and 'mos'; found {columns or 'none'}")
            reader.fieldnames = columns
            rows, seen = [], {}
            for record in reader:
                line = reader.line_num
                video, mos = (record.get("video") or "").strip(), (record.get("mos") or "").strip()
                if not video and not mos:
                    continue
                if not video:
                    raise ConfigError(f"labels {path}, line {line}: no video path")
                try:
                    value = float(mos)
                except ValueError:
                    raise ConfigError(f"labels {path}, line {line}: mos {mos!r} is not a number") from None
                if not math.isfinite(value):
                    raise ConfigError(f"labels {path}, line {line}: mos {mos!r} is not a finite number")
                if video in seen:
                    raise ConfigError(f"labels {path}: {video!r} is listed twice (lines {seen[video]} and {line})")
                seen[video] = line
                rows.append((video, value))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"labels {path}: not a readable CSV ({exc})") from exc
    missing = [video for video, _ in rows if not (root / video).is_file()]
    if missing:
        raise ConfigError(f"labels {path}: {len(missing)} video(s) not found under {root} (input=): "
                          f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}")
    if len(rows) < MIN_VIDEOS:
        raise ConfigError(f"labels {path}: {len(rows)} labelled video(s); a fit needs at least {MIN_VIDEOS}")
    return rows


def score_labelled(registry, scorer_nodes: dict, root: Path, videos: list[str], cache: Path,
                   show: bool) -> list[dict]:
    """A scores row per video: from the cache when the file and the scorer settings are unchanged, else scored."""
    from s2i_core.scoring import score_video

    versions = sorted({str(e.provider) for e in registry.entries("scorer").values()})
    settings = f"{json.dumps(scorer_nodes, sort_keys=True)}\n{versions}"
    fingerprint = hashlib.sha256(settings.encode()).hexdigest()[:12]
    journal = Journal(cache)
    done = journal.read()
    stamps = {v: _stamp(root / v) for v in videos}
    todo = [v for v in videos if (done.get(v, {}).get("scorers"), done.get(v, {}).get("stamp"))
            != (fingerprint, stamps[v])]
    if todo:
        scorers = [registry.build("scorer", node) for node in scorer_nodes.values()]
        with journal, progress_bar(show, "scoring labelled videos", len(videos),
                                   completed=len(videos) - len(todo)) as advance:
            for video in todo:
                row = {**score_video(root / video, scorers, video),
                       "scorers": fingerprint, "stamp": stamps[video]}
                journal.append(row)
                done[video] = row
                advance()
    if show:
        print(f"{len(videos) - len(todo)} of {len(videos)} videos' scores reused from {cache}", flush=True)
    return [done[v] for v in videos]


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("score2instruct", "numpy", "scipy"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def _summary_rows(cv: dict, in_sample: dict) -> list[tuple[str, dict]]:
    k = cv["folds"]
    return [("default (start values)", cv["default"]), (f"fitted, {k}-fold cross-validated", cv["fitted"]),
            ("fitted on all videos (in-sample)", in_sample["fitted"])]


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _parameters(start: Aggregation, fitted: Aggregation) -> list[tuple[str, str, str]]:
    rows = [(name, f"{getattr(start, name):g}", f"{getattr(fitted, name):.3f}")
            for name in ("transparent", "exponent", "aesthetic_share")]
    for dim in sorted(fitted.dimension_weights):
        rows.append((f"weight {dim}", f"{start.dimension_weights.get(dim, 1.0):g}",
                     f"{fitted.dimension_weights[dim]:.3f}"))
    return rows


def _markdown(meta: dict, table, start: Aggregation, fitted: Aggregation, out: Path) -> str:
    lines = [f"# Aggregation fit ({meta['created']})", "",
             f"Labels `{meta['labels']}`: {meta['n_videos']} videos scored ({meta['n_failed']} failed), "
             f"MOS range [{meta['mos_range'][0]:g}, {meta['mos_range'][1]:g}] "
             f"(from the {meta['mos_range_from']}), "
             f"scorers: {', '.join(sorted(meta['scorers']))}.", "",
             f"## Agreement with MOS ({meta['cv']['folds']}-fold CV, seed {meta['fit']['seed']}, same folds)", "",
             "| aggregation | SRCC | PLCC | KRCC | RMSE |", "|---|---|---|---|---|"]
    lines += [f"| {name} | " + " | ".join(_fmt(m[k]) for k in ("srcc", "plcc", "krcc", "rmse")) + " |"
              for name, m in table]
    lines += ["", "RMSE is against the MOS normalised to [0, 1], the scale of the overall score.", "",
              "## Parameters", "", "| parameter | start | fitted |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _parameters(start, fitted)]
    lines += ["", "## Use", "", "```bash", f"s2i generate aggregation.from_file={out / 'aggregation.json'} "
              "input=DIR output=DIR", "```", ""]
    return "\n".join(lines)


def _write_predictions(path: Path, rows) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["video", "mos", "mos_normalised", "default", "fitted_cv", "fitted"])
    for video, mos, *values in rows:
        writer.writerow([video, mos, *(f"{v:.6f}" for v in values)])
    atomic_write_text(path, buffer.getvalue())


def _plot(path: Path, y, predictions: dict, cv: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
    for ax, key, title in ((axes[0], "default", "default aggregation"),
                           (axes[1], "fitted", f"fitted ({cv['folds']}-fold CV, held-out predictions)")):
        ax.scatter(predictions[key], y, s=14, alpha=0.75)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="overall score",
               title=f"{title}\nSRCC {_fmt(cv[key]['srcc'])}, PLCC {_fmt(cv[key]['plcc'])}")
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("MOS, normalised to [0, 1]")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def _print(meta: dict, table, start: Aggregation, fitted: Aggregation, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=f"aggregation vs MOS: {meta['n_videos']} videos, {meta['cv']['folds']}-fold CV")
    for col in ("aggregation", "SRCC", "PLCC", "KRCC", "RMSE"):
        summary.add_column(col, justify="left" if col == "aggregation" else "right")
    for name, m in table:
        summary.add_row(name, *(_fmt(m[k]) for k in ("srcc", "plcc", "krcc", "rmse")))
    params = Table(title="parameters")
    for col in ("parameter", "start", "fitted"):
        params.add_column(col, justify="left" if col == "parameter" else "right")
    for row in _parameters(start, fitted):
        params.add_row(*row)
    console.print(summary)
    console.print(params)
    fit = out / "aggregation.json"
    console.print(f"-> {fit}, {out / 'calibration.md'}\nuse it: s2i generate aggregation.from_file={fit} ...",
                  highlight=False, soft_wrap=True)
