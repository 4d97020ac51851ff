"""Shared test fixtures: real videos encoded by ffmpeg, fresh registries, CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
S2I = str(Path(sys.executable).with_name("s2i"))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def make_video(path: Path, *, source: str = "testsrc2", size: str = "160x120", rate: int = 25,
               seconds: float = 1.0, vf: str | None = None, codec: str = "libx264",
               extra: tuple[str, ...] = ()) -> Path:
    """Encode a real video with ffmpeg from a lavfi source (testsrc2, mandelbrot, smptebars, ...; options after
    the name as lavfi writes them: `life=seed=7` fixes a random source)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = f"size={size}:rate={rate}"
    source = f"{source}:{options}" if "=" in source else f"{source}={options}"
    args = ["-f", "lavfi", "-i", source, "-t", str(seconds)]
    if vf:
        args += ["-vf", vf]
    pix = [] if codec in ("mpeg4",) else ["-pix_fmt", "yuv420p"]
    ffmpeg(*args, "-c:v", codec, *pix, *extra, str(path))
    return path


@pytest.fixture
def video_factory(tmp_path):
    def factory(name: str = "clip.mp4", **kwargs) -> Path:
        return make_video(tmp_path / name, **kwargs)

    return factory


def two_clip_instructions(root: Path) -> str:
    """The smallest instruction data the training tests run on: two 0.5 s clips under `root / "in"` (a test
    pattern rated good, a fractal rated poor) and their stage I/II files in `root / "data"` (returned)."""
    from lmm_helpers import write_instructions

    make_video(root / "in" / "a.mp4", size="96x72", seconds=0.5)
    make_video(root / "in" / "b.mp4", source="mandelbrot", size="96x72", seconds=0.5)
    return write_instructions(str(root / "data"), str(root / "in"), {"a.mp4": "good", "b.mp4": "poor"})


def run_s2i(*args: str, cwd: Path | None = None, check: bool = False, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would."""
    proc = subprocess.run([S2I, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"s2i {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def kill_env(stage: int, step: int) -> dict:
    """Environment for a process to be killed with SIGKILL right after step `step` of training stage `stage`
    (tests/faults/sitecustomize.py); the child keeps this process's import path behind the fault folder."""
    path = [str(REPO / "tests" / "faults"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path), "S2I_TEST_KILL_AT": f"{stage}:{step}"}


@pytest.fixture(scope="session")
def have_ffmpeg():
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is required (scripts/setup.sh installs it)")
