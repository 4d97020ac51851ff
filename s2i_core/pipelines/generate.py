"""Score every video under `input` and write the S2I instruction dataset into `output`.

Read top to bottom: (1) choose the videos, (2) phase 1 scores each unfinished video on the executor and appends
one fsync'd line per video to the scores journal (`output/.s2i/scores-<scorer config hash>.jsonl`), (3) phase 2
derives levels, justifications, QA and every output file from the journal, deterministically and atomically.
A killed run (even kill -9) rerun with the same command resumes from the journal and ends byte-identical to an
uninterrupted run. Exit status 1 when any video failed (listed in errors.jsonl), 0 otherwise.

One folder, one writer, one config: the run holds `output/.s2i/lock` from before it touches the folder until
its manifest is written (a second run is refused); `manifest.json`, written last, lists every file with its
hash, and outputs an earlier config wrote that this one does not are removed (`s2i_core/sig/manifest.py`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.options import check_bool, check_float, check_int
from s2i_core.registry import Registry
from s2i_core.sig import derive, select
from s2i_core.sig.aggregation import Aggregation
from s2i_core.scoring import check_one_scorer_per_dimension
from s2i_core.sig.calibration import check_scorers
from s2i_core.sig.fidelity import mapping_fidelity
from s2i_core.sig import manifest as dataset_manifest
from s2i_core.sig.io import Journal, remove_stale_temps
from s2i_core.sig.lock import OutputLock
from s2i_core.sig.progress import progress_bar
from s2i_core.sig.work import crash_row, proxy_item, score_item
from s2i_core.versions import resolved_versions
from s2i_core.video import check_decoder


RANGES = {"limit": (1, None), "balance.n": (0, None), "report_examples": (0, None)}  # checked by the CLI too


def run(cfg: DictConfig, registry: Registry) -> int:
    summary = generate(cfg, registry)
    from s2i_core.sig.report import print_summary

    print_summary(summary)
    return 1 if summary["counts"]["errors"] else 0


def generate(cfg: DictConfig, registry: Registry, output_dir: str | Path | None = None, *,
             progress: bool | None = None) -> dict:
    """The whole generation, callable from other pipelines and scripts. Returns the manifest (a dict) it wrote.

    Workers score with the plugins of `registry`, those registered in code included (`Registry.recipe`)."""
    out = Path(output_dir or job_output_dir(cfg)).resolve()
    show = check_bool("progress", cfg.progress) if progress is None else progress
    check_options(cfg)
    registry.recipe()  # a plugin that workers could not rebuild fails here, before any work
    scorer_nodes = {name: OmegaConf.to_container(node, resolve=True) for name, node in (cfg.scorers or {}).items()}
    if not scorer_nodes:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    for node in scorer_nodes.values():
        registry.config("scorer", node)  # unknown names and out-of-range options fail here, not in every worker
    check_one_scorer_per_dimension(scorer_nodes, registry)
    registry.config("executor", cfg.executor)  # its ranges too, before any work
    # A missing or corrupt aggregation.from_file, or a fit made for other dimensions, fails before any scoring.
    aggregation = Aggregation.from_config(cfg.aggregation)
    for warning in check_scorers(aggregation, cfg.aggregation, scorer_nodes, registry):
        _warn(warning)
    if cfg.rewriter:  # a bad rewriter option (retries=-1, an endpoint that is no URL) fails before scoring
        registry.build("rewriter", OmegaConf.to_container(cfg.rewriter, resolve=True))

    # (1) which videos
    root = Path(cfg.input).resolve()
    found, skipped = select.find_videos(root)
    if not found and not skipped:
        raise ConfigError(f"input {str(root)!r} holds no video files (looked for "
                          f"{', '.join(sorted(select.VIDEO_SUFFIXES))})")
    rels = [p.relative_to(root).as_posix() for p in found]
    rels = select.subset(rels, cfg.fraction, cfg.limit, cfg.seed)
    # The decoder must load before any video is tried: otherwise every video would be a decode error.
    decoder_versions = check_decoder()
    with OutputLock(out):
        return _generate(cfg, out, show, registry, scorer_nodes, aggregation, root, rels, skipped,
                         decoder_versions)


def check_options(cfg: DictConfig) -> None:
    """Ranges of the top-level options (their types are the schema's, GenerateConfig; plugin options are
    checked by the registry); also run when another pipeline calls `generate` directly."""
    check_float("fraction", cfg.fraction, 0.0, 1.0, low_open=True)
    check_int("limit", cfg.limit, 1, allow_none=True)
    check_int("balance.n", cfg.balance.n, 0)
    if cfg.balance.proxy not in ("bpp", "sharpness"):
        raise ConfigError(f"balance.proxy={cfg.balance.proxy!r}: use bpp or sharpness")
    check_int("report_examples", cfg.report_examples, 0)
    if not cfg.input:
        raise ConfigError("input= must name a folder of videos")


def _generate(cfg, out: Path, show: bool, registry: Registry, scorer_nodes: dict, aggregation, root: Path,
              rels: list[str], skipped: list[dict], decoder_versions: dict) -> dict:
    work = out / ".s2i"
    remove_stale_temps(out)
    executor = registry.build("executor", cfg.executor)
    try:
        rels = _balanced(cfg, executor, root, rels, show)
        cache = Path(cfg.score_cache).resolve() if cfg.score_cache else None
        done = _score_videos(executor, registry, scorer_nodes, root, rels, cache or work, show, decoder_versions,
                             shared=cache is not None)
    finally:
        executor.close()

    # (3) phase 2: everything else, from the journal alone
    rows = [done[r] for r in rels]
    ok = [r for r in rows if r["ok"]]
    errors = [{"video": r["video"], "error": r["error"], "message": r["message"]} for r in rows if not r["ok"]]
    errors = sorted(errors + skipped, key=lambda e: e["video"])
    captions = None
    if cfg.captions.enabled:
        from s2i_core.sig.captions import caption_videos

        captions = caption_videos(cfg.captions, registry, root, [r["video"] for r in ok], work, show)
    records, rewrite_stats, mapper = derive.build_records(ok, cfg, registry, work, captions)
    # Every file this folder has held is remembered before any is replaced, so a run of another config that
    # is stopped half-way still leaves a list from which the next run removes what it does not write.
    # (A writer's file is remembered right after it returns; if a kill lands in between, the file is simply
    # not in any manifest, and readers refuse it.)
    previous = dataset_manifest.owned_files(out) | {"records.jsonl", "errors.jsonl", "report.html"}
    dataset_manifest.remember_owned(out, previous)
    (out / dataset_manifest.MANIFEST).unlink(missing_ok=True)  # no manifest while the files are being replaced
    files = derive.write_outputs(out, records, errors, cfg, registry)
    dataset_manifest.remember_owned(out, previous | set(files))
    manifest = {
        "input": str(root), "output": str(out),
        "config": OmegaConf.to_container(cfg, resolve=True),
        "versions": {**_versions(registry), "ffmpeg": decoder_versions["ffmpeg"]},
        "counts": {"videos": len(rows) + len(skipped), "records": len(records), "errors": len(errors),
                   "qa": sum(len(r["qa"]) for r in records), "qa_by_type": derive.count_qa(records)},
        "errors_by_kind": _by_kind(errors),
        "rewrites": rewrite_stats,
        "level_mapper": {"impl": cfg.level_mapper.impl, "thresholds": mapper.thresholds()},
        "aggregation": aggregation.as_config(),  # the values used, also when they came from a fit file
        "fidelity": mapping_fidelity(records),
    }
    if cfg.report:
        from s2i_core.sig.report import write_report

        write_report(out, root, records, {**manifest, "files": sorted(files + ["report.html"])}, errors,
                     cfg.report_examples, cfg.report_thumbnails)
        files.append("report.html")
    dataset_manifest.remove_unlisted(out, previous, set(files))
    # The manifest goes last: its presence means every file it lists is complete and of this config.
    manifest = dataset_manifest.write(out, manifest, files)
    dataset_manifest.remember_owned(out, set(files))
    return manifest


def _balanced(cfg, executor, root: Path, rels: list[str], show: bool) -> list[str]:
    """`balance.n` videos picked evenly over a cheap quality proxy, or all of `rels` when balance.n is 0."""
    balance_n = cfg.balance.n
    if not balance_n:
        return rels
    kind = cfg.balance.proxy
    items = [(str(root / r), r, kind) for r in rels]
    with progress_bar(show, "proxy scores", len(items)) as advance:
        proxies = {}
        for row in executor.imap_unordered(proxy_item, items):
            proxies[row["video"]] = row["proxy"]
            advance()
    return select.balanced_pick(proxies, balance_n)


def _score_videos(executor, registry: Registry, scorer_nodes: dict, root: Path, rels: list[str], work: Path,
                  show: bool, decoder_versions: dict, shared: bool = False) -> dict[str, dict]:
    """(2) phase 1: score what the journal does not hold yet; returns the journal's rows by video.
    A `shared` journal (`score_cache`) may be read and appended by several runs at once: it is locked.

    Scores are reused only for the same input folder, scorer config, scorer plugin versions and decoder
    (torchcodec, FFmpeg, torch): a change of any of them starts a fresh journal. Within one journal a score is
    reused while the file's size and mtime are unchanged; an error is retried as soon as anything about the file
    changed (its ctime too: a chmod or chown that may have fixed it)."""
    scorers_json = json.dumps(scorer_nodes, sort_keys=True)
    scorer_versions = sorted({str(e.provider) for e in registry.entries("scorer").values()})
    decoder = json.dumps(decoder_versions, sort_keys=True)
    key = f"{root}\n{scorers_json}\n{scorer_versions}\n{decoder}"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:12]
    journal = Journal(work / f"scores-{fingerprint}.jsonl", shared=shared)
    done = journal.read()
    stamps = {r: _stamp(root / r) for r in rels}
    recipe = registry.recipe()
    todo = [(str(root / r), r, scorers_json, recipe) for r in rels if not _reusable(done.get(r), stamps[r])]
    with journal, progress_bar(show, "scoring videos", len(rels), completed=len(rels) - len(todo)) as advance:
        for row in executor.imap_unordered(score_item, todo, fn_crash=crash_row):
            row["stamp"] = stamps[row["video"]]
            journal.append(row)
            done[row["video"]] = row
            advance()
    return done


def _reusable(row: dict | None, stamp: str) -> bool:
    if row is None:
        return False
    if row["ok"]:
        return row.get("stamp", "").rsplit(":", 1)[0] == stamp.rsplit(":", 1)[0]  # size and mtime
    return row.get("stamp") == stamp


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _stamp(path: Path) -> str:
    """size:mtime:ctime of a video (0:0:0 when it vanished: then its decode fails and says so)."""
    try:
        st = path.stat()
    except OSError:
        return "0:0:0"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _by_kind(errors: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in errors:
        counts[e["error"]] = counts.get(e["error"], 0) + 1
    return dict(sorted(counts.items()))


def _versions(registry) -> dict[str, str]:
    versions = resolved_versions()
    for provider, _ in registry.plugins():
        if provider.dist not in versions and provider.version:
            versions[provider.dist] = provider.version
    return dict(sorted(versions.items()))
