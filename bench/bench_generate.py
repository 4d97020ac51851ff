"""Generation throughput: videos per minute with 1 and 2 local workers on 720p clips, and peak memory per worker.

    .venv/bin/python bench/bench_generate.py [--clips 12] [--seconds 3] [--workers 1 2]

Each configuration runs `s2i generate` as a user would (fresh output folder, default scorers). The rate is taken
from the scores journal between its first and last line, so process start-up is not counted; peak memory is the
largest VmHWM (peak resident set) seen for any worker process, sampled from /proc while the run is going.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SOURCES = ("testsrc2", "mandelbrot", "smptebars", "life=s=1280x720:mold=10:ratio=0.5")
FILTERS = (None, "noise=alls=30:allf=t", "boxblur=3", "eq=brightness=-0.3")


def make_clips(folder: Path, count: int, seconds: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"clip{i:02d}.mp4"
        if path.exists():
            continue
        source = SOURCES[i % len(SOURCES)]
        spec = source if "=" in source else f"{source}=size=1280x720:rate=30"
        args = ["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", spec,
                "-t", str(seconds), "-r", "30"]
        vf = FILTERS[(i // len(SOURCES)) % len(FILTERS)]
        if vf:
            args += ["-vf", vf]
        subprocess.run([*args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)],
                       check=True)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_once(s2i: str, clips: Path, workers: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"bench_gen_w{workers}_"))
    cmd = [s2i, "generate", f"input={clips}", f"output={out}", f"executor.workers={workers}", "progress=false",
           "report=false"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, float] = {}
    stamps: list[tuple[float, int]] = []
    journal = out / ".s2i"

    def sample() -> None:
        while proc.poll() is None:
            for pid in _descendants(proc.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), _hwm_mib(pid))
            lines = sum(f.read_bytes().count(b"\n") for f in journal.glob("scores-*.jsonl")) if journal.exists() else 0
            if not stamps or lines != stamps[-1][1]:
                stamps.append((time.monotonic(), lines))
            time.sleep(0.05)

    thread = threading.Thread(target=sample)
    thread.start()
    _, err = proc.communicate()
    thread.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"s2i generate failed:\n{err.decode()[-2000:]}")
    first = next(s for s in stamps if s[1] > 0)
    last = stamps[-1]
    # n videos finished between the first and last journal line: (n - 1) intervals
    rate = (last[1] - first[1]) / max(1e-9, last[0] - first[0]) * 60 if last[1] > first[1] else float("nan")
    workers_peak = [v for v in peaks.values() if v > 0]
    shutil.rmtree(out, ignore_errors=True)
    return {"workers": workers, "videos": last[1], "per_min": rate,
            "peak_worker_mib": max(sorted(workers_peak)[-workers:]) if workers_peak else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "s2i_bench_720p"))
    args = parser.parse_args()
    clips = Path(args.cache) / f"{args.clips}x{args.seconds:g}s"
    make_clips(clips, args.clips, args.seconds)
    s2i = str(Path(sys.executable).with_name("s2i"))
    rows = [run_once(s2i, clips, w) for w in args.workers]

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"s2i generate on {args.clips} 1280x720 clips of {args.seconds:g} s ({os.cpu_count()} CPUs)")
    for col in ("workers", "videos", "videos/min", "speed-up", "peak RSS per worker (MiB)"):
        table.add_column(col, justify="right")
    base = rows[0]["per_min"]
    for r in rows:
        table.add_row(str(r["workers"]), str(r["videos"]), f"{r['per_min']:.1f}", f"{r['per_min'] / base:.2f}x",
                      f"{r['peak_worker_mib']:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
