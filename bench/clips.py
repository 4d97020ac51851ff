"""Synthetic benchmark clips encoded by ffmpeg from its lavfi test sources (shared by the bench scripts)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCES = ("testsrc2", "mandelbrot", "smptebars")


def lavfi_clip(path: Path, source: str, size: str = "320x240", seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}=size={size}:rate=25",
                    "-t", str(seconds), "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def numbered_clips(folder: Path, count: int, size: str = "320x240", seconds: float = 1.0) -> list[Path]:
    """clip0.mp4, clip1.mp4, ... cycling through the test sources."""
    return [lavfi_clip(folder / f"clip{i}.mp4", SOURCES[i % len(SOURCES)], size, seconds) for i in range(count)]
