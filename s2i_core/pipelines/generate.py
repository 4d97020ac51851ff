"""Score every video under `input` and write the S2I instruction dataset into `output`.

Read top to bottom: (1) choose the videos, (2) phase 1 scores each unfinished video on the executor and appends
one fsync'd line per video to the scores journal (`output/.s2i/scores-<scorer config hash>.jsonl`), (3) phase 2
derives levels, justifications, QA and every output file from the journal, deterministically and atomically.
A killed run (even kill -9) rerun with the same command resumes from the journal and ends byte-identical to an
uninterrupted run. Exit status 1 when any video failed (listed in errors.jsonl), 0 otherwise.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import load_registry
from s2i_core.sig import derive, select
from s2i_core.sig.aggregation import Aggregation
from s2i_core.scoring import check_one_scorer_per_dimension
from s2i_core.sig.calibration import check_scorers
from s2i_core.sig.fidelity import mapping_fidelity
from s2i_core.sig.io import Journal, atomic_write_text, remove_stale_temps
from s2i_core.sig.progress import progress_bar
from s2i_core.sig.work import crash_row, proxy_item, score_item


def run(cfg: DictConfig) -> int:
    summary = generate(cfg)
    from s2i_core.sig.report import print_summary

    print_summary(summary)
    return 1 if summary["counts"]["errors"] else 0


def generate(cfg: DictConfig, output_dir: str | Path | None = None, *, progress: bool | None = None) -> dict:
    """The whole generation, callable from other pipelines. Returns the manifest (a dict) it wrote."""
    out = Path(output_dir or job_output_dir(cfg)).resolve()
    show = bool(cfg.get("progress", True)) if progress is None else progress
    registry = load_registry()
    scorer_nodes = {name: OmegaConf.to_container(node, resolve=True) for name, node in (cfg.scorers or {}).items()}
    if not scorer_nodes:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    for node in scorer_nodes.values():
        registry.get("scorer", node["impl"])  # unknown names fail here, not in every worker
    check_one_scorer_per_dimension(scorer_nodes, registry)
    # A missing or corrupt aggregation.from_file, or a fit made for other dimensions, fails before any scoring.
    aggregation = Aggregation.from_config(cfg.get("aggregation"))
    for warning in check_scorers(aggregation, cfg.get("aggregation"), scorer_nodes, registry):
        _warn(warning)
    if cfg.get("rewriter"):  # a bad rewriter option (retries=-1, an endpoint that is no URL) fails before scoring
        registry.build("rewriter", OmegaConf.to_container(cfg.rewriter, resolve=True))

    # (1) which videos
    root = Path(cfg.input).resolve()
    rels = [p.relative_to(root).as_posix() for p in select.find_videos(root)]
    rels = select.subset(rels, float(cfg.get("fraction", 1.0)), cfg.get("limit"), int(cfg.seed))
    work = out / ".s2i"
    if out.exists():
        remove_stale_temps(out)
    executor = registry.build("executor", cfg.executor)
    try:
        balance_n = int(cfg.get("balance", {}).get("n") or 0)
        if balance_n:
            kind = cfg.balance.get("proxy", "bpp")
            if kind not in ("bpp", "sharpness"):
                raise ConfigError(f"balance.proxy={kind!r}: use bpp or sharpness")
            items = [(str(root / r), r, kind) for r in rels]
            with progress_bar(show, "proxy scores", len(items)) as advance:
                proxies = {}
                for row in executor.imap_unordered(proxy_item, items):
                    proxies[row["video"]] = row["proxy"]
                    advance()
            rels = select.balanced_pick(proxies, balance_n)

        # (2) phase 1: score what the journal does not hold yet
        # Scores are reused only for the same input folder, scorer config and scorer plugin versions, and only
        # while a file's size and mtime are unchanged (its `stamp`).
        scorers_json = json.dumps(scorer_nodes, sort_keys=True)
        scorer_versions = sorted({str(e.provider) for e in registry.entries("scorer").values()})
        fingerprint = hashlib.sha256(f"{root}\n{scorers_json}\n{scorer_versions}".encode()).hexdigest()[:12]
        journal = Journal(work / f"scores-{fingerprint}.jsonl")
        done = journal.read()
        stamps = {r: _stamp(root / r) for r in rels}
        todo = [(str(root / r), r, scorers_json) for r in rels if done.get(r, {}).get("stamp") != stamps[r]]
        with journal, progress_bar(show, "scoring videos", len(rels), completed=len(rels) - len(todo)) as advance:
            for row in executor.imap_unordered(score_item, todo, fn_crash=crash_row):
                row["stamp"] = stamps[row["video"]]
                journal.append(row)
                done[row["video"]] = row
                advance()
    finally:
        executor.close()

    # (3) phase 2: everything else, from the journal alone
    rows = [done[r] for r in rels]
    ok = [r for r in rows if r["ok"]]
    errors = [{"video": r["video"], "error": r["error"], "message": r["message"]} for r in rows if not r["ok"]]
    captions = None
    if (cfg.get("captions") or {}).get("enabled"):
        from s2i_core.sig.captions import caption_videos

        captions = caption_videos(cfg.captions, root, [r["video"] for r in ok], work, show)
    records, rewrite_stats, mapper = derive.build_records(ok, cfg, registry, work, captions)
    files = derive.write_outputs(out, records, errors, cfg, registry)
    manifest = {
        "input": str(root), "output": str(out),
        "config": OmegaConf.to_container(cfg, resolve=True),
        "versions": _versions(registry),
        "counts": {"videos": len(rows), "records": len(records), "errors": len(errors),
                   "qa": sum(len(r["qa"]) for r in records), "qa_by_type": derive.count_qa(records)},
        "errors_by_kind": _by_kind(errors),
        "rewrites": rewrite_stats,
        "level_mapper": {"impl": cfg.level_mapper.impl, "thresholds": mapper.thresholds()},
        "aggregation": aggregation.as_config(),  # the values used, also when they came from a fit file
        "fidelity": mapping_fidelity(records),
        "files": sorted(files + ["report.html", "manifest.json"]),
    }
    if cfg.get("report", True):
        from s2i_core.sig.report import write_report

        write_report(out, root, records, manifest, errors, int(cfg.get("report_examples", 6)),
                     int(cfg.get("report_thumbnails", 500)))
    # The manifest goes last: its presence means every other file of this run is complete.
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _by_kind(errors: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in errors:
        counts[e["error"]] = counts.get(e["error"], 0) + 1
    return dict(sorted(counts.items()))


def _versions(registry) -> dict[str, str]:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for dist in ("score2instruct", "torch", "torchcodec", "numpy", "opencv-python-headless"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    for provider, _ in registry.plugins():
        if provider.dist not in versions and provider.version:
            versions[provider.dist] = provider.version
    return dict(sorted(versions.items()))
